import { resolveOptions, type APIToolkitOptions, type ResolvedConfig } from "./config/options.js";
import { type Transport } from "./delivery/transport.js";
import { WARNINGS, type WarningCode } from "./registry/codes.js";
import { DROP_WARNINGS, type DropReason } from "./registry/drops.js";
import { matchesAny } from "./config/match.js";
import { onErrorOutsideRequest } from "./capture/errors.js";
import { rulesOf, type RuleSet } from "./redact/rules.js";
import { startOutgoing } from "./capture/outgoing/index.js";
import { attachSink, type CaptureSink } from "./capture/sink.js";
import type { Exchange } from "./capture/exchange.js";
import { renderBody } from "./redact/body.js";
import { fetchClientMetadata } from "./transport/pubsub/bootstrap.js";
import { backoffMs } from "./delivery/backoff.js";
import { Delivery } from "./delivery/delivery.js";
import { serializeExchange, stampProjectId } from "./wire/serialize.js";
import { createPubSubTransport } from "./transport/pubsub/pubsub.js";
import { newStats, type Stats } from "./delivery/stats.js";

const DEBUG_SUMMARY_INTERVAL_MS = 60_000;


/**
 * The APIToolkit client: validates options once, bootstraps in the background, and delivers the
 * exchanges that framework integrations capture. One per process is typical.
 *
 * @example
 * import { APIToolkit } from "apitoolkit-node";
 * const apitoolkit = new APIToolkit({ apiKey: process.env.APITOOLKIT_KEY, redactRequestBody: ["$.password"] });
 * app.use(expressMiddleware(apitoolkit));
 * process.on("SIGTERM", async () => { await apitoolkit.close(); process.exit(0); });
 */
export class APIToolkit {
  readonly #config: ResolvedConfig;
  readonly #stats: Stats = newStats();
  readonly #delivery: Delivery;
  readonly #warned = new Set<string>();
  readonly #rules: RuleSet;
  #capturing: boolean;
  #closed = false;
  #closing: Promise<void> | undefined;
  #bootstrapTimer: NodeJS.Timeout | undefined;
  #summaryTimer: NodeJS.Timeout | undefined;
  #transport: Transport | undefined;
  #stopOutgoing: () => void = () => undefined;
  #stopOutsideCount: () => void = () => undefined;

  /** Throws APIToolkitConfigError on invalid options (and only here). Returns at once: bootstrap runs in the background. */
  constructor(options?: APIToolkitOptions) {
    this.#config = resolveOptions(options);
    const cfg = this.#config;
    this.#rules = { headers: cfg.redactHeaders, request: cfg.requestPaths, response: cfg.responsePaths };
    this.#delivery = new Delivery({
      maxQueueBytes: cfg.maxQueueBytes,
      maxBatchMessages: cfg.maxBatchMessages,
      maxBatchBytes: cfg.maxBatchBytes,
      publishIntervalMs: cfg.publishIntervalMs,
      stats: this.#stats,
      build: (ex) => serializeExchange(ex, cfg, rulesOf(ex) ?? this.#rules),
      stamp: stampProjectId,
      onDrop: (reason, count, detail) => this.#onDrop(reason, count, detail),
      onRetry: (err, delay) => {
        this.#warnOnce("W_PUBLISH_FAILED", err);
        this.#debug(`publish failed (${describe(err)}); retrying in ${delay} ms`);
      },
      debug: cfg.debug ? (line) => this.#debug(line) : undefined,
    });
    const isCapturing = () => this.#capturing;
    const sink: CaptureSink = {
      config: cfg,
      get capturing() {
        return isCapturing();
      },
      accept: (ex) => this.#accept(ex),
      warnOnce: (code, detail) => this.#warnOnce(code, detail),
      captureFailed: (err) => this.#captureFailed(err),
      flush: (timeoutMs) => this.flush(timeoutMs),
      ignores: (path) => matchesAny(cfg.ignorePaths, path),
    };
    attachSink(this, sink);
    if (!cfg.apiKey && !cfg.transport) {
      this.#capturing = false;
      this.#stats.state = "disabled";
      this.#warnOnce("W_NO_API_KEY");
      return;
    }
    this.#capturing = true;
    this.#stopOutsideCount = onErrorOutsideRequest(() => {
      this.#stats.errorsOutsideRequest++;
      if (cfg.debug) this.#warnOnce("W_REPORT_ERROR_OUTSIDE_REQUEST");
    });
    if (cfg.debug) {
      this.#debug(`starting; rootURL=${cfg.rootURL}; redacting headers [${[...cfg.redactHeaders].join(", ")}], ` +
        `${cfg.requestPaths.size} request and ${cfg.responsePaths.size} response body path(s)`);
      this.#summaryTimer = setInterval(() => this.#debug(summaryLine(this.#stats)), DEBUG_SUMMARY_INTERVAL_MS);
      this.#summaryTimer.unref();
    }
    try {
      this.#stopOutgoing = startOutgoing(sink);
    } catch (err) {
      this.#warnOnce("W_CAPTURE_FAILED", err);
    }
    void this.#bootstrap(0);
  }

  /** A snapshot of the delivery counters: captured, published, dropped by reason, queue, retries. */
  stats(): Stats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  /**
   * Resolve once everything captured so far is published (true) or when `timeoutMs` passes (false).
   * Never rejects.
   * @example await apitoolkit.flush(2000);
   */
  async flush(timeoutMs: number = this.#config.flushTimeoutMs): Promise<boolean> {
    try {
      return await this.#delivery.flush(timeoutMs);
    } catch {
      return false;
    }
  }

  /**
   * Flush, then stop capturing and release the Pub/Sub client, all within `timeoutMs` (a transport
   * that is slow to close goes on closing in the background). What could not be published in time,
   * and what finishes after, is counted as dropped (`shutdown`). Never rejects; a second call
   * returns the first one's promise.
   * @example process.on("SIGTERM", () => apitoolkit.close(3000).then(() => process.exit(0)));
   */
  close(timeoutMs: number = this.#config.flushTimeoutMs): Promise<void> {
    return (this.#closing ??= this.#close(timeoutMs));
  }

  async #close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    try {
      await this.flush(timeoutMs);
    } catch {
      /* bounded anyway */
    }
    this.#closed = true;
    this.#capturing = false;
    this.#stats.state = "closed";
    if (this.#bootstrapTimer) clearTimeout(this.#bootstrapTimer);
    if (this.#summaryTimer) clearInterval(this.#summaryTimer);
    this.#stopOutsideCount();
    try {
      this.#stopOutgoing();
    } catch {
      /* never throw from close */
    }
    const transport = this.#delivery.shutdown() ?? this.#transport;
    if (transport) await withTimeout(closeQuietly(transport), Math.max(0, deadline - Date.now()));
    this.#debug(`closed; ${summaryLine(this.#stats)}`);
  }

  /**
   * Show what the body redaction rules would send for a sample body (to test rules before deploying).
   * @example apitoolkit.previewRedaction("request", { user: { password: "x" } }) // => '{"user":{"password":"[CLIENT_REDACTED]"}}'
   */
  previewRedaction(kind: "request" | "response", body: unknown, contentType = "application/json"): string {
    const paths = kind === "request" ? this.#config.requestPaths : this.#config.responsePaths;
    const captured = typeof body === "string" || Buffer.isBuffer(body)
      ? { chunks: [Buffer.from(body as string)], keptBytes: Buffer.byteLength(body as string), totalBytes: Buffer.byteLength(body as string) }
      : { chunks: [], keptBytes: 0, totalBytes: 0, parsed: body };
    return renderBody(captured, contentType, undefined, paths, Number.MAX_SAFE_INTEGER).toString("utf8");
  }

  #accept(ex: Exchange): void {
    try {
      // Disabled from the start (no key, no transport): nothing is captured, so nothing is lost.
      // After a 401 or close(), exchanges still in flight go on to be counted (invalid_api_key, shutdown).
      if (!this.#config.apiKey && !this.#config.transport) return;
      const rate = this.#config.sampleRate;
      if (rate < 1 && ex.statusCode < 500 && ex.errors.length === 0 && Math.random() >= rate) {
        this.#stats.sampledOut++;
        return;
      }
      this.#delivery.enqueue(ex);
    } catch (err) {
      this.#captureFailed(err);
    }
  }

  #captureFailed(err: unknown): void {
    this.#stats.dropped.capture_failed++;
    this.#onDrop("capture_failed", 1, err);
  }

  async #bootstrap(attempt: number): Promise<void> {
    if (this.#closed) return;
    const cfg = this.#config;
    let result: Awaited<ReturnType<typeof fetchClientMetadata>>;
    if (cfg.transport && !cfg.apiKey) {
      result = { kind: "ok", metadata: { project_id: "00000000-0000-4000-8000-000000000000", pubsub_project_id: "local", topic_id: "local", pubsub_push_service_account: {} } };
    } else {
      this.#debug(`bootstrap: GET ${cfg.rootURL}/api/client_metadata (attempt ${attempt + 1})`);
      result = await fetchClientMetadata(cfg.rootURL, cfg.apiKey!, cfg.bootstrapTimeoutMs);
    }
    if (this.#closed) return;
    if (result.kind === "unauthorized") {
      this.#warnOnce("W_INVALID_API_KEY", `HTTP ${result.status}`);
      this.#capturing = false;
      this.#stats.state = "disabled";
      this.#delivery.disable("invalid_api_key");
      return;
    }
    if (result.kind === "bad_response") {
      this.#warnOnce("W_BOOTSTRAP_BAD_RESPONSE", result.reason);
      return this.#retryBootstrap(attempt, `unusable client_metadata body: ${result.reason}`);
    }
    if (result.kind === "retry") {
      this.#warnOnce("W_BOOTSTRAP_RETRY", result.reason);
      return this.#retryBootstrap(attempt, result.reason);
    }
    const metadata = result.metadata;
    try {
      const transport = cfg.transport
        ? await cfg.transport(metadata)
        : await createPubSubTransport(metadata, cfg.publishTimeoutMs);
      if (this.#closed) {
        await closeQuietly(transport);
        return;
      }
      this.#transport = transport;
      this.#stats.state = "ready";
      this.#debug(`bootstrap done: project ${metadata.project_id}, topic projects/${metadata.pubsub_project_id}/topics/${metadata.topic_id}`);
      this.#delivery.start(transport, metadata.project_id);
    } catch (err) {
      this.#warnOnce("W_TRANSPORT_INIT_FAILED", err);
      this.#retryBootstrap(attempt, describe(err));
    }
  }

  #retryBootstrap(attempt: number, reason: string): void {
    const delay = backoffMs(attempt, 1000, 60_000);
    this.#debug(`bootstrap: ${reason}; retrying in ${delay} ms`);
    this.#bootstrapTimer = setTimeout(() => void this.#bootstrap(attempt + 1), delay);
    this.#bootstrapTimer.unref();
  }

  /** Every drop, already counted in stats: its reason's one-time warning, and a debug line. */
  #onDrop(reason: DropReason, count: number, detail?: unknown): void {
    this.#warnOnce(DROP_WARNINGS[reason], detail);
    this.#debug(`dropped ${count} (${reason})`);
  }

  #warnOnce(code: WarningCode, detail?: unknown): void {
    try {
      if (this.#warned.has(code)) return;
      this.#warned.add(code);
      const extra = detail === undefined ? "" : ` (${describe(detail)})`;
      this.#config.logger.warn(`[apitoolkit] ${code}: ${WARNINGS[code]}${extra}`);
    } catch {
      /* a broken logger must not break the app */
    }
  }

  #debug(line: string): void {
    if (!this.#config.debug) return;
    try {
      this.#config.logger.info(`[apitoolkit] ${line}`);
    } catch {
      /* ignore */
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return String(err).slice(0, 300);
}

function summaryLine(s: Stats): string {
  const drops = Object.entries(s.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(" ") || "none";
  return `captured=${s.captured} published=${s.published} dropped: ${drops}; queue=${s.queueItems} items/${s.queueBytes} B; retries=${s.retries}; state=${s.state}`;
}

/** A transport's close(), which must not reject, made safe for one that throws or rejects anyway. */
function closeQuietly(transport: Transport): Promise<void> {
  return Promise.resolve()
    .then(() => transport.close())
    .catch(() => undefined);
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms); // ref'd: an awaited close() must settle even if nothing else runs
    p.then(() => {
      clearTimeout(t);
      resolve();
    }, () => {
      clearTimeout(t);
      resolve();
    });
  });
}

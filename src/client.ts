import { resolveOptions, type APIToolkitOptions, type IgnoreRequestInfo, type ResolvedConfig } from "./config/options.js";
import { type Transport } from "./delivery/transport.js";
import { WARNINGS, type WarningCode } from "./registry/codes.js";
import { DROP_WARNINGS, type DropReason } from "./registry/drops.js";
import { matchesAny } from "./config/match.js";
import { onErrorOutsideRequest } from "./capture/errors.js";
import { rulesOf, type PreviewOptions, type RedactionEntry, type RedactionReport, type RuleSet } from "./redact/rules.js";
import type { Tally } from "./redact/values.js";
import { startOutgoing } from "./capture/outgoing/index.js";
import { attachSink, type CaptureSink } from "./capture/sink.js";
import type { Exchange } from "./capture/exchange.js";
import { renderBody } from "./redact/body.js";
import { fetchClientMetadata } from "./transport/pubsub/bootstrap.js";
import { backoffMs } from "./delivery/backoff.js";
import { Delivery } from "./delivery/delivery.js";
import { PROJECT_ID_PLACEHOLDER, serializeExchange, stampProjectId } from "./wire/serialize.js";
import { createPubSubTransport } from "./transport/pubsub/pubsub.js";
import { createOtlpTransport } from "./transport/otlp/otlp.js";
import { newStats, type Stats } from "./delivery/stats.js";
import type { ViewerServer } from "./viewer/index.js";

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
  /** The live viewer (option `viewer`): its module is imported only when the option is set. */
  #viewer: Promise<ViewerServer | undefined> | undefined;

  /** Throws APIToolkitConfigError on invalid options (and only here). Returns at once: bootstrap runs in the background. */
  constructor(options?: APIToolkitOptions) {
    this.#config = resolveOptions(options);
    const cfg = this.#config;
    this.#rules = cfg.redaction;
    this.#delivery = new Delivery({
      maxQueueBytes: cfg.maxQueueBytes,
      maxBatchMessages: cfg.maxBatchMessages,
      maxBatchBytes: cfg.maxBatchBytes,
      publishIntervalMs: cfg.publishIntervalMs,
      stats: this.#stats,
      build: (ex, projectId, alloc) => serializeExchange(ex, cfg, rulesOf(ex) ?? this.#rules, this.#tally, projectId, alloc),
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
      defer: (task) => this.#defer(task),
      warnOnce: (code, detail) => this.#warnOnce(code, detail),
      captureFailed: (err) => this.#captureFailed(err),
      flush: (timeoutMs) => this.flush(timeoutMs),
      ignores: (path) => matchesAny(cfg.ignorePaths, path),
      ignoreRequest: cfg.ignoreRequest === undefined ? undefined : (method, url, headers) => this.#ignoreRequest(method, url, headers),
    };
    attachSink(this, sink);
    if (!cfg.enabled) {
      // enabled: false (or APITOOLKIT_DISABLED): a pass-through SDK. No viewer, no bootstrap, no
      // outgoing capture, no timer, no socket; integrations see `capturing` false and step aside.
      this.#capturing = false;
      this.#stats.state = "disabled";
      this.#debug("disabled (option enabled: false or env APITOOLKIT_DISABLED): capturing nothing");
      return;
    }
    if (cfg.otlp?.warnings.length) this.#warnOnce("W_OTLP_ENV_INVALID", cfg.otlp.warnings.join("; "));
    if (cfg.viewer) this.#viewer = this.#startViewer(options);
    if (!cfg.apiKey && !cfg.transport && !cfg.viewer && !keylessOtlp(cfg)) {
      this.#capturing = false;
      this.#stats.state = "disabled";
      this.#warnOnce("W_NO_API_KEY");
      return;
    }
    this.#capturing = true;
    if (cfg.delivery === "otlp" && cfg.otlp?.resourceError !== undefined) this.#warnOnce("W_RESOURCE_ATTRIBUTES_INVALID", cfg.otlp.resourceError);
    this.#stopOutsideCount = onErrorOutsideRequest((kind) => {
      if (kind === "identity") {
        this.#stats.identityOutsideRequest++;
        if (cfg.debug) this.#warnOnce("W_IDENTITY_OUTSIDE_REQUEST");
        return;
      }
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
    if (this.#finished.length > 0) this.#enqueueFinished(); // counted as captured (or dropped) from the moment they finished
    return { ...this.#stats, dropped: { ...this.#stats.dropped }, redactions: { ...this.#stats.redactions } };
  }

  /**
   * Resolve once everything captured so far is published (true) or when `timeoutMs` passes (false).
   * Never rejects.
   * @example await apitoolkit.flush(2000);
   */
  async flush(timeoutMs: number = this.#config.flushTimeoutMs): Promise<boolean> {
    try {
      // Exchanges whose hand-over is deferred to the next check phase (Web responses): one
      // setImmediate queued now runs after theirs (FIFO), so they are enqueued before the flush.
      if (this.#deferred.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#finished.length > 0) this.#enqueueFinished(); // finished node:http exchanges waiting for the check phase (see #accept)
      return await this.#delivery.flush(timeoutMs);
    } catch {
      return false;
    }
  }

  /**
   * Flush, then stop capturing and release the Pub/Sub publisher, all within `timeoutMs` (a transport
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
    const viewer = this.#viewer;
    this.#viewer = undefined;
    if (viewer) await withTimeout(viewer.then((v) => v?.close()), Math.max(0, deadline - Date.now()));
    this.#debug(`closed; ${summaryLine(this.#stats)}`);
  }

  /**
   * Where the live viewer (option `viewer`) serves its page, once it listens, e.g.
   * `http://127.0.0.1:7070/`. Undefined when the viewer is off, could not start, or after close().
   * Never rejects.
   * @example
   * const apitoolkit = new APIToolkit({ viewer: { port: 7070 } });
   * console.log(`watch the traffic at ${await apitoolkit.viewerURL()}`);
   */
  async viewerURL(): Promise<string | undefined> {
    return (await this.#viewer)?.url;
  }

  /**
   * Show what the body redaction rules (paths and value detectors) would send for a sample body,
   * to test rules before deploying. With `{ report: true }`, also which rule matched where (paths
   * and counts, never the values).
   * @example apitoolkit.previewRedaction("request", { user: { password: "x" } }) // => '{"user":{"password":"[CLIENT_REDACTED]"}}'
   * @example apitoolkit.previewRedaction("request", { user: { password: "x" } }, { report: true })
   * // => { body: '{"user":{"password":"[CLIENT_REDACTED]"}}', redactions: [{ rule: "body:$.user.password", where: "$['user']['password']", count: 1 }] }
   */
  previewRedaction(kind: "request" | "response", body: unknown, contentType?: string): string;
  previewRedaction(kind: "request" | "response", body: unknown, options: PreviewOptions & { report: true }): RedactionReport;
  previewRedaction(kind: "request" | "response", body: unknown, options?: PreviewOptions): string;
  previewRedaction(kind: "request" | "response", body: unknown, options?: string | PreviewOptions): string | RedactionReport {
    const opts: PreviewOptions = typeof options === "object" && options !== null ? options : { contentType: options };
    const contentType = opts.contentType ?? "application/json";
    const rules = this.#rules;
    const paths = kind === "request" ? rules.request : rules.response;
    const captured = typeof body === "string" || Buffer.isBuffer(body)
      ? { chunks: [Buffer.from(body as string)], keptBytes: Buffer.byteLength(body as string), totalBytes: Buffer.byteLength(body as string) }
      : { chunks: [], keptBytes: 0, totalBytes: 0, parsed: body };
    if (opts.report !== true) {
      return renderBody(captured, contentType, undefined, paths, Number.MAX_SAFE_INTEGER, { values: rules.values }).toString("utf8");
    }
    const entries = new Map<string, RedactionEntry>();
    const tally: Tally = (rule, count, where = "$") => {
      const key = `${rule}\u0000${where}`;
      const entry = entries.get(key);
      if (entry) entry.count += count;
      else entries.set(key, { rule, where, count });
    };
    const named = kind === "request" ? rules.named?.request : rules.named?.response;
    const out = renderBody(captured, contentType, undefined, paths, Number.MAX_SAFE_INTEGER, { values: rules.values, named, tally, report: true });
    return { body: out.toString("utf8"), redactions: [...entries.values()] };
  }

  /** Counts every redaction by rule (stats().redactions); logs, in debug mode, the first time each rule fires (never the value). */
  readonly #tally: Tally = (rule, count) => {
    const counts = this.#stats.redactions;
    const before = counts[rule];
    counts[rule] = (before ?? 0) + count;
    if (before === undefined) this.#debug(`redaction rule ${rule} fired for the first time`);
  };

  /** Hand-overs waiting for the next check phase (see CaptureSink.defer); one setImmediate per turn. */
  #deferred: Array<() => void> = [];

  #defer(task: () => void): void {
    if (this.#deferred.push(task) === 1) setImmediate(this.#runDeferred);
  }

  readonly #runDeferred = (): void => {
    const tasks = this.#deferred;
    this.#deferred = [];
    for (const task of tasks) {
      try {
        task();
      } catch (err) {
        this.#captureFailed(err);
      }
    }
  };

  #accept(ex: Exchange): void {
    try {
      // Disabled from the start (no key, no transport): nothing is captured, so nothing is lost.
      // After a 401 or close(), exchanges still in flight go on to be counted (invalid_api_key, shutdown).
      if (!this.#config.apiKey && !this.#config.transport && !this.#config.viewer && !keylessOtlp(this.#config)) return;
      const verdict = this.#config.sample === undefined ? undefined : this.#sample(ex);
      if (verdict === false) {
        this.#stats.sampledOut++;
        return;
      }
      const rate = this.#config.sampleRate;
      if (verdict === undefined && rate < 1 && ex.statusCode < 500 && ex.errors.length === 0 && Math.random() >= rate) {
        this.#stats.sampledOut++;
        return;
      }
      // Built in the check phase, all of a loop turn's exchanges in one run, rather than at each
      // response's finish between the framework's work on other requests: the message building
      // (capture/wire, redaction) stays warm in the CPU's caches across the run, and so does the
      // framework's own code across its requests.
      if (this.#finished.push(ex) === 1) setImmediate(this.#enqueueFinished);
    } catch (err) {
      this.#captureFailed(err);
    }
  }

  /** Exchanges accepted since the last check phase, to be built and queued there. */
  #finished: Exchange[] = [];

  readonly #enqueueFinished = (): void => {
    const finished = this.#finished;
    this.#finished = [];
    for (let i = 0; i < finished.length; i++) this.#delivery.enqueue(finished[i]!); // enqueue never throws
  };

  /** The `sample` option's verdict on a finished exchange; a throw or an answer that is not a boolean is undefined (sampleRate decides). */
  #sample(ex: Exchange): boolean | undefined {
    try {
      const q = ex.rawUrl.search(/[?#]/);
      const verdict = this.#config.sample!({
        method: ex.method,
        route: ex.urlPath ?? "",
        path: q < 0 ? ex.rawUrl : ex.rawUrl.slice(0, q),
        statusCode: ex.statusCode,
        durationMs: ex.durationNs / 1e6,
        errors: ex.errors.slice(),
        outgoing: ex.sdkType.endsWith("Outgoing"),
      });
      return verdict === true || verdict === false ? verdict : undefined;
    } catch (err) {
      this.#warnOnce("W_SAMPLE_FAILED", err);
      return undefined;
    }
  }

  /** The `ignoreRequest` option at a request's start; a throw is warned once and captures the request. */
  #ignoreRequest(method: string, url: string, headers: IgnoreRequestInfo["headers"]): boolean {
    try {
      return this.#config.ignoreRequest!({ method: method.toUpperCase(), url, headers }) === true;
    } catch (err) {
      this.#warnOnce("W_IGNORE_REQUEST_FAILED", err);
      return false;
    }
  }

  #captureFailed(err: unknown): void {
    this.#stats.dropped.capture_failed++;
    this.#onDrop("capture_failed", 1, err);
  }

  async #bootstrap(attempt: number): Promise<void> {
    if (this.#closed) return;
    const cfg = this.#config;
    if (cfg.otlp) return this.#startOtlp(attempt);
    let result: Awaited<ReturnType<typeof fetchClientMetadata>>;
    if (!cfg.apiKey) { // a transport or the viewer, no Pub/Sub: nothing to bootstrap
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
      const inner = cfg.transport
        ? await cfg.transport(metadata)
        : cfg.apiKey ? createPubSubTransport(metadata, cfg.publishTimeoutMs) : undefined;
      const transport = await this.#teeViewer(inner);
      if (this.#closed) {
        if (transport) await closeQuietly(transport);
        return;
      }
      if (!transport) {
        // Viewer only, and it could not start (warned): nowhere to deliver.
        this.#capturing = false;
        this.#stats.state = "disabled";
        this.#delivery.disable("shutdown");
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

  /** Load and start the viewer (dynamic import: its code stays off the path of clients without it). Never rejects. */
  #startViewer(options: APIToolkitOptions | undefined): Promise<ViewerServer | undefined> {
    const cfg = this.#config;
    return import("./viewer/index.js")
      .then((m) => m.startViewer({ viewer: cfg.viewer!, options, stats: () => this.stats(), logger: cfg.logger, warnOnce: (code, detail) => this.#warnOnce(code, detail) }))
      .then((viewer) => {
        if (!this.#closed) return viewer;
        void viewer.close(); // close() ran while it was starting
        return undefined;
      })
      .catch((err: unknown) => {
        this.#warnOnce("W_VIEWER_FAILED", err);
        return undefined;
      });
  }

  /** The transport to deliver to: `inner` (Pub/Sub or the `transport` option), with the viewer shown the same bytes when it is on. */
  async #teeViewer(inner: Transport | undefined): Promise<Transport | undefined> {
    const viewer = await this.#viewer;
    return viewer ? viewer.tee(inner) : inner;
  }

  /**
   * OpenTelemetry delivery: no client_metadata call; the OTLP exporter is the transport (the key
   * travels as the resource attribute at-project-key). Creating it is retried like a bootstrap.
   */
  async #startOtlp(attempt: number): Promise<void> {
    const cfg = this.#config;
    const otlp = cfg.otlp!;
    try {
      const inner = await createOtlpTransport({
        otlp,
        apiKey: cfg.apiKey,
        serviceVersion: cfg.serviceVersion,
        serviceName: cfg.serviceName,
        debug: cfg.debug ? (line) => this.#debug(line) : undefined,
      });
      const transport = (await this.#teeViewer(inner)) ?? inner;
      if (this.#closed) {
        await closeQuietly(transport);
        return;
      }
      this.#transport = transport;
      this.#stats.state = "ready";
      this.#debug(`OTLP exporter ready: ${otlp.protocol} ${otlp.url}, span name ${otlp.spanName}, compression ${otlp.compression}, timeout ${otlp.timeoutMs} ms`);
      this.#delivery.start(transport, PROJECT_ID_PLACEHOLDER);
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

/** OTLP delivery to a collector of the user's own (or with at-project-key in OTEL_RESOURCE_ATTRIBUTES) needs no APIToolkit key. */
function keylessOtlp(cfg: ResolvedConfig): boolean {
  return cfg.otlp !== undefined && (cfg.otlp.customEndpoint || cfg.otlp.resource["at-project-key"] !== undefined);
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

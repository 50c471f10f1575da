/**
 * apitoolkit-node/viewer: a live page of the traffic the SDK publishes, served by the SDK itself.
 * `new APIToolkit({ viewer: true })` loads this module (with a dynamic import: without the option
 * it is never loaded) and hands it each batch exactly as the transport gets it, project id stamped.
 */
import { DEFAULT_REDACT_HEADERS, type APIToolkitOptions, type Logger } from "../config/options.js";
import type { ResolvedViewer } from "../config/viewer.js";
import type { Stats } from "../delivery/stats.js";
import type { Transport } from "../delivery/transport.js";
import type { WarningCode } from "../registry/codes.js";
import { compileRules } from "./report.js";
import { startServer } from "./server.js";

export type { ViewerOptions, ResolvedViewer } from "../config/viewer.js";
export type { RedactionHit } from "./report.js";

/** What the viewer needs of its client. */
export interface ViewerContext {
  /** Where to listen and how much to keep (the validated `viewer` option). */
  viewer: ResolvedViewer;
  /** The client's options as given: the page names the redaction rules they configure. */
  options?: APIToolkitOptions;
  /** The client's counters, sampled once a second for the page. */
  stats(): Stats;
  logger: Logger;
  /** The client's one-time warnings. */
  warnOnce(code: WarningCode, detail?: unknown): void;
}

/** A running viewer. */
export interface ViewerServer {
  /** Where the page is, e.g. `http://127.0.0.1:7070/`. */
  readonly url: string;
  /** Show published messages (each one wire message as UTF-8 JSON). A batch that is sent again (a retry) is shown once. Never throws. */
  show(messages: readonly Buffer[]): void;
  /** A transport that shows each batch, then hands it to `inner`; with no `inner`, the viewer is the only destination. */
  tee(inner: Transport | undefined): Transport;
  /** Stop serving and forget what was held. Never rejects. */
  close(): Promise<void>;
}

/**
 * Start the viewer: listen (loopback unless a host is given), log its URL once at info level.
 * Rejects when it cannot listen (the client turns that into one warning).
 *
 * @example
 * // What `new APIToolkit({ viewer: true })` does; to read it yourself:
 * const apitoolkit = new APIToolkit({ viewer: { port: 7070 } });
 * console.log(await apitoolkit.viewerURL()); // http://127.0.0.1:7070/
 */
export async function startViewer(ctx: ViewerContext): Promise<ViewerServer> {
  const o = ctx.options;
  const server = await startServer({
    port: ctx.viewer.port,
    host: ctx.viewer.host,
    maxHistoryBytes: ctx.viewer.maxHistoryBytes,
    rules: compileRules(o),
    ruleNames: {
      headers: [...new Set([
        ...(o?.redactDefaultHeaders === false ? [] : DEFAULT_REDACT_HEADERS),
        ...(o?.redactHeaders ?? []).map((h) => h.toLowerCase()),
      ])],
      request: o?.redactRequestBody ?? [],
      response: o?.redactResponseBody ?? [],
    },
    stats: () => ctx.stats(),
  });
  if (!server.loopback) ctx.warnOnce("W_VIEWER_NOT_LOOPBACK", server.url);
  try {
    ctx.logger.info(`[apitoolkit] viewer: watch the captured traffic at ${server.url}`);
  } catch {
    /* a broken logger must not break the app */
  }
  const shown = new WeakSet<Buffer>();
  const show = (messages: readonly Buffer[]): void => {
    for (const m of messages) {
      if (shown.has(m)) continue; // a retried batch: already on the page
      shown.add(m);
      server.publish(m);
    }
  };
  return {
    url: server.url,
    show,
    tee(inner) {
      return {
        send(messages) {
          show(messages);
          return inner ? inner.send(messages) : Promise.resolve();
        },
        close() {
          return inner ? inner.close() : Promise.resolve();
        },
        ...(inner?.fits ? { fits: inner.fits.bind(inner) } : {}),
      };
    },
    close: () => server.close().catch(() => undefined),
  };
}

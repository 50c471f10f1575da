/**
 * Capture of Web-standard (`Request`/`Response`) exchanges, for Hono, Next.js route handlers and any
 * other fetch-style framework. Bodies are observed through single-reader pass-through streams:
 * nothing is cloned or teed, every chunk is handed on unchanged the moment it is read, only what the
 * consumer pulls is read, and at most `maxBodyBytes` bytes are kept.
 */
import { newMsgId } from "./msg-id.js";
import { performance } from "node:perf_hooks";
import { emptyBody, observeChunk } from "./body.js";
import type { RequestContext } from "./context.js";
import { recordError } from "./errors.js";
import type { CaptureSink } from "./sink.js";
import { CLIENT_CLOSED_STATUS, applyRoute, type Exchange, type RawHeaders } from "./exchange.js";
import type { RouteRead } from "./routes/params.js";
import { pathOf } from "./url.js";
import type { SdkType } from "../wire/types.js";
import { CAPTURED } from "../registry/symbols.js";
import { activeTraceparent } from "./trace.js";

/** How a pass-through stream ended: read to the end, failed, or cancelled by its consumer. */
export type StreamOutcome = "end" | "error" | "cancel";

/** Callbacks of {@link passThrough}. Exceptions they throw are swallowed. */
export interface PassThroughHooks<T> {
  /** Each chunk, just before it is handed on. */
  chunk(chunk: T): void;
  /** Once, when the stream ends, errors or is cancelled. */
  done(outcome: StreamOutcome, error?: unknown): void;
}

/**
 * A stream that reads `source` (once, through one reader, only when its own consumer pulls) and
 * hands every chunk on unchanged and at once. Backpressure is the consumer's: one read of the
 * result makes one read of the source (high-water mark 0, so nothing is read ahead).
 *
 * @example
 * const observed = passThrough(res.body!, { chunk: (c) => count += c.byteLength, done: (how) => log(how) });
 * return new Response(observed, res);
 */
export function passThrough<T>(source: ReadableStream<T>, hooks: PassThroughHooks<T>): ReadableStream<T> {
  let reader: ReadableStreamDefaultReader<T> | undefined;
  let settled = false;
  const settle = (outcome: StreamOutcome, error?: unknown): void => {
    if (settled) return;
    settled = true;
    try {
      hooks.done(outcome, error);
    } catch {
      /* never break the stream */
    }
  };
  return new ReadableStream<T>(
    {
      pull(controller) {
        reader ??= source.getReader();
        return reader.read().then(
          (r) => {
            if (r.done) {
              controller.close();
              settle("end");
              return;
            }
            try {
              hooks.chunk(r.value);
            } catch {
              /* observation is best effort */
            }
            controller.enqueue(r.value);
          },
          (err: unknown) => {
            controller.error(err);
            settle("error", err);
          },
        );
      },
      cancel(reason) {
        settle("cancel");
        return reader ? reader.cancel(reason) : source.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Header map of a `Headers` object: lower-case name -> values, `set-cookie` values kept apart. */
export function headersRecord(headers: Headers): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  headers.forEach((value, name) => {
    if (name !== "set-cookie") (out[name] ??= []).push(value);
  });
  const cookies = typeof headers.getSetCookie === "function" ? headers.getSetCookie() : [];
  if (cookies.length) out["set-cookie"] = cookies;
  return out;
}

/** A `Headers` as the plain lower-case name -> value object `ignoreRequest` is given. */
function plainHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** Path plus query of an absolute URL string, exactly as written (no normalization, no fragment). */
function rawUrlOf(url: string): string {
  const scheme = url.indexOf("://");
  const slash = scheme < 0 ? url.indexOf("/") : url.indexOf("/", scheme + 3);
  const path = slash < 0 ? "/" : url.slice(slash);
  const hash = path.indexOf("#");
  return hash < 0 ? path : path.slice(0, hash);
}

function hostOf(request: Request): string {
  const h = request.headers.get("host");
  if (h) return h;
  try {
    return new URL(request.url).host;
  } catch {
    return "";
  }
}

/** The same mark node-http.ts puts on an IncomingMessage: one capture per request, even with two
 *  adapters (a node:http wrapper around a fetch-style app) or two copies of the SDK. */
type Markable = { [CAPTURED]?: true };

/** What an adapter may know better than the `Request` tells (e.g. from node's IncomingMessage). */
export interface WebCaptureOptions {
  /** Path and query as sent; default: taken from `request.url`. */
  rawUrl?: string;
  /** Request headers with repeats kept (node `rawHeaders`); default: from `request.headers`. */
  requestHeaders?: RawHeaders;
  protoMajor?: number;
  protoMinor?: number;
  /** Another object that stands for this request (node's IncomingMessage): marked as captured too. */
  alias?: object;
}

/** The handle an adapter holds while one Web exchange is in flight. */
export interface WebCapture {
  /** Request context to run the handler in (reportError, outgoing parent_id). */
  readonly ctx: RequestContext;
  /** The exchange being filled; adapters set `urlPath` and `pathParams`. */
  readonly exchange: Exchange;
  /** The route, read once when the exchange is handed over (see {@link RouteRead}). */
  route?: () => RouteRead;
  /** Called once just before the exchange is handed over, after the route was read (in the
   *  deferred hand-over: after the caller has the response). */
  beforeFinish?: () => void;
  /** A request to give the app instead of `request`: same everything, body read through the SDK.
   *  `make` builds it (default `new Request(request, init)`); the original is returned when there
   *  is no body, it was already read, or building fails. */
  wrapRequest<R extends Request>(request: R, make?: (request: R, init: RequestInit) => R): R;
  /** The response to send instead of `response` (same status, headers and bytes); the exchange is
   *  handed over once its body has been sent, failed or was cancelled (without a body: once the
   *  caller has the response), never before the caller has it (see CaptureSink.defer). */
  wrapResponse(response: Response): Response;
  /** Hand the exchange over now with this status and no response body (e.g. the handler threw). */
  finish(statusCode: number, headers?: Headers): void;
  /** The client went away: hand over what was seen (status 499 if no response was being sent). */
  abort(): void;
  /** Give up this capture: the exchange is never handed over (the caller counts why). */
  discard(): void;
}

/**
 * Start capturing one exchange from a Web `Request`. Returns undefined when the SDK is not
 * capturing or the path is ignored. If `request.signal` aborts (client gone), the exchange is handed
 * over as aborted.
 *
 * @example
 * const cap = startWebCapture(sinkOf(apitoolkit), request, "JsExpress");
 * const res = await runInRequest(cap.ctx, () => handler(cap.wrapRequest(request)));
 * return cap.wrapResponse(res);
 */
export function startWebCapture(sink: CaptureSink, request: Request, sdkType: SdkType, opts: WebCaptureOptions = {}): WebCapture | undefined {
  if (!sink.capturing) return undefined; // before touching the request at all
  const alias = opts.alias as Markable | undefined;
  if ((request as Markable)[CAPTURED] || alias?.[CAPTURED]) return undefined;
  const rawUrl = opts.rawUrl ?? rawUrlOf(request.url);
  if (sink.ignores(pathOf(rawUrl))) return undefined;
  if (sink.ignoreRequest !== undefined && sink.ignoreRequest(request.method, rawUrl, plainHeaders(request.headers))) return undefined;
  (request as Markable)[CAPTURED] = true;
  if (alias) alias[CAPTURED] = true;
  const limit = sink.config.maxBodyBytes;
  const startHr = performance.now();
  const exchange: Exchange = {
    sdkType,
    msgId: newMsgId(),
    startEpochMs: performance.timeOrigin + startHr,
    durationNs: 0,
    method: request.method,
    host: hostOf(request),
    rawUrl,
    urlPath: undefined,
    pathParams: {},
    protoMajor: opts.protoMajor || 1,
    protoMinor: opts.protoMajor ? (opts.protoMinor ?? 0) : 1,
    statusCode: 0,
    requestHeaders: opts.requestHeaders ?? headersRecord(request.headers),
    responseHeaders: {},
    requestBody: emptyBody(),
    responseBody: emptyBody(),
    errors: [],
  };
  let done = false;
  let sending = false; // the response body has started to flow
  let responseStatus = 0;
  let responseHeaders: RawHeaders | undefined;
  const signal: AbortSignal | undefined = request.signal;

  // The response is complete (or failed, or its consumer went away): the status, headers and
  // duration are fixed now; the route is read and the exchange handed over (serialized) only after
  // the caller has the Response and, for a body, after its last chunk was handed on.
  const finalize = (status: number, headers: RawHeaders | undefined): void => {
    if (done) return;
    done = true;
    signal?.removeEventListener("abort", onAbort);
    exchange.durationNs = Math.round((performance.now() - startHr) * 1e6);
    exchange.statusCode = status;
    if (headers) exchange.responseHeaders = headers;
    sink.defer(handOver);
  };
  const handOver = (): void => {
    try {
      if (capture.route) applyRoute(exchange, capture.route());
      capture.beforeFinish?.();
      if (capture.ctx.identity !== undefined) exchange.identity = capture.ctx.identity;
    } catch (err) {
      sink.captureFailed(err);
      return;
    }
    sink.accept(exchange);
  };
  const onAbort = (): void => capture.abort();

  const capture: WebCapture = {
    ctx: { msgId: exchange.msgId, errors: exchange.errors, owner: sink },
    exchange,
    wrapRequest<R extends Request>(req: R, make?: (request: R, init: RequestInit) => R): R {
      try {
        if (done || req.method === "GET" || req.method === "HEAD" || req.headers.get("content-length") === "0") return req;
        const body = req.body;
        if (body === null || req.bodyUsed) return req;
        const observed = passThrough(body, {
          chunk: (c) => {
            if (!done) observeChunk(exchange.requestBody, c, undefined, limit);
          },
          done: () => undefined,
        });
        const init = { body: observed, duplex: "half" } as RequestInit;
        const wrapped = make ? make(req, init) : (new Request(req, init) as R);
        (wrapped as Markable)[CAPTURED] = true;
        return wrapped;
      } catch (err) {
        sink.warnOnce("W_CAPTURE_FAILED", err);
        return req;
      }
    },
    wrapResponse(res) {
      if (done) return res;
      try {
        responseStatus = res.status;
        const headers = (responseHeaders = headersRecord(res.headers));
        const body = res.body;
        if (body === null || res.bodyUsed || exchange.method === "HEAD") {
          finalize(responseStatus, headers);
          return res;
        }
        const observed = passThrough(body, {
          chunk: (c) => {
            sending = true;
            if (!done) observeChunk(exchange.responseBody, c, undefined, limit);
          },
          done: (outcome, err) => {
            if (outcome === "error" && !done) recordError(exchange.errors, err);
            finalize(outcome === "cancel" && !sending ? CLIENT_CLOSED_STATUS : responseStatus, headers);
          },
        });
        const out = new Response(observed, { status: res.status, statusText: res.statusText, headers: res.headers });
        return out;
      } catch (err) {
        sink.warnOnce("W_CAPTURE_FAILED", err);
        finalize(responseStatus, responseHeaders);
        return res;
      }
    },
    finish(statusCode, headers) {
      finalize(statusCode, headers ? headersRecord(headers) : undefined);
    },
    abort() {
      finalize(sending ? responseStatus : CLIENT_CLOSED_STATUS, responseHeaders);
    },
    discard() {
      done = true;
      signal?.removeEventListener("abort", onAbort);
    },
  };
  if (sink.config.traceContext) {
    const tp = activeTraceparent();
    if (tp !== undefined) exchange.traceparent = capture.ctx.traceparent = tp;
    exchange.scheme = request.url.startsWith("https:") ? "https" : "http";
  }
  if (signal && typeof signal.addEventListener === "function") {
    if (signal.aborted) queueMicrotask(onAbort);
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  return capture;
}

import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from "node:http";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { emptyBody, observeChunk } from "./body.js";
import { CLIENT_CLOSED_STATUS, applyRoute, type Exchange } from "./exchange.js";
import type { RouteRead } from "./routes/params.js";
import { pathOf } from "./url.js";
import type { RequestContext } from "./context.js";
import type { CaptureSink } from "./sink.js";
import type { SdkType } from "../wire/types.js";
import { CAPTURED } from "../registry/symbols.js";



/** The handle an adapter holds while a request on a node:http server is in flight. */
export interface NodeCapture {
  /** Request context to run the rest of the chain in (reportError, outgoing parent_id). */
  readonly ctx: RequestContext;
  /** The exchange being filled; adapters set `urlPath` and `pathParams`. */
  readonly exchange: Exchange;
  /** Where to read a body a parser consumed before the SDK saw the bytes (e.g. () => req.body). */
  parsedBody?: () => unknown;
  /** The route, read once when the response finishes (see {@link RouteRead}). */
  route?: () => RouteRead;
  /** Called once just before the exchange is handed over, after the route was read. */
  beforeFinish?: () => void;
  /** Give up this capture: the exchange is never handed over (the caller counts why). */
  discard(): void;
}

type AnyFn = (...args: unknown[]) => unknown;


function mergeHeaders(res: ServerResponse, passed: unknown): OutgoingHttpHeaders | string[] {
  const set = res.getHeaders();
  if (!passed) return set;
  const out: OutgoingHttpHeaders = { ...set };
  if (Array.isArray(passed)) {
    // [[name, value], ...] or the flat [name, value, name, value]
    const flat: unknown[] = Array.isArray(passed[0]) ? (passed as unknown[][]).flat() : passed;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const k = String(flat[i]).toLowerCase();
      if (!(k in set)) {
        const prev = out[k];
        out[k] = prev === undefined ? String(flat[i + 1]) : ([] as string[]).concat(prev as string, String(flat[i + 1]));
      }
    }
  } else if (typeof passed === "object") {
    for (const [k, v] of Object.entries(passed as Record<string, unknown>)) {
      const key = k.toLowerCase();
      if (!(key in set) && v !== undefined) out[key] = v as string | string[];
    }
  }
  return out;
}

/**
 * Start capturing one exchange on a node:http (or compatible) request/response pair. Observes
 * request bytes as the app reads them (never reads the stream itself), and response bytes as they
 * are written (return values, backpressure and callbacks untouched). Hands the exchange to the sink
 * when the response finishes or the connection closes. Returns undefined when not capturing.
 */
export function startNodeCapture(
  sink: CaptureSink,
  req: IncomingMessage,
  res: ServerResponse,
  sdkType: SdkType,
  rawUrl: string = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/",
): NodeCapture | undefined {
  if (!sink.capturing || sink.ignores(pathOf(rawUrl))) return undefined;
  // One capture per request, even with two adapters (e.g. Nest over Express) or two copies of the SDK.
  const marked = req as IncomingMessage & { [CAPTURED]?: true };
  if (marked[CAPTURED]) return undefined;
  marked[CAPTURED] = true;
  const limit = sink.config.maxBodyBytes;
  const startHr = performance.now();
  const exchange: Exchange = {
    sdkType,
    msgId: randomUUID(),
    startEpochMs: performance.timeOrigin + startHr,
    durationNs: 0,
    method: req.method ?? "GET",
    host: String(req.headers.host ?? req.headers[":authority"] ?? ""),
    rawUrl,
    urlPath: undefined,
    pathParams: {},
    protoMajor: req.httpVersionMajor || 1,
    protoMinor: req.httpVersionMajor ? req.httpVersionMinor : 1,
    statusCode: 0,
    requestHeaders: req.rawHeaders,
    responseHeaders: {},
    requestBody: emptyBody(),
    responseBody: emptyBody(),
    errors: [],
  };
  let done = false;
  const capture: NodeCapture = {
    ctx: { msgId: exchange.msgId, errors: exchange.errors, owner: sink },
    exchange,
    discard: () => void (done = true),
  };

  // Request bytes: observe 'data' as it is emitted to whoever reads (flowing or paused mode).
  const reqEmit = req.emit as AnyFn;
  req.emit = function observedEmit(this: IncomingMessage, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "data") observeChunk(exchange.requestBody, args[0], undefined, limit);
    return reqEmit.apply(this, [event, ...args]) as boolean;
  } as typeof req.emit;

  // Response bytes: observe what is written, return exactly what the original returns.
  const origWrite = res.write as AnyFn;
  const origEnd = res.end as AnyFn;
  const origWriteHead = res.writeHead as AnyFn;
  let passedHeaders: unknown;
  const bodyLimit = exchange.method === "HEAD" ? 0 : limit; // a HEAD response has no body on the wire
  const observe = (args: unknown[]): void => {
    if (typeof args[0] === "function") return;
    observeChunk(exchange.responseBody, args[0], typeof args[1] === "string" ? (args[1] as BufferEncoding) : undefined, bodyLimit);
  };
  res.write = function observedWrite(this: ServerResponse, ...args: unknown[]) {
    observe(args);
    return origWrite.apply(this, args);
  } as typeof res.write;
  res.end = function observedEnd(this: ServerResponse, ...args: unknown[]) {
    observe(args);
    return origEnd.apply(this, args);
  } as typeof res.end;
  res.writeHead = function observedWriteHead(this: ServerResponse, ...args: unknown[]) {
    const last = args[args.length - 1];
    if (last && typeof last === "object") passedHeaders = last;
    return origWriteHead.apply(this, args);
  } as typeof res.writeHead;

  const finish = (): void => {
    if (done) return;
    done = true;
    res.removeListener("finish", finish);
    res.removeListener("close", finish);
    try {
      exchange.durationNs = Math.round((performance.now() - startHr) * 1e6);
      exchange.statusCode = res.headersSent ? res.statusCode : CLIENT_CLOSED_STATUS;
      exchange.responseHeaders = mergeHeaders(res, passedHeaders) as Exchange["responseHeaders"];
      if (exchange.requestBody.totalBytes === 0 && capture.parsedBody) {
        exchange.requestBody.parsed = capture.parsedBody();
      }
      if (capture.route) applyRoute(exchange, capture.route());
      capture.beforeFinish?.();
    } catch (err) {
      sink.captureFailed(err);
      return;
    }
    sink.accept(exchange);
  };
  res.once("finish", finish);
  res.once("close", finish);
  return capture;
}

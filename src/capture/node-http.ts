/**
 * Capture on node:http objects. Request bytes are observed as they are emitted to whoever reads
 * them (the SDK never reads a stream itself); response bytes as they are written, with return
 * values, backpressure and callbacks untouched; the exchange is handed over when the response
 * finishes or the connection closes.
 *
 * Nothing per request but one object: the observers are installed once per process, on
 * `ServerResponse.prototype` (`write`, `end`, `writeHead`, `emit`) and `IncomingMessage.prototype`
 * (`emit`), and each does one property read to find the capture of `this`, if any. Objects that are
 * not node:http's (a test double, the HTTP/2 compatibility API) get the same observers on the
 * instance instead.
 */
/* eslint-disable prefer-rest-params -- the hooks run on every write of the process: they hand `arguments` on instead of copying it into a rest array */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { newMsgId } from "./msg-id.js";
import { performance } from "node:perf_hooks";
import { emptyBody, observeChunk } from "./body.js";
import { CLIENT_CLOSED_STATUS, applyRoute, type CapturedBody, type Exchange, type RawHeaders } from "./exchange.js";
import type { RouteRead } from "./routes/params.js";
import { pathOf } from "./url.js";
import type { RequestContext } from "./context.js";
import type { CaptureSink } from "./sink.js";
import type { ErrorRecord, SdkType } from "../wire/types.js";
import type { Identity } from "./identity-types.js";
import { CAPTURED, NODE_CAPTURE, NODE_HOOKS } from "../registry/symbols.js";
import { activeTraceparent } from "./trace.js";

/** performance.timeOrigin, read once: a getter into the runtime on every read, and constant for the process. */
const TIME_ORIGIN = performance.timeOrigin;

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

/**
 * Where an adapter's finish reads the parsed body and the route, as functions of the object the
 * adapter passed (its framework's request or context): one constant object per adapter, so no
 * closure is made per request.
 */
export interface NodeReaders<S> {
  /** Called once when the capture starts (e.g. to start following the router). */
  start?(source: S): void;
  parsedBody?(source: S): unknown;
  route?(source: S): RouteRead;
}

/**
 * What the process-wide hooks call on the object in a request's or response's NODE_CAPTURE slot.
 * Shared by every copy of the SDK in the process (the slot and the hooks are global), so these
 * names are a contract: change them only with the `.v1` of NODE_CAPTURE / NODE_HOOKS.
 */
interface HookTarget {
  requestData(chunk: unknown): void;
  responseWrite(chunk: unknown, encoding: unknown): void;
  responseHead(headers: unknown): void;
  responseDone(): void;
}
type Slot = { [NODE_CAPTURE]?: HookTarget };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- `this` of a prototype method is whatever object it is called on
type AnyFn = (this: any, ...args: unknown[]) => unknown;

/**
 * Ask V8 to turn an object used as a prototype back into fast properties after it was patched:
 * an object that becomes the prototype of a constructor function is optimized as such.
 */
export function fastProperties(o: object): void {
  function Fast(): void {}
  Fast.prototype = o;
  new (Fast as unknown as new () => object)();
}

/** Install the hooks once per process (idempotent across SDK copies). */
function installHooks(): void {
  const g = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (g[NODE_HOOKS]) return;
  g[NODE_HOOKS] = true;
  const res = http.ServerResponse.prototype as unknown as Record<string, AnyFn>;
  const req = http.IncomingMessage.prototype as unknown as Record<string, AnyFn>;
  const origWrite = res.write!;
  const origEnd = res.end!;
  const origWriteHead = res.writeHead!;
  const origResEmit = res.emit!;
  const origReqEmit = req.emit!;
  res.write = function apitoolkitWrite(this: Slot, chunk: unknown, encoding: unknown): unknown {
    const c = this[NODE_CAPTURE];
    if (c !== undefined) c.responseWrite(chunk, encoding);
    return origWrite.apply(this, arguments as unknown as unknown[]);
  };
  res.end = function apitoolkitEnd(this: Slot, chunk: unknown, encoding: unknown): unknown {
    const c = this[NODE_CAPTURE];
    if (c !== undefined) c.responseWrite(chunk, encoding);
    return origEnd.apply(this, arguments as unknown as unknown[]);
  };
  res.writeHead = function apitoolkitWriteHead(this: Slot): unknown {
    const c = this[NODE_CAPTURE];
    if (c !== undefined) c.responseHead(arguments[arguments.length - 1]);
    return origWriteHead.apply(this, arguments as unknown as unknown[]);
  };
  res.emit = function apitoolkitResponseEmit(this: Slot, event: unknown): unknown {
    if (event === "finish" || event === "close") {
      const c = this[NODE_CAPTURE];
      if (c !== undefined) c.responseDone();
    }
    return origResEmit.apply(this, arguments as unknown as unknown[]);
  };
  req.emit = function apitoolkitRequestEmit(this: Slot, event: unknown, chunk: unknown): unknown {
    if (event === "data") {
      const c = this[NODE_CAPTURE];
      if (c !== undefined) c.requestData(chunk);
    }
    return origReqEmit.apply(this, arguments as unknown as unknown[]);
  };
  // Patching a prototype can leave it in V8's slow (dictionary) mode, which makes every property
  // lookup through it slower for every request of the process (measured: +45 us/request on Express).
  fastProperties(http.ServerResponse.prototype);
  fastProperties(http.IncomingMessage.prototype);
}

/** The same observers on one instance, for request/response objects that are not node:http's (or,
 *  with `wrappedResponse`, a response whose own methods something wrapped before the capture). */
function observeInstance(req: IncomingMessage, res: ServerResponse, target: HookTarget, wrappedResponse = false): void {
  const r = req as unknown as Record<string, AnyFn>;
  const s = res as unknown as Record<string, AnyFn>;
  if (!(req instanceof http.IncomingMessage)) {
    const emit = r.emit!;
    r.emit = function observedEmit(this: unknown, event: unknown, chunk: unknown): unknown {
      if (event === "data") target.requestData(chunk);
      return emit.apply(this, arguments as unknown as unknown[]);
    };
  }
  if (res instanceof http.ServerResponse && !wrappedResponse) return;
  const write = s.write!;
  const end = s.end!;
  const writeHead = s.writeHead!;
  s.write = function observedWrite(this: unknown, chunk: unknown, encoding: unknown): unknown {
    target.responseWrite(chunk, encoding);
    return write.apply(this, arguments as unknown as unknown[]);
  };
  s.end = function observedEnd(this: unknown, chunk: unknown, encoding: unknown): unknown {
    target.responseWrite(chunk, encoding);
    return end.apply(this, arguments as unknown as unknown[]);
  };
  s.writeHead = function observedWriteHead(this: unknown, ...args: unknown[]): unknown {
    target.responseHead(args[args.length - 1]);
    return writeHead.apply(this, args);
  };
  const done = () => target.responseDone();
  (res as ServerResponse).once("finish", done);
  (res as ServerResponse).once("close", done);
}

/**
 * Response headers as sent. node's writeHead merges the headers passed to it into those set with
 * setHeader (passed ones win), so when any were set, getHeaders() already holds them all; when none
 * were, what was passed (an object, or a flat or nested [name, value] list) is all of them, and is
 * read as it is (no copy: writeHead has sent it).
 */
function sentHeaders(res: ServerResponse, passed: unknown): RawHeaders {
  const set = res.getHeaders();
  if (!passed || typeof passed !== "object") return set as RawHeaders;
  for (const _ in set) return set as RawHeaders;
  if (!Array.isArray(passed)) return passed as RawHeaders;
  return (Array.isArray(passed[0]) ? (passed as unknown[][]).flat() : passed).map(String);
}

/**
 * The `{}` a body parser leaves on a request that had no body (Express's `express.json()` sets it on
 * every GET), on a request without a content type: the message says no body, as the body
 * pipeline would decide for it (redact/body.ts), without running it for every bodiless request.
 */
function noBody(parsed: unknown, req: IncomingMessage): boolean {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return false;
  const proto = Object.getPrototypeOf(parsed) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const _ in parsed) return false;
  return req.headers["content-type"] === undefined;
}

/** One request in flight: the adapter's handle, the request context and the hooks' target in one object. */
class Capture implements NodeCapture, RequestContext, HookTarget {
  readonly exchange: Exchange;
  readonly msgId: string;
  readonly errors: ErrorRecord[] = [];
  /** Set by setUser/setTenant/setSession/setAttributes (RequestContext); copied to the exchange at the end. */
  identity: Identity | undefined = undefined;
  parsedBody?: () => unknown;
  route?: () => RouteRead;
  beforeFinish?: () => void;
  /** Constant readers and the object they read (see NodeReaders). */
  readers: NodeReaders<unknown> | undefined = undefined;
  source: unknown = undefined;
  private done = false;
  private passedHeaders: unknown = undefined;
  private readonly startHr: number;
  private readonly requestBody: CapturedBody = emptyBody();
  private readonly responseBody: CapturedBody = emptyBody();
  private readonly responseLimit: number;

  constructor(
    readonly owner: CaptureSink,
    private req: IncomingMessage | undefined,
    private res: ServerResponse | undefined,
    sdkType: SdkType,
    rawUrl: string,
    private readonly limit: number,
  ) {
    this.startHr = performance.now();
    this.msgId = newMsgId();
    const r = req!;
    const method = r.method ?? "GET";
    this.responseLimit = method === "HEAD" ? 0 : limit; // a HEAD response has no body on the wire
    this.exchange = {
      sdkType,
      msgId: this.msgId,
      startEpochMs: TIME_ORIGIN + this.startHr,
      durationNs: 0,
      method,
      host: String(r.headers.host ?? r.headers[":authority"] ?? ""),
      rawUrl,
      urlPath: undefined,
      pathParams: {},
      protoMajor: r.httpVersionMajor || 1,
      protoMinor: r.httpVersionMajor ? r.httpVersionMinor : 1,
      statusCode: 0,
      requestHeaders: r.rawHeaders,
      responseHeaders: {},
      requestBody: this.requestBody,
      responseBody: this.responseBody,
      errors: this.errors,
    };
  }

  get ctx(): RequestContext {
    return this;
  }

  get traceparent(): string | undefined {
    return this.exchange.traceparent;
  }

  discard(): void {
    this.done = true;
    this.release();
  }

  requestData(chunk: unknown): void {
    if (!this.done) observeChunk(this.requestBody, chunk, undefined, this.limit);
  }

  responseWrite(chunk: unknown, encoding: unknown): void {
    if (this.done || typeof chunk === "function") return;
    observeChunk(this.responseBody, chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : undefined, this.responseLimit);
  }

  responseHead(headers: unknown): void {
    if (headers && typeof headers === "object") this.passedHeaders = headers;
  }

  responseDone(): void {
    if (this.done) return;
    this.done = true;
    const res = this.res!;
    const ex = this.exchange;
    try {
      ex.durationNs = Math.round((performance.now() - this.startHr) * 1e6);
      ex.statusCode = res.headersSent ? res.statusCode : CLIENT_CLOSED_STATUS;
      ex.responseHeaders = sentHeaders(res, this.passedHeaders);
      const readers = this.readers;
      if (this.requestBody.totalBytes === 0) {
        const parsed = this.parsedBody ? this.parsedBody() : readers?.parsedBody ? readers.parsedBody(this.source) : undefined;
        if (parsed !== undefined && !noBody(parsed, this.req!)) this.requestBody.parsed = parsed;
      }
      if (this.route) applyRoute(ex, this.route());
      else if (readers?.route) applyRoute(ex, readers.route(this.source));
      this.beforeFinish?.();
      if (this.identity !== undefined) ex.identity = this.identity;
    } catch (err) {
      this.release();
      this.owner.captureFailed(err);
      return;
    }
    // From here on nothing refers to the request or response: the exchange is plain data.
    this.release();
    this.owner.accept(ex);
  }

  private release(): void {
    if (this.req) (this.req as Slot)[NODE_CAPTURE] = undefined;
    if (this.res) (this.res as Slot)[NODE_CAPTURE] = undefined;
    this.req = this.res = undefined;
    this.parsedBody = this.route = this.beforeFinish = undefined;
    this.readers = this.source = undefined;
  }
}

/**
 * Start capturing one exchange on a node:http (or compatible) request/response pair; the exchange
 * is handed to the sink when the response finishes or the connection closes. Returns undefined
 * when not capturing (disabled, ignored path, or already captured by another adapter or copy).
 */
export function startNodeCapture<S>(
  sink: CaptureSink,
  req: IncomingMessage,
  res: ServerResponse,
  sdkType: SdkType,
  rawUrl: string = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/",
  readers?: NodeReaders<S>,
  source?: S,
): NodeCapture | undefined {
  if (!sink.capturing || (sink.config.ignorePaths.length > 0 && sink.ignores(pathOf(rawUrl)))) return undefined;
  // One capture per request, even with two adapters (e.g. Nest over Express) or two copies of the SDK.
  const marked = req as IncomingMessage & { [CAPTURED]?: true };
  if (marked[CAPTURED]) return undefined;
  if (sink.ignoreRequest !== undefined && sink.ignoreRequest(req.method ?? "GET", rawUrl, req.headers as Record<string, string | undefined>)) return undefined;
  marked[CAPTURED] = true;
  installHooks();
  const capture = new Capture(sink, req, res, sdkType, rawUrl, sink.config.maxBodyBytes);
  if (sink.config.traceContext) {
    const tp = activeTraceparent();
    if (tp !== undefined) capture.exchange.traceparent = tp;
    capture.exchange.scheme = (req.socket as { encrypted?: boolean } | null)?.encrypted === true ? "https" : "http";
  }
  if (readers) {
    capture.readers = readers as NodeReaders<unknown>;
    capture.source = source;
  }
  (req as Slot)[NODE_CAPTURE] = capture;
  // Something that ran first wrapped this response's own write/end (compression, Next.js's API
  // resolver) around the methods it found then, perhaps before the hooks existed: observe the
  // instance, which every write passes through, and leave the prototype hooks out of it.
  const wrapped = Object.hasOwn(res, "write") || Object.hasOwn(res, "end");
  if (!wrapped) (res as Slot)[NODE_CAPTURE] = capture;
  if (wrapped || !(req instanceof http.IncomingMessage) || !(res instanceof http.ServerResponse)) observeInstance(req, res, capture, wrapped);
  return capture;
}

/** The capture in flight on a node request (or response) that `owner` started, if any. */
export function nodeCaptureOf(req: object, owner: CaptureSink): NodeCapture | undefined {
  const c = (req as Slot)[NODE_CAPTURE];
  return c instanceof Capture && c.owner === owner ? c : undefined;
}

/**
 * fetch / undici capture through undici's diagnostics channels (Node's bundled undici and any
 * undici from npm publish on the same names).
 *
 * Bodies: undici 7 (Node 22.?+/24) publishes `undici:request:bodyChunkSent` and
 * `undici:request:bodyChunkReceived`; undici 6 (Node 20) does not, so the request object received
 * on `undici:request:create` gets its own `onBodySent`/`onData` observed (instance properties, return
 * values untouched). A chunk is recorded once: the instance observer skips chunks the channel
 * delivered during the same call. Chunks are observed as undici passes them to the caller's
 * stream, so a body the caller never reads is never read by the SDK.
 */
import dc from "node:diagnostics_channel";
import { observeChunk } from "../body.js";
import { recordError } from "../errors.js";
import { begin, claim, finish, guard, type OutgoingRuntime, type Pending } from "./record.js";
import { UNDICI } from "../../registry/channels.js";

interface UndiciRequest {
  origin?: unknown;
  path?: unknown;
  method?: unknown;
  headers?: unknown;
  onBodySent?: (...args: unknown[]) => unknown;
  onData?: (...args: unknown[]) => unknown;
}
interface State {
  p: Pending;
  /** Chunks delivered by the channels (so the instance observers do not count them again). */
  sent: number;
  received: number;
}
type Message = { request?: UndiciRequest; chunk?: unknown; response?: { statusCode?: number; headers?: unknown[] }; error?: unknown };

/** undici 6+ gives headers as a flat [name, value, ...] array; undici 5 as "name: value\r\n" text. */
function flatHeaders(h: unknown): string[] {
  if (Array.isArray(h)) {
    const out: string[] = [];
    for (let i = 0; i + 1 < h.length; i += 2) {
      const v = h[i + 1];
      for (const one of Array.isArray(v) ? v : [v]) out.push(text(h[i]), text(one));
    }
    return out;
  }
  if (typeof h !== "string") return [];
  const out: string[] = [];
  for (const line of h.split("\r\n")) {
    const c = line.indexOf(":");
    if (c > 0) out.push(line.slice(0, c).trim(), line.slice(c + 1).trim());
  }
  return out;
}

function text(v: unknown): string {
  return Buffer.isBuffer(v) ? v.toString("latin1") : String(v);
}

/** Subscribe to undici's channels for one client. Returns the unsubscribe function. */
export function subscribeUndici(rt: OutgoingRuntime): () => void {
  const states = new WeakMap<object, State>();

  const instanceObserver = (request: UndiciRequest, st: State, method: "onBodySent" | "onData"): void => {
    const original = request[method];
    if (typeof original !== "function") return;
    const counter = method === "onBodySent" ? "sent" : "received";
    request[method] = function apitoolkitObserveChunk(this: unknown, ...args: unknown[]) {
      const before = st[counter];
      const result = original.apply(this, args);
      if (st[counter] === before) {
        guard(rt, () => observeChunk(method === "onBodySent" ? st.p.ex.requestBody : st.p.ex.responseBody, args[0], undefined, st.p.limit));
      }
      return result;
    };
  };

  const onCreate = (m: unknown): void => guard(rt, () => {
    const request = (m as Message).request;
    if (!request || typeof request !== "object" || states.has(request)) return;
    let host = "";
    try {
      host = new URL(String(request.origin)).host;
    } catch {
      /* unusual origin: no host */
    }
    const rawUrl = typeof request.path === "string" ? request.path : "/";
    if (!claim(rt, request, host, rawUrl.split("?")[0]!)) return;
    const p = begin(rt, "JsOutgoing", String(request.method ?? "GET"), host, rawUrl);
    if (rt.sink.config.traceContext) p.ex.scheme = String(request.origin).startsWith("https:") ? "https" : "http";
    p.ex.requestHeaders = flatHeaders(request.headers);
    const st: State = { p, sent: 0, received: 0 };
    states.set(request, st);
    instanceObserver(request, st, "onBodySent");
    instanceObserver(request, st, "onData");
  });

  const withState = (fn: (st: State, m: Message) => void) => (m: unknown): void => guard(rt, () => {
    const request = (m as Message).request;
    const st = request && states.get(request);
    if (st && !st.p.done) fn(st, m as Message);
  });

  const handlers: Array<[string, (m: unknown) => void]> = [
    [UNDICI.create, onCreate],
    [UNDICI.bodyChunkSent, withState((st, m) => {
      st.sent++;
      observeChunk(st.p.ex.requestBody, m.chunk, undefined, st.p.limit);
    })],
    [UNDICI.headers, withState((st, m) => {
      st.p.ex.requestHeaders = flatHeaders(m.request?.headers); // final: other subscribers may add headers after create
      st.p.responded = true;
      st.p.ex.statusCode = Number(m.response?.statusCode ?? 0);
      st.p.ex.responseHeaders = flatHeaders(m.response?.headers);
      if (st.p.ex.method === "HEAD") st.p.limit = 0;
    })],
    [UNDICI.bodyChunkReceived, withState((st, m) => {
      st.received++;
      observeChunk(st.p.ex.responseBody, m.chunk, undefined, st.p.limit);
    })],
    [UNDICI.trailers, withState((st) => finish(rt, st.p))],
    [UNDICI.error, withState((st, m) => {
      recordError(st.p.ex.errors, m.error);
      finish(rt, st.p);
    })],
  ];
  for (const [name, fn] of handlers) dc.subscribe(name, fn);
  return () => {
    for (const [name, fn] of handlers) dc.unsubscribe(name, fn);
  };
}

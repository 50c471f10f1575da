/**
 * node:http / node:https client capture through Node's diagnostics channels.
 *
 * - `http.client.request.created` (or its stand-in on Node 20, ./http-created.ts) hands over each
 *   ClientRequest before anything is written; its `write`/`end` are observed on the instance
 *   (return values untouched).
 * - `http.client.response.finish` (response headers): status, headers, HTTP version; the
 *   IncomingMessage's `emit` is observed for 'data'/'end'/'error'/'close' (no listener is added, so
 *   flowing mode and consumption are the caller's alone).
 * - `http.client.request.error`, and the request's own 'close', end a call that got no response.
 */
import dc from "node:diagnostics_channel";
import { observeChunk } from "../body.js";
import { recordError } from "../errors.js";
import { begin, claim, finish, guard, type OutgoingRuntime, type Pending } from "./record.js";
import { CREATED_CHANNEL, acquireCreatedFallback } from "./http-created.js";
import { HTTP_CLIENT } from "../../registry/channels.js";

type AnyFn = (...args: unknown[]) => unknown;
interface ClientReq {
  method?: string;
  path?: string;
  host?: string;
  getHeader(name: string): unknown;
  getHeaders(): Record<string, unknown>;
  write: AnyFn;
  end: AnyFn;
  emit: AnyFn;
}
interface Incoming {
  statusCode?: number;
  rawHeaders?: string[];
  httpVersionMajor?: number;
  httpVersionMinor?: number;
  emit: AnyFn;
}

/** Subscribe to node:http client channels for one client. Returns the unsubscribe function. */
export function subscribeNodeHttp(rt: OutgoingRuntime): () => void {
  const states = new WeakMap<object, Pending>();

  const observeWrites = (req: ClientReq, p: Pending): void => {
    for (const name of ["write", "end"] as const) {
      const original = req[name];
      req[name] = function apitoolkitObservedWrite(this: unknown, ...args: unknown[]) {
        if (typeof args[0] !== "function") {
          guard(rt, () => observeChunk(p.ex.requestBody, args[0], typeof args[1] === "string" ? (args[1] as BufferEncoding) : undefined, p.limit));
        }
        return original.apply(this, args);
      };
    }
    const emit = req.emit;
    req.emit = function apitoolkitObservedRequestEmit(this: unknown, event: unknown, ...args: unknown[]) {
      if (event === "error") guard(rt, () => recordError(p.ex.errors, args[0]));
      else if (event === "close" && !p.responded) guard(rt, () => finishRequest(req, p));
      return emit.apply(this, [event, ...args]);
    };
  };

  const finishRequest = (req: ClientReq, p: Pending): void => {
    if (p.done) return;
    try {
      p.ex.requestHeaders = req.getHeaders() as typeof p.ex.requestHeaders;
    } catch {
      /* keep what we have */
    }
    finish(rt, p);
  };

  const onCreated = (m: unknown): void => guard(rt, () => {
    const req = (m as { request?: ClientReq }).request;
    if (!req || typeof req !== "object" || states.has(req)) return;
    const hostHeader = req.getHeader("host");
    const host = typeof hostHeader === "string" ? hostHeader : String(req.host ?? "");
    const rawUrl = typeof req.path === "string" ? req.path : "/";
    if (!claim(rt, req, host, rawUrl.split("?")[0]!)) return;
    const p = begin(rt, "JsOutgoing", req.method ?? "GET", host, rawUrl);
    if (rt.sink.config.traceContext) p.ex.scheme = (req as { protocol?: unknown }).protocol === "https:" ? "https" : "http";
    states.set(req, p);
    observeWrites(req, p);
  });

  const onResponse = (m: unknown): void => guard(rt, () => {
    const { request, response } = m as { request?: ClientReq; response?: Incoming };
    const p = request && states.get(request);
    if (!p || !response || p.done || p.responded) return;
    p.responded = true;
    p.ex.statusCode = response.statusCode ?? 0;
    p.ex.responseHeaders = response.rawHeaders ?? [];
    if (response.httpVersionMajor) {
      p.ex.protoMajor = response.httpVersionMajor;
      p.ex.protoMinor = response.httpVersionMinor ?? 0;
    }
    if (p.ex.method === "HEAD") p.limit = 0;
    const emit = response.emit;
    response.emit = function apitoolkitObservedResponseEmit(this: unknown, event: unknown, ...args: unknown[]) {
      if (event === "data") guard(rt, () => observeChunk(p.ex.responseBody, args[0], undefined, p.limit));
      else if (event === "error") guard(rt, () => recordError(p.ex.errors, args[0]));
      else if (event === "end" || event === "close") guard(rt, () => finishRequest(request, p));
      return emit.apply(this, [event, ...args]);
    };
  });

  const onError = (m: unknown): void => guard(rt, () => {
    const { request, error } = m as { request?: ClientReq; error?: unknown };
    const p = request && states.get(request);
    if (p && !p.done) recordError(p.ex.errors, error);
  });

  const handlers: Array<[string, (m: unknown) => void]> = [
    [CREATED_CHANNEL, onCreated],
    [HTTP_CLIENT.responseFinish, onResponse],
    [HTTP_CLIENT.error, onError],
  ];
  const release = acquireCreatedFallback();
  for (const [name, fn] of handlers) dc.subscribe(name, fn);
  return () => {
    for (const [name, fn] of handlers) dc.unsubscribe(name, fn);
    release();
  };
}

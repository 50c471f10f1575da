/**
 * What the three outgoing mechanisms (undici, node:http client, axios) share: the process-wide
 * state (one per process, across copies of the SDK), the claim rule, and building/finishing an
 * outgoing exchange.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { newMsgId } from "../msg-id.js";
import { performance } from "node:perf_hooks";
import { emptyBody } from "../body.js";
import { currentRequest, isSuppressed } from "../context.js";
import { outgoingTraceparent } from "../trace.js";
import { setRules } from "../../redact/rules.js";
import type { CaptureSink } from "../sink.js";
import type { Exchange } from "../exchange.js";
import type { SdkType } from "../../wire/types.js";
import type { OutgoingRules, compileTemplates } from "../../config/outgoing.js";
import { CLAIMED, OUTGOING } from "../../registry/symbols.js";

interface SharedOutgoing {
  /** Set while an axios-observed call runs its adapter: the http/undici capture skips it. */
  axios: AsyncLocalStorage<object>;
  /** Set for the rest of one synchronous job when an axios adapter could not be wrapped. */
  axiosSync: object | undefined;
  /** Clients with outgoing capture configured -> on/off. Calls made while serving an incoming request
   *  of one of them belong to that client alone (none captures them when it has monitoring off). */
  monitors: WeakMap<object, boolean>;
}
const g = globalThis as unknown as Record<symbol, SharedOutgoing | undefined>;
/** Shared across copies of the SDK (ESM + CJS builds, two versions) so no call is captured twice. */
export const shared: SharedOutgoing = (g[OUTGOING] ??= {
  axios: new AsyncLocalStorage<object>(),
  axiosSync: undefined,
  monitors: new WeakMap<object, boolean>(),
});

/** One client's outgoing capture: where exchanges go and the compiled rules. */
export interface OutgoingRuntime {
  sink: CaptureSink;
  rules: OutgoingRules;
}

/** An outgoing call being observed. */
export interface Pending {
  ex: Exchange;
  startHr: number;
  limit: number;
  done: boolean;
  /** Response headers seen. */
  responded: boolean;
}

/**
 * Decide, in the caller's async context, whether this sink captures a call: not the SDK's own
 * I/O, not an axios-observed call, not already taken (two mechanisms or two SDK copies), not ignored,
 * and, when made while serving an incoming request of another client, left to that client.
 */
export function claim(rt: OutgoingRuntime, target: object, host: string, path: string): boolean {
  if (!rt.sink.capturing || isSuppressed() || shared.axios.getStore() !== undefined || shared.axiosSync !== undefined) return false;
  const t = target as Record<symbol, unknown>;
  if (t[CLAIMED]) return false;
  const owner = currentRequest()?.owner;
  if (owner && owner !== rt.sink && shared.monitors.has(owner)) return false;
  if (rt.rules.ignored(host, path)) return false;
  t[CLAIMED] = true;
  return true;
}

/** Path without query string. */
export function pathOf(rawUrl: string): string {
  const q = rawUrl.search(/[?#]/);
  return q < 0 ? rawUrl : rawUrl.slice(0, q);
}

/** Start an outgoing exchange (timestamp = now, parent = the incoming request in context). */
export function begin(
  rt: OutgoingRuntime,
  sdkType: SdkType,
  method: string,
  host: string,
  rawUrl: string,
  options: { parentId?: string; startEpochMs?: number; startHr?: number; templates?: ReturnType<typeof compileTemplates> } = {},
): Pending {
  const startHr = options.startHr ?? performance.now();
  const { urlPath, params } = rt.rules.route(host, pathOf(rawUrl) || "/", options.templates);
  const ex: Exchange = {
    sdkType,
    msgId: newMsgId(),
    startEpochMs: options.startEpochMs ?? performance.timeOrigin + startHr,
    durationNs: 0,
    method: method.toUpperCase(),
    host,
    rawUrl: rawUrl || "/",
    urlPath,
    pathParams: params,
    protoMajor: 1,
    protoMinor: 1,
    statusCode: 0,
    requestHeaders: {},
    responseHeaders: {},
    requestBody: emptyBody(),
    responseBody: emptyBody(),
    errors: [],
  };
  const req = currentRequest();
  const parentId = "parentId" in options ? options.parentId : req?.msgId;
  if (parentId) ex.parentId = parentId;
  // The parent's identity as it stands when the call starts (a later set makes a new object).
  if (req !== undefined && req.identity !== undefined && req.msgId === parentId) ex.identity = req.identity;
  if (rt.sink.config.traceContext) {
    const tp = outgoingTraceparent(parentId || undefined);
    if (tp !== undefined) ex.traceparent = tp;
  }
  setRules(ex, rt.rules.rulesFor(host));
  return { ex, startHr, limit: rt.sink.config.maxBodyBytes, done: false, responded: false };
}

/** Hand the exchange over, once. Never throws. */
export function finish(rt: OutgoingRuntime, p: Pending): void {
  if (p.done) return;
  p.done = true;
  try {
    p.ex.durationNs = Math.max(0, Math.round((performance.now() - p.startHr) * 1e6));
    if (!p.responded) p.ex.statusCode = 0;
    rt.sink.accept(p.ex);
  } catch (err) {
    rt.sink.captureFailed(err);
  }
}

/** Run an observer so that nothing it throws reaches the app. */
export function guard(rt: OutgoingRuntime, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    try {
      rt.sink.captureFailed(err);
    } catch {
      /* never throw */
    }
  }
}

import { AsyncLocalStorage } from "node:async_hooks";
import type { ErrorRecord } from "../wire/types.js";
import type { Identity } from "./identity-types.js";
import { CONTEXT } from "../registry/symbols.js";

/** Per-request state visible to code running in the request's async context. */
export interface RequestContext {
  /** msg_id of the incoming request being served (parent_id of outgoing calls made under it). */
  msgId: string;
  /** Errors reported while serving it (appended by reportError and framework error hooks). */
  errors: ErrorRecord[];
  /** The client that captures this request. */
  owner: object;
  /** OTLP delivery only: the OpenTelemetry trace the request's span joined (W3C traceparent), if any. */
  traceparent?: string;
  /** Who is calling (setUser, setTenant, setSession, setAttributes); undefined until one is called.
   *  Replaced, never mutated, by each set. */
  identity?: Identity;
}

/**
 * Shared across copies of the SDK loaded in one process (ESM and CJS builds, or two versions), so
 * `reportError` from one copy reaches a request captured by another, and suppression is global.
 */
interface SharedState {
  requests: AsyncLocalStorage<RequestContext>;
  suppressed: AsyncLocalStorage<true>;
}
const g = globalThis as unknown as Record<symbol, SharedState | undefined>;
const shared: SharedState = (g[CONTEXT] ??= {
  requests: new AsyncLocalStorage<RequestContext>(),
  suppressed: new AsyncLocalStorage<true>(),
});

/** Run `fn` with `ctx` as the current request context. */
export function runInRequest<T>(ctx: RequestContext, fn: () => T): T {
  return shared.requests.run(ctx, fn);
}

/** The request context of the current async execution, if any. */
export function currentRequest(): RequestContext | undefined {
  return shared.requests.getStore();
}

/** Run the SDK's own I/O (bootstrap, Pub/Sub, token exchange) so outgoing capture ignores it. */
export function runSuppressed<T>(fn: () => T): T {
  return shared.suppressed.run(true, () => shared.requests.exit(fn));
}

/** True inside runSuppressed: outgoing-call capture must skip this call. */
export function isSuppressed(): boolean {
  return shared.suppressed.getStore() === true;
}

/**
 * Publishing before a serverless invocation ends: Next's `after()` (15+; `unstable_after` in 15.0)
 * or, failing that, the platform's `waitUntil` from Next's request context (Vercel and others).
 */
import * as nextServer from "next/server.js";
import { FOREIGN } from "../../registry/symbols.js";

export type Task = () => Promise<unknown>;
type AfterFn = (task: Task) => void;

/** Run `task` after the response without letting the platform end the invocation first. */
export function keepAlive(task: Task): boolean {
  const mod = nextServer as unknown as { after?: AfterFn; unstable_after?: AfterFn };
  const after = mod.after ?? mod.unstable_after;
  try {
    if (after) {
      after(task);
      return true;
    }
  } catch {
    /* outside a request scope (or Next 15.0 without the flag): try the platform's waitUntil */
  }
  try {
    const store = (globalThis as Record<symbol, { get?: () => { waitUntil?: (p: Promise<unknown>) => void } | undefined } | undefined>)[FOREIGN.nextRequestContext];
    const waitUntil = store?.get?.()?.waitUntil;
    if (waitUntil) {
      waitUntil(task());
      return true;
    }
  } catch {
    /* nothing to keep the invocation alive with: delivery publishes on its schedule */
  }
  return false;
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** `p`, or nothing once `ms` passed. */
export function within(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((r) => (timer = setTimeout(r, ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

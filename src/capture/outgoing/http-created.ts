/**
 * `http.client.request.created` (Node >= 22.12/23.2: each ClientRequest as it is built, before any
 * write) for Node versions without it (Node 20, where `http.client.request.start` only fires after
 * `end()`): a pass-through on `ClientRequest.prototype.write/end` publishes the same message on the
 * SDK's own channel from the first `write`/`end` of each request, then lets an observer installed
 * on the instance see that first call too. Prototype, not module, patching: works in ESM and bundles.
 */
import dc from "node:diagnostics_channel";
import http from "node:http";
import { HTTP_CLIENT } from "../../registry/channels.js";
import { HTTP_CREATED_FALLBACK as FALLBACK, HTTP_SEEN as SEEN } from "../../registry/symbols.js";

type AnyFn = (...args: unknown[]) => unknown;

const HAS_CORE_CREATED = /ClientRequestCreated|request\.created/.test(Function.prototype.toString.call(http.ClientRequest));
/** Node's channel where it exists; else the SDK's own, published by the fallback with the same message shape. */
export const CREATED_CHANNEL = HAS_CORE_CREATED ? HTTP_CLIENT.created : HTTP_CLIENT.createdFallback;

interface Fallback {
  refs: number;
  restore: () => void;
}

/**
 * Where Node lacks the channel, install (once per process, shared by SDK copies) the pass-through
 * that emulates it. Returns the release function (the last release restores the prototype).
 */
export function acquireCreatedFallback(): () => void {
  if (HAS_CORE_CREATED) return () => undefined;
  const g = globalThis as unknown as Record<symbol, Fallback | undefined>;
  let fb = g[FALLBACK];
  if (!fb) {
    const proto = http.ClientRequest.prototype as unknown as Record<string, AnyFn>;
    const channel = dc.channel(CREATED_CHANNEL);
    const originals: Record<string, AnyFn> = {};
    const wrappers: Record<string, AnyFn> = {};
    const own = new Set(["write", "end"].filter((name) => Object.prototype.hasOwnProperty.call(proto, name)));
    for (const name of ["write", "end"]) {
      const original = (originals[name] = proto[name]!);
      wrappers[name] = proto[name] = function apitoolkitFirstWrite(this: Record<string | symbol, unknown>, ...args: unknown[]) {
        if (!this[SEEN]) {
          this[SEEN] = true;
          if (channel.hasSubscribers) {
            try {
              channel.publish({ request: this });
            } catch {
              /* subscribers never throw into the app */
            }
            // A subscriber installed an observer on the instance: let it see this first call too.
            const own = Object.prototype.hasOwnProperty.call(this, name) ? (this[name] as AnyFn) : undefined;
            if (own && own !== wrappers[name]) return own.apply(this, args);
          }
        }
        return original.apply(this, args);
      };
    }
    fb = g[FALLBACK] = {
      refs: 0,
      restore: () => {
        for (const name of ["write", "end"]) {
          if (proto[name] !== wrappers[name]) continue; // wrapped again by someone else: stays a pass-through
          if (own.has(name)) proto[name] = originals[name]!;
          else delete proto[name];
        }
        g[FALLBACK] = undefined;
      },
    };
  }
  fb.refs++;
  const mine = fb;
  return () => {
    if (--mine.refs === 0) mine.restore();
  };
}

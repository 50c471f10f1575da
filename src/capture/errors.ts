import type { ErrorRecord } from "../wire/types.js";
import { currentRequest } from "./context.js";

const MAX_CAUSE_DEPTH = 32;
const MAX_TEXT = 16 * 1024;

function clip(s: string): string {
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + "…" : s;
}

function typeName(value: unknown): string {
  if (value instanceof Error) return value.constructor?.name || value.name || "Error";
  if (value === null) return "null";
  if (typeof value === "object") {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === "string" && ctor.name ? ctor.name : "Object";
  }
  return typeof value;
}

function messageOf(value: unknown): string {
  try {
    if (value instanceof Error) {
      if (value instanceof AggregateError && value.errors?.length) {
        const inner = value.errors.map((e) => messageOf(e)).join("; ");
        return value.message ? `${value.message} [${inner}]` : inner;
      }
      return String(value.message ?? "");
    }
    if (typeof value === "string") return value;
    if (value && typeof value === "object") {
      const m = (value as { message?: unknown }).message;
      if (typeof m === "string") return m;
      return JSON.stringify(value) ?? String(value);
    }
    return String(value);
  } catch {
    return "[unprintable error]";
  }
}

function stackOf(value: unknown): string {
  try {
    if (value instanceof Error && typeof value.stack === "string") return value.stack;
    if (value && typeof value === "object") {
      const s = (value as { stack?: unknown }).stack;
      if (typeof s === "string") return s;
    }
  } catch {
    /* a throwing getter: no stack */
  }
  return "";
}

function causeOf(value: unknown): unknown {
  try {
    if (value && typeof value === "object" && "cause" in value) return (value as { cause?: unknown }).cause;
  } catch {
    /* a throwing getter ends the chain */
  }
  return undefined;
}

/**
 * Turn anything thrown (Error with a `cause` chain, AggregateError, string, plain object, null)
 * into the wire format's six-field error object. Never throws.
 */
export function normalizeError(value: unknown, when: Date = new Date()): ErrorRecord {
  let root = value;
  const seen = new Set<unknown>([value]);
  for (let i = 0; i < MAX_CAUSE_DEPTH; i++) {
    const next = causeOf(root);
    if (next === undefined || next === null || seen.has(next)) break;
    seen.add(next);
    root = next;
  }
  return {
    when: when.toISOString(),
    error_type: clip(typeName(value)),
    root_error_type: clip(typeName(root)),
    root_error_message: clip(messageOf(root)),
    message: clip(messageOf(value)),
    stack_trace: clip(stackOf(value)),
  };
}

/** What was called outside any request: reportError, or one of the identity setters. */
export type OutsideKind = "error" | "identity";
type OutsideListener = (kind: OutsideKind) => void;
const outsideListeners = new Set<OutsideListener>();
/** @internal each live client counts reportError (and identity) calls made outside a request; returns the unsubscribe. */
export function onErrorOutsideRequest(fn: OutsideListener): () => void {
  outsideListeners.add(fn);
  return () => outsideListeners.delete(fn);
}

/** Tell every live client that a call found no request (counted, never thrown). */
export function countOutsideRequest(kind: OutsideKind): void {
  for (const fn of outsideListeners) {
    try {
      fn(kind);
    } catch {
      /* never throw into the app */
    }
  }
}

/**
 * Attach an error to the message of the request being served in the current async context.
 * Outside any request it does nothing but count (and say once, in debug mode, where it went).
 * Never throws, never rejects.
 *
 * @example
 * app.get("/pay", async (req, res) => {
 *   try { await charge(req.body); } catch (err) { reportError(err); res.status(502).end(); }
 * });
 */
export function reportError(error: unknown): void {
  try {
    const ctx = currentRequest();
    if (!ctx) {
      countOutsideRequest("error");
      return;
    }
    recordError(ctx.errors, error);
  } catch {
    /* never throw into the app */
  }
}

const MAX_ERRORS_PER_REQUEST = 100;

/** Append an error to a request's list, once: the same error reported twice (reportError, then a
 *  framework error hook) is recorded once. Never throws. */
export function recordError(errors: ErrorRecord[], error: unknown): void {
  try {
    if (errors.length >= MAX_ERRORS_PER_REQUEST) return;
    const rec = normalizeError(error);
    const dup = errors.some((e) => e.message === rec.message && e.error_type === rec.error_type && e.stack_trace === rec.stack_trace);
    if (!dup) errors.push(rec);
  } catch {
    /* never throw into the app */
  }
}

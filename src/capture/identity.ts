/**
 * Who is calling: `setUser`, `setTenant`, `setSession` and `setAttributes`, called anywhere in a
 * request's async context (like `reportError`). They put the identity on the request being served;
 * the exchange carries it when the response finishes, and each outgoing call made after a set
 * carries the identity its parent had when the call started.
 *
 * Nothing is allocated per request unless a setter is called: a request without identity keeps
 * `identity` undefined. Each set replaces the request's identity object (copy on write), so an
 * outgoing call that took it keeps what was set before it started.
 *
 * Never throws into the app: bad input is ignored with a one-time warning; outside any request a
 * set is only counted (`stats().identityOutsideRequest`).
 */
import { currentRequest } from "./context.js";
import { countOutsideRequest } from "./errors.js";
import type { WarningCode } from "../registry/codes.js";
import type { AttributeValue, Identity, TenantIdentity, UserIdentity } from "./identity-types.js";

export type { AttributeValue, Identity, TenantIdentity, UserIdentity } from "./identity-types.js";

/** Prefixes of the SDK's own attributes: a setAttributes key starting so would shadow one of them. */
export const RESERVED_PREFIXES = ["http.", "url.", "server.", "user.", "tenant.", "session.", "monoscope.", "apitoolkit."] as const;
/** Longest text kept of one identity value (longer ones are cut). */
export const MAX_VALUE_CHARS = 1024;
/** Longest attribute key accepted. */
export const MAX_KEY_CHARS = 128;
/** Most attribute keys one request keeps (further new keys are refused). */
export const MAX_ATTRIBUTES = 64;

/** What the setters need of the client that captures the request (its sink). */
interface Owner {
  warnOnce?(code: WarningCode, detail?: unknown): void;
}

function warn(owner: unknown, code: WarningCode, detail: string): void {
  try {
    (owner as Owner | undefined)?.warnOnce?.(code, detail);
  } catch {
    /* never throw into the app */
  }
}

function clip(s: string): string {
  return s.length > MAX_VALUE_CHARS ? s.slice(0, MAX_VALUE_CHARS) : s;
}

/** The request context to set on, or undefined (then counted as outside any request). */
function target(): { identity?: Identity; owner: object } | undefined {
  const ctx = currentRequest();
  if (ctx === undefined) countOutsideRequest("identity");
  return ctx;
}

/** Read string fields of an app-given object; undefined when none is a usable string. */
function fields(input: unknown, names: ReadonlyArray<[from: string, to: string]>): Record<string, string> | undefined | null {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return null;
  let out: Record<string, string> | undefined;
  for (const [from, to] of names) {
    const v = (input as Record<string, unknown>)[from];
    if (v === undefined || v === null) continue;
    if (typeof v === "number" && Number.isFinite(v)) (out ??= {})[to] = String(v);
    else if (typeof v === "string") {
      if (v !== "") (out ??= {})[to] = clip(v);
    } else return null;
  }
  return out;
}

const USER_FIELDS: ReadonlyArray<[string, string]> = [["id", "id"], ["email", "email"], ["name", "full_name"]];
const TENANT_FIELDS: ReadonlyArray<[string, string]> = [["id", "id"], ["name", "name"]];

/**
 * Say who makes the request being served: its user's id, e-mail and/or name. Sent as given (the
 * value detectors do not touch them: naming the user is the app's deliberate choice). A later call
 * replaces the earlier user. Outside a request it does nothing but count. Never throws.
 *
 * @example
 * app.use((req, _res, next) => { if (req.user) setUser({ id: req.user.id, email: req.user.email }); next(); });
 */
export function setUser(user: UserIdentity): void {
  try {
    const ctx = target();
    if (ctx === undefined) return;
    const f = fields(user, USER_FIELDS);
    if (!f) return warn(ctx.owner, "W_IDENTITY_INVALID", "setUser takes { id?, email?, name? } with at least one non-empty string");
    ctx.identity = { ...ctx.identity, user: f };
  } catch {
    /* never throw into the app */
  }
}

/**
 * Say which customer account (tenant, organization) the request being served is made for. A later
 * call replaces the earlier tenant. Outside a request it does nothing but count. Never throws.
 *
 * @example
 * setTenant({ id: org.id, name: org.name });
 */
export function setTenant(tenant: TenantIdentity): void {
  try {
    const ctx = target();
    if (ctx === undefined) return;
    const f = fields(tenant, TENANT_FIELDS);
    if (!f) return warn(ctx.owner, "W_IDENTITY_INVALID", "setTenant takes { id?, name? } with at least one non-empty string");
    ctx.identity = { ...ctx.identity, tenant: f };
  } catch {
    /* never throw into the app */
  }
}

/**
 * Say which session the request being served belongs to (OTLP `session.id`). A later call replaces
 * the earlier one. Outside a request it does nothing but count. Never throws.
 *
 * @example
 * setSession(req.cookies.sid_public);
 */
export function setSession(sessionId: string): void {
  try {
    const ctx = target();
    if (ctx === undefined) return;
    if (typeof sessionId !== "string" || sessionId === "") return warn(ctx.owner, "W_IDENTITY_INVALID", "setSession takes a non-empty string");
    ctx.identity = { ...ctx.identity, session: clip(sessionId) };
  } catch {
    /* never throw into the app */
  }
}

/** Why a key cannot be an attribute, or undefined when it can. */
function keyProblem(key: string): string | undefined {
  if (key === "" || key.length > MAX_KEY_CHARS) return `attribute keys are 1 to ${MAX_KEY_CHARS} characters`;
  // eslint-disable-next-line no-control-regex -- control characters and ":" (the Pub/Sub tag separator) cannot be in a key
  if (/[\u0000-\u001f\u007f:]/.test(key)) return `"${key.slice(0, 40)}": a key holds no ":" or control character`;
  const lower = key.toLowerCase();
  for (const p of RESERVED_PREFIXES) if (lower.startsWith(p)) return `"${key.slice(0, 40)}" would shadow the SDK's own ${p}* attributes`;
  return undefined;
}

/**
 * Attach the app's own attributes to the request being served: string, number or boolean values,
 * merged key by key with earlier calls (a later value wins). Keys that would shadow the SDK's own
 * (`http.*`, `url.*`, `server.*`, `user.*`, `tenant.*`, `session.*`, `monoscope.*`,
 * `apitoolkit.*`) are refused with a one-time warning; the values go through the value detectors
 * like every other captured value. Outside a request it does nothing but count. Never throws.
 *
 * @example
 * setAttributes({ plan: "pro", "cart.items": 3, beta: true });
 */
export function setAttributes(attributes: Record<string, AttributeValue>): void {
  try {
    const ctx = target();
    if (ctx === undefined) return;
    if (attributes === null || typeof attributes !== "object" || Array.isArray(attributes)) {
      return warn(ctx.owner, "W_IDENTITY_INVALID", "setAttributes takes an object of string, number or boolean values");
    }
    const before = ctx.identity?.attributes;
    let out: Record<string, AttributeValue> | undefined;
    let count = before === undefined ? 0 : Object.keys(before).length;
    for (const key of Object.keys(attributes)) {
      const v: unknown = attributes[key];
      const problem = keyProblem(key);
      if (problem !== undefined) {
        warn(ctx.owner, "W_ATTRIBUTE_REFUSED", problem);
        continue;
      }
      let value: AttributeValue;
      if (typeof v === "string") value = clip(v);
      else if (typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) value = v;
      else {
        warn(ctx.owner, "W_IDENTITY_INVALID", `setAttributes: the value of "${key.slice(0, 40)}" is not a string, finite number or boolean`);
        continue;
      }
      out ??= { ...before };
      if (!(key in out)) {
        if (count >= MAX_ATTRIBUTES) {
          warn(ctx.owner, "W_ATTRIBUTE_REFUSED", `more than ${MAX_ATTRIBUTES} attributes on one request`);
          continue;
        }
        count++;
      }
      out[key] = value;
    }
    if (out !== undefined) ctx.identity = { ...ctx.identity, attributes: out };
  } catch {
    /* never throw into the app */
  }
}

/**
 * The identity as flat attributes (`user.id`, ..., `session.id`, then the app's keys), with
 * `redact` applied to the app's attribute values (not to user/tenant/session: sent as given).
 */
export function identityAttributes(identity: Identity, redact?: (value: string) => string | undefined): Array<[string, AttributeValue]> {
  const out: Array<[string, AttributeValue]> = [];
  const u = identity.user;
  if (u !== undefined) for (const k of ["id", "email", "full_name"]) if (u[k] !== undefined) out.push(["user." + k, u[k]!]);
  const t = identity.tenant;
  if (t !== undefined) for (const k of ["id", "name"]) if (t[k] !== undefined) out.push(["tenant." + k, t[k]!]);
  if (identity.session !== undefined) out.push(["session.id", identity.session]);
  const a = identity.attributes;
  if (a !== undefined) {
    for (const k of Object.keys(a)) {
      const v = a[k]!;
      const red = redact === undefined ? undefined : redact(typeof v === "string" ? v : String(v));
      out.push([k, red === undefined ? v : red]);
    }
  }
  return out;
}

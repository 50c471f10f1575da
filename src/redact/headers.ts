import { REDACTED } from "../registry/marker.js";
import type { RawHeaders } from "../capture/exchange.js";

const REDACTED_VALUE = [REDACTED];

function add(out: Record<string, string[]>, name: string, value: string, redact: ReadonlySet<string>): void {
  const key = name.toLowerCase();
  if (redact.has(key)) {
    out[key] = REDACTED_VALUE.slice();
    return;
  }
  const list = Object.prototype.hasOwnProperty.call(out, key) ? out[key]! : (out[key] = []);
  list.push(value);
}

/**
 * Headers as the wire format wants them (lower-case name -> array of values, repeats kept in order),
 * with every header whose NAME is in `redact` (lower-case) replaced by ["[CLIENT_REDACTED]"].
 * The result has a null prototype, so `__proto__` is just a header name.
 */
export function wireHeaders(raw: RawHeaders | undefined, redact: ReadonlySet<string>): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  if (!raw) return out;
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) add(out, String(raw[i]), String(raw[i + 1]), redact);
    return out;
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) add(out, name, String(v), redact);
    else add(out, name, String(value), redact);
  }
  return out;
}

/** First value of a header (name matched case-insensitively) from captured raw headers, for content-type and the like. */
export function headerValue(raw: RawHeaders | undefined, name: string): string | undefined {
  if (!raw) return undefined;
  name = name.toLowerCase();
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (String(raw[i]).toLowerCase() === name) return String(raw[i + 1]);
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (k.toLowerCase() === name && v !== undefined) return Array.isArray(v) ? String(v[0]) : String(v);
  }
  return undefined;
}

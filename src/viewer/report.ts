/**
 * Which rules redacted what in one message, worked out from the redacted message itself: every
 * header value that is the marker, every JSON (or form) value that is the marker, each attributed
 * to the configured rule that selects it. Field names and counts only, never a value.
 */
import { compilePaths, type CompiledPaths } from "../jsonpath/index.js";
import { normalizedPath } from "../jsonpath/normalized.js";
import { REDACTED } from "../registry/marker.js";
import type { APIToolkitOptions } from "../config/options.js";
import type { WireMessage } from "../wire/types.js";

/** One rule that fired in one message, and the fields it redacted. */
export interface RedactionHit {
  /** The rule: a header name, a JSONPath as configured (with where it was configured), or why a whole body became the marker. */
  rule: string;
  where: "request headers" | "response headers" | "request body" | "response body" | "query";
  /** The redacted fields (never their values): header names, or paths such as `$.card.number`. */
  paths: string[];
  /** Values replaced by the marker. */
  count: number;
}

interface BodyRule {
  label: string;
  paths: CompiledPaths;
  /** Configured under `outgoing`: applies to outgoing calls only. */
  outgoingOnly: boolean;
}

/** The body rules of a client, each compiled on its own so that a marker can be traced to its rule. */
export interface ViewerRules {
  request: BodyRule[];
  response: BodyRule[];
}

/** Rule labels shown when no configured path selects a marker. */
export const FAIL_CLOSED = "whole body: could not be checked against the rules (fail closed)";
export const UNATTRIBUTED = "marker with no configured path (another rule or a depth cap)";

const MAX_WALK_DEPTH = 256;

/** Compile every body rule of the options one by one (they were validated at construction). */
export function compileRules(options: APIToolkitOptions | undefined): ViewerRules {
  const rules: ViewerRules = { request: [], response: [] };
  const add = (list: BodyRule[], paths: unknown, prefix: string, outgoingOnly: boolean) => {
    if (!Array.isArray(paths)) return;
    for (const p of paths) {
      if (typeof p !== "string") continue;
      try {
        list.push({ label: prefix + p, paths: compilePaths([p]), outgoingOnly });
      } catch {
        /* validated at construction; nothing to attribute to otherwise */
      }
    }
  };
  add(rules.request, options?.redactRequestBody, "", false);
  add(rules.response, options?.redactResponseBody, "", false);
  const out = options?.outgoing;
  add(rules.request, out?.redactRequestBody, "outgoing: ", true);
  add(rules.response, out?.redactResponseBody, "outgoing: ", true);
  (Array.isArray(out?.destinations) ? out.destinations : []).forEach((d, i) => {
    const prefix = `outgoing.destinations[${i}] (${String(d?.host)}): `;
    add(rules.request, d?.redactRequestBody, prefix, true);
    add(rules.response, d?.redactResponseBody, prefix, true);
  });
  return rules;
}

/** The redaction report of one published message. Never throws. */
export function redactionReport(m: WireMessage, rules: ViewerRules): RedactionHit[] {
  const hits: RedactionHit[] = [];
  try {
    headerHits(hits, m.request_headers, "request headers");
    headerHits(hits, m.response_headers, "response headers");
    for (const [name, values] of Object.entries(m.query_params ?? {})) {
      const n = Array.isArray(values) ? values.filter((v) => v === REDACTED).length : 0;
      if (n) hits.push({ rule: name, where: "query", paths: [name], count: n });
    }
    const outgoing = typeof m.sdk_type === "string" && m.sdk_type.endsWith("Outgoing");
    bodyHits(hits, m.request_body, first(m.request_headers, "content-type"), "request body", rules.request, outgoing);
    bodyHits(hits, m.response_body, first(m.response_headers, "content-type"), "response body", rules.response, outgoing);
  } catch {
    /* a report is a courtesy: what could not be worked out is left out */
  }
  return hits;
}

function first(headers: Record<string, string[]> | undefined, name: string): string {
  const v = headers?.[name];
  return Array.isArray(v) && typeof v[0] === "string" ? v[0].toLowerCase() : "";
}

function headerHits(hits: RedactionHit[], headers: Record<string, string[]> | undefined, where: RedactionHit["where"]): void {
  for (const [name, values] of Object.entries(headers ?? {})) {
    const n = Array.isArray(values) ? values.filter((v) => v === REDACTED).length : 0;
    if (n) hits.push({ rule: name, where, paths: [name], count: n });
  }
}

function bodyHits(hits: RedactionHit[], b64: string, contentType: string, where: RedactionHit["where"], rules: BodyRule[], outgoing: boolean): void {
  if (!b64) return;
  const text = Buffer.from(b64, "base64").toString("utf8");
  if (!text.includes(REDACTED) && !text.includes(encodeURIComponent(REDACTED))) return;
  const doc = parseBody(text, contentType);
  if (doc === undefined) {
    // Text the rules could not address (e.g. a multipart field redacted by name): count the markers.
    const count = text.split(REDACTED).length - 1;
    if (count) hits.push({ rule: UNATTRIBUTED, where, paths: ["(text)"], count });
    return;
  }
  const markers = markerPaths(doc); // normalized path -> display path
  if (markers.size === 0) return;
  const attributed = new Set<string>();
  for (const rule of rules) {
    if (rule.outgoingOnly && !outgoing) continue;
    let selected: string[];
    try {
      selected = rule.paths.locations(doc);
    } catch {
      continue;
    }
    const paths = selected.filter((p) => markers.has(p));
    if (!paths.length) continue;
    for (const p of paths) attributed.add(p);
    hits.push({ rule: rule.label, where, paths: paths.map((p) => markers.get(p)!), count: paths.length });
  }
  const rest = [...markers.keys()].filter((p) => !attributed.has(p));
  if (rest.includes("$")) hits.push({ rule: FAIL_CLOSED, where, paths: ["$"], count: 1 });
  const others = rest.filter((p) => p !== "$");
  if (others.length) hits.push({ rule: UNATTRIBUTED, where, paths: others.map((p) => markers.get(p)!), count: others.length });
}

/** A body as the rules saw it: JSON, or a form as name -> value(s); undefined for anything else. */
function parseBody(text: string, contentType: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (!contentType.startsWith("application/x-www-form-urlencoded")) return undefined;
  const doc = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = doc[k];
    doc[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return doc;
}

/** Every node whose value is the marker: normalized path (as the engine reports it) -> readable path. */
function markerPaths(doc: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const stack: Array<{ value: unknown; keys: Array<string | number> }> = [{ value: doc, keys: [] }];
  while (stack.length) {
    const { value, keys } = stack.pop()!;
    if (value === REDACTED) {
      out.set(normalizedPath(keys), readablePath(keys));
      continue;
    }
    if (value === null || typeof value !== "object" || keys.length >= MAX_WALK_DEPTH) continue;
    const entries: Array<[string | number, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], keys: [...keys, entries[i]![0]] });
  }
  return out;
}

/** `$.card.number`, `$.items[0].secret`, `$['odd key']`. */
export function readablePath(keys: ReadonlyArray<string | number>): string {
  let s = "$";
  for (const k of keys) {
    if (typeof k === "number") s += `[${k}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(k)) s += `.${k}`;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s;
}

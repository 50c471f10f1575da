/**
 * Outgoing-call options: validated and compiled once (at construction), then looked up per call.
 */
import { compileNamed, fail, stringList } from "./validate.js";
import { matchesAny, testRegExp } from "./match.js";
import { namePaths, type RuleSet } from "../redact/rules.js";
import type { CompiledPaths } from "../jsonpath/index.js";

/** A host pattern: a string is compared case-insensitively with `host:port` and with the bare host; a RegExp is tested on both. */
export type HostPattern = string | RegExp;

/** A URL template (`/v1/customers/:id`), for every destination or for one host only. */
export type UrlTemplate = string | { host: HostPattern; template: string };

/** Extra redaction for the calls to one destination, on top of the top-level and `outgoing` rules. */
export interface OutgoingDestination {
  host: HostPattern;
  redactHeaders?: string[];
  redactRequestBody?: string[];
  redactResponseBody?: string[];
}

/**
 * Options of outgoing-call capture (`new APIToolkit({ outgoing: {...} })`). The top-level
 * `redactHeaders`/`redactRequestBody`/`redactResponseBody` apply to outgoing calls too; these add to them.
 *
 * @example
 * new APIToolkit({ apiKey, outgoing: {
 *   redactRequestBody: ["$.card.number"],
 *   urlTemplates: ["/v1/customers/:id", { host: "api.github.com", template: "/repos/:owner/:repo" }],
 *   destinations: [{ host: "api.stripe.com", redactHeaders: ["stripe-account"] }],
 *   ignoreHosts: ["metrics.internal"], ignorePaths: [/^\/health/],
 * } });
 */
export interface OutgoingOptions {
  /** Header names redacted in outgoing calls (case-insensitive), added to the top-level list. */
  redactHeaders?: string[];
  /** JSONPaths redacted in outgoing request bodies, added to the top-level `redactRequestBody`. */
  redactRequestBody?: string[];
  /** JSONPaths redacted in outgoing response bodies, added to the top-level `redactResponseBody`. */
  redactResponseBody?: string[];
  /** Templates for `url_path` (first match wins; `:name` matches one path segment). No match: the path itself. */
  urlTemplates?: UrlTemplate[];
  /** Calls to these hosts are not captured. */
  ignoreHosts?: HostPattern[];
  /** Calls whose path (no query) equals a string or matches a RegExp are not captured. */
  ignorePaths?: Array<string | RegExp>;
  /** Per-destination redaction rules (first matching host wins). */
  destinations?: OutgoingDestination[];
}

interface Template {
  host: HostPattern | undefined;
  template: string;
  segments: string[];
}

/** What one client needs per outgoing call, compiled once. */
export interface OutgoingRules {
  /** True when calls to this host/path must not be captured. */
  ignored(host: string, path: string): boolean;
  /** The redaction rules for calls to this host. */
  rulesFor(host: string): RuleSet;
  /** url_path and path_params for a path (no query) on a host. */
  route(host: string, path: string, extra?: readonly Template[]): { urlPath: string; params: Record<string, string> };
}

const KNOWN = new Set(["redactHeaders", "redactRequestBody", "redactResponseBody", "urlTemplates", "ignoreHosts", "ignorePaths", "destinations"]);


function isPattern(p: unknown): p is HostPattern {
  return typeof p === "string" || p instanceof RegExp;
}

function patterns(name: string, v: unknown): HostPattern[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isPattern)) fail(`${name} must be an array of strings and RegExps`);
  return v as HostPattern[];
}


/** Two compiled path sets applied one after the other (the top-level set is compiled by the core). */
function combine(a: CompiledPaths, b: CompiledPaths): CompiledPaths {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  return {
    size: a.size + b.size,
    redact: (doc) => b.redact(a.redact(doc)),
    locations: (doc) => [...new Set([...a.locations(doc), ...b.locations(doc)])],
    mayMatch: (text) => a.mayMatch(text) || b.mayMatch(text),
  };
}

function extend(base: RuleSet, where: string, o: { redactHeaders?: unknown; redactRequestBody?: unknown; redactResponseBody?: unknown }): RuleSet {
  const headers = stringList(`${where}.redactHeaders`, o.redactHeaders).map((h) => h.trim().toLowerCase());
  const requestList = stringList(`${where}.redactRequestBody`, o.redactRequestBody);
  const responseList = stringList(`${where}.redactResponseBody`, o.redactResponseBody);
  const request = compileNamed(`${where}.redactRequestBody`, requestList);
  const response = compileNamed(`${where}.redactResponseBody`, responseList);
  return {
    ...base, // query names and value detectors apply to outgoing calls as they are
    headers: headers.length ? new Set([...base.headers, ...headers]) : base.headers,
    request: combine(base.request, request),
    response: combine(base.response, response),
    named: base.named && {
      request: requestList.length ? [...base.named.request, ...namePaths(requestList, request)] : base.named.request,
      response: responseList.length ? [...base.named.response, ...namePaths(responseList, response)] : base.named.response,
    },
  };
}

/** Compile URL templates (validated: strings starting with "/", or {host, template}). */
export function compileTemplates(name: string, v: unknown): Template[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(`${name} must be an array`);
  return v.map((t, i) => {
    const entry = typeof t === "string" ? { host: undefined, template: t } : (t as { host?: unknown; template?: unknown } | null);
    if (!entry || typeof entry.template !== "string" || !entry.template.startsWith("/") || (entry.host !== undefined && !isPattern(entry.host))) {
      fail(`${name}[${i}] must be a path template starting with "/" or { host, template }`);
    }
    return { host: entry.host as HostPattern | undefined, template: entry.template, segments: entry.template.split("/") };
  });
}

/** Host matching shared by ignoreHosts, templates and destinations. */
export function hostMatches(p: HostPattern, host: string): boolean {
  const bare = host.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (typeof p === "string") {
    const s = p.toLowerCase();
    return s === host.toLowerCase() || s === bare;
  }
  return testRegExp(p, host) || testRegExp(p, bare);
}

function matchTemplate(t: Template, host: string, segments: string[]): Record<string, string> | undefined {
  if (t.segments.length !== segments.length || (t.host !== undefined && !hostMatches(t.host, host))) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const want = t.segments[i]!;
    const got = segments[i]!;
    if (want.startsWith(":") && want.length > 1) {
      if (got === "") return undefined;
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        params[want.slice(1)] = got;
      }
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}

/**
 * Validate `outgoing` options and compile them on top of the client's top-level rules.
 * Throws APIToolkitConfigError naming the bad option.
 */
export function compileOutgoing(top: RuleSet, input: unknown): OutgoingRules {
  if (input !== undefined && (input === null || typeof input !== "object" || Array.isArray(input))) fail("outgoing must be an object");
  const o = (input ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) fail(`unknown option "outgoing.${key}"`);
  const base = extend(top, "outgoing", o);
  const templates = compileTemplates("outgoing.urlTemplates", o.urlTemplates);
  const ignoreHosts = patterns("outgoing.ignoreHosts", o.ignoreHosts);
  const ignorePaths = patterns("outgoing.ignorePaths", o.ignorePaths);
  if (o.destinations !== undefined && !Array.isArray(o.destinations)) fail("outgoing.destinations must be an array");
  const destinations = ((o.destinations ?? []) as unknown[]).map((d, i) => {
    const where = `outgoing.destinations[${i}]`;
    if (!d || typeof d !== "object" || !isPattern((d as { host?: unknown }).host)) fail(`${where} must be an object with a host (string or RegExp)`);
    for (const key of Object.keys(d)) if (!["host", "redactHeaders", "redactRequestBody", "redactResponseBody"].includes(key)) fail(`unknown option "${where}.${key}"`);
    return { host: (d as OutgoingDestination).host, rules: extend(base, where, d as OutgoingDestination) };
  });

  return {
    ignored(host, path) {
      return ignoreHosts.some((p) => hostMatches(p, host)) ||
        matchesAny(ignorePaths, path);
    },
    rulesFor(host) {
      return destinations.find((d) => hostMatches(d.host, host))?.rules ?? base;
    },
    route(host, path, extra = []) {
      const segments = path.split("/");
      for (const t of extra.length ? [...extra, ...templates] : templates) {
        const params = matchTemplate(t, host, segments);
        if (params) return { urlPath: t.template, params };
      }
      return { urlPath: path, params: {} };
    },
  };
}

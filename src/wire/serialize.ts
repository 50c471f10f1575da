/**
 * One exchange -> the bytes of one wire message (UTF-8 JSON), in one pass and without building the
 * message as an object first: headers go from the captured raw list straight to JSON text (redacted
 * by name), bodies are redacted, base64-encoded and copied in, the rest are fixed keys. This runs
 * when the response finishes, so that nothing of the request outlives it but these bytes.
 *
 * `project_id` is the first key: the project's id once bootstrap has learnt it, before that a
 * placeholder of the same length (a UUID), so bytes serialized earlier can be stamped in place
 * ({@link stampProjectId}).
 */
import type { CapturedBody, Exchange, RawHeaders } from "../capture/exchange.js";
import type { ErrorRecord } from "./types.js";
import { queryParams } from "../capture/url.js";
import { renderBody, type BodyRules } from "../redact/body.js";
import { redactPathSegments, redactRouteParams, redactUrl, redactValue, ruleName, type PairRules } from "../redact/query.js";
import type { RuleSet } from "../redact/rules.js";
import type { Tally, ValueRules } from "../redact/values.js";
import { REDACTED } from "../registry/marker.js";
import { enterScratch, leaveScratch } from "../jsonpath/scratch.js";
import { messageWithBodies } from "./body.js";
import { identityAttributes, type Identity } from "../capture/identity.js";

/** What serialization needs of the configuration. */
export interface SerializeOptions {
  readonly maxBodyBytes: number;
  readonly serviceVersion: string | undefined;
  readonly tags: readonly string[] | undefined;
  /** "otlp": the identity travels as the typed `identity` object the OTLP transport reads, not as tags. */
  readonly delivery?: "pubsub" | "otlp";
}

/** A UUID-shaped placeholder for `project_id` until bootstrap has answered. */
export const PROJECT_ID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000";
const HEAD = '{"project_id":"';
/** Byte offset of the project id in every serialized message. */
export const PROJECT_ID_OFFSET = HEAD.length;
const REDACTED_LIST = `[${JSON.stringify(REDACTED)}]`;

/** Write the project id into a serialized message (in place). */
export function stampProjectId(message: Buffer, projectId: string): void {
  message.write(projectId, PROJECT_ID_OFFSET, 36, "latin1");
}

/** Characters a JSON string cannot hold as they are (JSON.stringify escapes lone surrogates too). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;
/** A string as JSON text: most strings need no escape, and the test is cheaper than JSON.stringify. */
function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** The last second formatted by isoTimestamp, and its text up to the seconds (`2026-12-01T12:34:56`). */
let lastSecond = NaN;
let lastSecondText = "";

/**
 * `new Date(epochMs).toISOString()`, for epoch milliseconds in years 1970-9999. V8's Date takes
 * microseconds to build and format (measured: half of this file's own time in a server); requests
 * arrive within the same second, so the text up to the seconds is made once per second.
 */
export function isoTimestamp(epochMs: number): string {
  const ms = Math.floor(epochMs);
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    const iso = new Date(second * 1000).toISOString(); // "YYYY-MM-DDTHH:MM:SS.000Z"
    if (iso.length !== 24) return new Date(ms).toISOString(); // outside 0000-9999: not cached
    lastSecond = second;
    lastSecondText = iso.slice(0, 19);
  }
  const frac = ms - second * 1000;
  return lastSecondText + (frac < 10 ? ".00" : frac < 100 ? ".0" : ".") + frac + "Z";
}

/** Captured headers as two parallel lists: lower-case names and values, repeats in order. */
interface HeaderList {
  readonly names: string[];
  readonly values: string[];
}

/** node's flat rawHeaders, or a name -> value(s) map, as a HeaderList. */
function headerList(raw: RawHeaders | undefined): HeaderList {
  const names: string[] = [];
  const values: string[] = [];
  if (!raw) return { names, values };
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      names.push(lowerName(typeof name === "string" ? name : String(name)));
      values.push(typeof value === "string" ? value : String(value));
    }
    return { names, values };
  }
  for (const name of Object.keys(raw)) {
    const v = (raw as Record<string, unknown>)[name];
    if (v === undefined) continue;
    const lower = lowerName(name);
    if (Array.isArray(v)) {
      for (const one of v) {
        names.push(lower);
        values.push(String(one));
      }
    } else {
      names.push(lower);
      values.push(String(v));
    }
  }
  return { names, values };
}

/**
 * `f`, remembered per input: made once per distinct header name, SDK type or method instead of once
 * per exchange (a service sees a few dozen; past 1,024 the memory starts over).
 */
function remembered(f: (s: string) => string): (s: string) => string {
  const seen = new Map<string, string>();
  return (s) => {
    let v = seen.get(s);
    if (v === undefined) {
      if (seen.size >= 1024) seen.clear();
      seen.set(s, (v = f(s)));
    }
    return v;
  };
}

/** A header name in lower case, by its spelling on the wire. */
const lowerName = remembered((name) => name.toLowerCase());
/** A short string as JSON text: lower-case header names, SDK types, methods. */
const wordJson = remembered(str);
/** The stats key of a header redacted by name. */
const headerRule = remembered((name) => ruleName("header:", name));

/** The first value of a header (`name` in lower case). */
function first(h: HeaderList, name: string): string | undefined {
  const i = h.names.indexOf(name);
  return i < 0 ? undefined : h.values[i];
}

/** Headers whose value is a URL: its query is redacted by parameter name like the request's. */
function isUrlHeader(name: string): boolean {
  return name === "referer" || name === "location" || name === "content-location";
}

/**
 * One header value as published (its name not redacted): a URL's query by parameter name and its
 * decoded parts through the detectors, then the detectors over the value as it is.
 */
function headerValueOut(name: string, value: string, urls: PairRules | undefined, values: ValueRules | undefined, tally: Tally | undefined): string {
  if (isUrlHeader(name)) {
    if (values !== undefined) value = redactUrl(value, { names: urls?.names, nameTally: urls?.nameTally, values, valueTally: tally });
    else if (urls !== undefined && value.indexOf("?") >= 0) value = redactUrl(value, urls);
  }
  if (values !== undefined) value = redactValue(value, values, tally) ?? value;
  return value;
}

/**
 * Values the detectors already found nothing in, per detector set: the same header values, URLs and
 * route parameters come back exchange after exchange (a service's own response headers, its
 * routes, a client's User-Agent), and a value found clean once is clean again. Only for detectors
 * that judge each value alone (`local`): then a scan of the values not remembered decides for all
 * of them, as a scan of every value would. Bounded: short values only, and past 512 the memory starts over.
 */
const cleanValues = new WeakMap<ValueRules, Set<string>>();
const CLEAN_MAX_VALUES = 512;
const CLEAN_MAX_CHARS = 256;

/** The values of one probe not known clean, and where to remember them if the scan finds nothing. */
interface Probe {
  text: string;
  /** Values to remember as clean when the scan finds nothing (undefined: remember none). */
  fresh: string[] | undefined;
}

/** `v` into the probe unless `known` holds it. */
function probeValue(p: Probe, known: Set<string> | undefined, v: string): void {
  if (known !== undefined && known.has(v)) return;
  p.text = p.text === "" ? v : p.text + "\n" + v;
  if (p.fresh !== undefined && v.length <= CLEAN_MAX_CHARS) p.fresh.push(v);
}

/**
 * Every plain value the detectors would look at, joined by "\n" (which no built-in detector
 * matches across): the URL, the route template and parameters, header values not redacted by
 * name, error texts, less the values found clean before (see cleanValues); "" when nothing is left
 * to scan. Their JSON text would not do: an escape (`\"` in every ETag) hides nothing in the value
 * itself but would force the slow path on nearly every response.
 */
function valueProbe(ex: Exchange, reqH: HeaderList, resH: HeaderList, redact: ReadonlySet<string>, values: ValueRules): Probe {
  let known: Set<string> | undefined;
  if (values.local) {
    known = cleanValues.get(values);
    if (known === undefined) cleanValues.set(values, (known = new Set()));
  }
  const p: Probe = { text: "", fresh: known === undefined ? undefined : [] };
  probeValue(p, known, ex.rawUrl);
  probeValue(p, known, ex.urlPath ?? "");
  for (const k of Object.keys(ex.pathParams)) probeValue(p, known, ex.pathParams[k]!);
  probeValues(p, known, reqH, redact);
  probeValues(p, known, resH, redact);
  for (const e of ex.errors) {
    for (const key of ERROR_TEXTS) {
      const v = e[key];
      if (typeof v === "string") p.text = p.text === "" ? v : p.text + "\n" + v; // not remembered: rare and long
    }
  }
  return p;
}

/** Values of `h` not redacted by name into the probe. */
function probeValues(p: Probe, known: Set<string> | undefined, h: HeaderList, redact: ReadonlySet<string>): void {
  const { names, values } = h;
  for (let i = 0; i < names.length; i++) if (!redact.has(names[i]!)) probeValue(p, known, values[i]!);
}

/** Whether the detectors may find anything in the probe's values; remembers them clean when not. */
function probeMayMatch(p: Probe, values: ValueRules): boolean {
  if (p.text === "") return false;
  if (values.mayMatchValues(p.text)) return true;
  const fresh = p.fresh;
  if (fresh !== undefined && fresh.length > 0) {
    let known = cleanValues.get(values)!;
    if (known.size + fresh.length > CLEAN_MAX_VALUES) {
      known = new Set();
      cleanValues.set(values, known);
    }
    for (let i = 0; i < fresh.length; i++) known.add(fresh[i]!);
  }
  return false;
}

const ERROR_TEXTS = ["message", "root_error_message", "stack_trace", "error_type", "root_error_type"] as const;

/**
 * `{"name":["v1","v2"],...}`: repeats grouped in order, names in `redact` as ["[CLIENT_REDACTED]"]
 * (counted into `tally`); with `urls`, the query of a Referer/Location URL redacted by parameter
 * name; with `values`, detector matches in the other values.
 */
function headersJson(h: HeaderList, redact: ReadonlySet<string>, tally?: Tally, urls?: PairRules, values?: ValueRules, valueTally?: Tally): string {
  const { names, values: raw } = h;
  let out = "{";
  const n = names.length;
  const plain = urls === undefined && values === undefined;
  for (let i = 0; i < n; i++) {
    const name = names[i]!;
    if (names.indexOf(name) < i) continue; // already written with its first occurrence
    if (out.length > 1) out += ",";
    out += wordJson(name);
    if (redact.has(name)) {
      out += ":" + REDACTED_LIST;
      if (tally !== undefined) {
        let count = 1;
        for (let j = i + 1; j < n; j++) if (names[j] === name) count++;
        tally(headerRule(name), count);
      }
      continue;
    }
    out += ":[" + str(plain ? raw[i]! : headerValueOut(name, raw[i]!, urls, values, valueTally));
    for (let j = i + 1; j < n; j++) {
      if (names[j] === name) out += "," + str(plain ? raw[j]! : headerValueOut(name, raw[j]!, urls, values, valueTally));
    }
    out += "]";
  }
  return out + "}";
}

/** The protocol keys of HTTP/1.1, the common case, as one constant. */
const HTTP_11 = ',"proto_major":1,"proto_minor":1';

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/** The wire JSON of one side's headers (what serializeExchange writes for them). */
export function headersOnWire(raw: RawHeaders | undefined, redact: ReadonlySet<string>): string {
  return headersJson(headerList(raw), redact);
}

function queryJson(rawUrl: string): string {
  if (rawUrl.indexOf("?") < 0) return "{}";
  const q = queryParams(rawUrl);
  let out = "{";
  for (const k of Object.keys(q)) {
    if (out.length > 1) out += ",";
    out += str(k) + ":" + JSON.stringify(q[k]);
  }
  return out + "}";
}

/** The query_params object of decoded [name, value, ...] pairs, as queryJson writes it. */
function pairsJson(pairs: readonly string[]): string {
  if (pairs.length === 0) return "{}";
  const q = Object.create(null) as Record<string, string[]>;
  for (let i = 0; i < pairs.length; i += 2) (q[pairs[i]!] ??= []).push(pairs[i + 1]!);
  let out = "{";
  for (const k of Object.keys(q)) {
    if (out.length > 1) out += ",";
    out += str(k) + ":" + JSON.stringify(q[k]);
  }
  return out + "}";
}

/** Error records with the detectors' matches replaced in their texts. */
function errorsOut(errors: readonly ErrorRecord[], values: ValueRules, tally: Tally | undefined): string {
  return JSON.stringify(errors.map((e) => {
    const out = { ...e };
    for (const key of ERROR_TEXTS) {
      const v = out[key];
      if (typeof v === "string") out[key] = redactValue(v, values, tally) ?? v;
    }
    return out;
  }));
}

function paramsJson(params: Record<string, string>): string {
  let out = "{";
  for (const k of Object.keys(params)) {
    if (out.length > 1) out += ",";
    out += str(k) + ":" + str(params[k]!);
  }
  return out + "}";
}

/**
 * The identity of an exchange (setUser, setTenant, setSession, setAttributes), the app's attribute
 * values through the value detectors. Pub/Sub: `key:value` entries of `tags`, after the global tags
 * (the server's RequestMessage has no other place for them). OTLP: the global tags as they are, and
 * an `identity` object of typed attributes that the OTLP transport turns into span attributes.
 */
function identityJson(identity: Identity, options: SerializeOptions, values: ValueRules | undefined, tally: Tally | undefined): string {
  const attrs = identityAttributes(identity, values === undefined ? undefined : (v) => redactValue(v, values, tally));
  if (options.delivery === "otlp") {
    let out = options.tags !== undefined ? ',"tags":' + JSON.stringify(options.tags) : "";
    out += ',"identity":{';
    for (let i = 0; i < attrs.length; i++) out += (i > 0 ? "," : "") + JSON.stringify(attrs[i]![0]) + ":" + JSON.stringify(attrs[i]![1]);
    return out + "}";
  }
  const tags = options.tags !== undefined ? options.tags.slice() : [];
  for (const [k, v] of attrs) tags.push(k + ":" + String(v));
  return ',"tags":' + JSON.stringify(tags);
}

/**
 * Small bodies the rules passed unchanged before, per rule set and side: a service answers the same
 * small bodies over and over (`{"ok":true}`, `[]`, a status object), and the same bytes with the same
 * content type and rules render the same (render is a function of them alone when the body was kept
 * whole and is not compressed). Remembered only when the output was the input's bytes and no rule
 * counted anything (a body redacted to itself still counts its redactions each time). Bounded:
 * bodies up to 256 bytes, 256 bodies per content type and 16 content types (about 2 MB at most), then the memory starts over.
 */
const cleanBodies = new WeakMap<RuleSet, [CleanBodies, CleanBodies]>();
/** Per content type (as the header said it), the bodies (as latin1 text) found clean under it. */
type CleanBodies = Map<string, Set<string>>;
const CLEAN_BODY_MAX_BYTES = 256;
const CLEAN_BODIES_MAX = 256;
const CLEAN_BODY_TYPES_MAX = 16;

/** renderBody, through the memory of small bodies found clean (see cleanBodies). */
function renderKnown(body: CapturedBody, contentType: string | undefined, contentEncoding: string | undefined, rules: RuleSet, response: boolean, limit: number, bodyRules: BodyRules | undefined): Buffer {
  const paths = response ? rules.response : rules.request;
  const kept = body.keptBytes;
  if (kept === 0 || kept > CLEAN_BODY_MAX_BYTES || body.totalBytes !== kept || body.chunks.length !== 1 || contentEncoding !== undefined || bodyRules?.report === true) {
    return renderBody(body, contentType, contentEncoding, paths, limit, bodyRules);
  }
  const bytes = body.chunks[0]!;
  let memo = cleanBodies.get(rules);
  if (memo === undefined) cleanBodies.set(rules, (memo = [new Map(), new Map()]));
  const byType = memo[response ? 1 : 0];
  const type = contentType ?? "";
  let known = byType.get(type);
  const key = bytes.toString("latin1", 0, kept);
  if (known !== undefined && known.has(key)) return bytes;
  let counted = false;
  const outer = bodyRules?.tally;
  const watched: BodyRules | undefined = outer === undefined ? bodyRules : { ...bodyRules, tally: (rule, count, where) => { counted = true; outer(rule, count, where); } };
  const out = renderBody(body, contentType, contentEncoding, paths, limit, watched);
  if (!counted && out.length === kept && out.equals(bytes)) {
    if (known === undefined || known.size >= CLEAN_BODIES_MAX) {
      if (byType.size >= CLEAN_BODY_TYPES_MAX) byType.clear();
      byType.set(type, (known = new Set()));
    }
    known.add(key);
  }
  return out;
}

/**
 * The wire message of one exchange as UTF-8 JSON bytes, redacted by `rules` (headers by name,
 * query and route parameters by name, bodies by JSONPath failing closed, and the value detectors
 * everywhere), with the project id placeholder in front. Every redaction is counted into `tally`
 * by rule. Throws only on an internal error (the caller counts it as `build_failed`).
 * `alloc`: where to write the message (the caller's reused memory; it must return at least the
 * bytes asked for, and the message is their first bytes); a new Buffer when absent (./body.ts).
 */
export function serializeExchange(ex: Exchange, options: SerializeOptions, rules: RuleSet, tally?: Tally, projectId?: string, alloc?: (bytes: number) => Buffer): Buffer {
  // The bodies' joined chunks and splices live in reused scratch memory until the message is written.
  enterScratch();
  try {
    return serialize(ex, options, rules, tally, projectId, alloc);
  } finally {
    leaveScratch();
  }
}

function serialize(ex: Exchange, options: SerializeOptions, rules: RuleSet, tally: Tally | undefined, projectId: string | undefined, alloc: ((bytes: number) => Buffer) | undefined): Buffer {
  const limit = options.maxBodyBytes;
  const values = rules.values !== undefined && rules.values.size > 0 ? rules.values : undefined;
  const names = rules.query !== undefined && rules.query.size > 0 ? rules.query : undefined;
  const reqH = headerList(ex.requestHeaders);
  const resH = headerList(ex.responseHeaders);
  const counted = values !== undefined || tally !== undefined;
  // The rendered bodies (their base64 is written straight into the message at the end: ./body.ts).
  const reqBody = ex.requestBody.keptBytes === 0 && ex.requestBody.parsed === undefined
    ? undefined
    : renderKnown(ex.requestBody, first(reqH, "content-type"), first(reqH, "content-encoding"), rules, false, limit, counted ? { values, named: rules.named?.request, tally } : undefined);
  const resBody = ex.responseBody.keptBytes === 0 && ex.responseBody.parsed === undefined
    ? undefined
    : renderKnown(ex.responseBody, first(resH, "content-type"), first(resH, "content-encoding"), rules, true, limit, counted ? { values, named: rules.named?.response, tally } : undefined);

  // The URL, the route parameters and the headers, redacted by name.
  let rawUrl = ex.rawUrl;
  let params = ex.pathParams;
  let urlPath = ex.urlPath;
  let query: string;
  const urls: PairRules | undefined = names === undefined ? undefined : { names, nameTally: tally };
  if (urls === undefined && values === undefined) {
    query = queryJson(rawUrl);
  } else {
    const pairs: string[] = [];
    if (urls !== undefined && (rawUrl.indexOf("?") >= 0 || rawUrl.indexOf("#") >= 0)) rawUrl = redactUrl(rawUrl, urls, pairs);
    else if (rawUrl.indexOf("?") >= 0) redactUrl(rawUrl, {}, pairs);
    query = pairsJson(pairs);
    if (urls !== undefined && hasKeys(params)) ({ params, raw: rawUrl } = redactRouteParams(params, rawUrl, urls));
  }
  let paramsOut = paramsJson(params);
  let reqHeaders = headersJson(reqH, rules.headers, tally, urls);
  let resHeaders = headersJson(resH, rules.headers, tally, urls);
  let errors = ex.errors.length === 0 ? "[]" : JSON.stringify(ex.errors);
  const refererRaw = first(reqH, "referer");
  let referer = refererRaw === undefined ? "" : rules.headers.has("referer") ? REDACTED : urls !== undefined && refererRaw.indexOf("?") >= 0 ? redactUrl(refererRaw, { names }) : refererRaw;

  // Then the detectors, when one scan of all of it finds anything (the common case: nothing).
  if (values !== undefined && probeMayMatch(valueProbe(ex, reqH, resH, rules.headers, values), values)) {
    const pairs: string[] = [];
    const withValues: PairRules = { values, valueTally: tally };
    rawUrl = redactUrl(rawUrl, withValues, pairs);
    query = pairsJson(pairs);
    ({ params, raw: rawUrl } = redactRouteParams(params, rawUrl, withValues));
    paramsOut = paramsJson(params);
    if (urlPath !== undefined && urlPath !== "") urlPath = redactPathSegments(urlPath, values, tally);
    const urlNames: PairRules | undefined = names === undefined ? undefined : { names }; // counted above
    reqHeaders = headersJson(reqH, rules.headers, undefined, urlNames, values, tally);
    resHeaders = headersJson(resH, rules.headers, undefined, urlNames, values, tally);
    if (referer !== "" && referer !== REDACTED) referer = headerValueOut("referer", referer, undefined, values, undefined); // counted in the headers
    if (ex.errors.length > 0) errors = errorsOut(ex.errors, values, tally);
  }

  // The project id when already known (a UUID: 36 ASCII characters, as stampProjectId writes it), else the placeholder.
  let head = HEAD + (projectId !== undefined && projectId.length === 36 ? projectId : PROJECT_ID_PLACEHOLDER) +
    '","msg_id":' + str(ex.msgId) +
    ',"timestamp":"' + isoTimestamp(ex.startEpochMs) +
    '","duration":' + Math.max(0, Math.round(ex.durationNs)) +
    ',"sdk_type":' + wordJson(ex.sdkType) +
    ',"method":' + wordJson(ex.method.toUpperCase()) +
    ',"host":' + wordJson(ex.host) +
    ',"raw_url":' + str(rawUrl) +
    (ex.protoMajor === 1 && ex.protoMinor === 1 ? HTTP_11 : ',"proto_major":' + ex.protoMajor + ',"proto_minor":' + ex.protoMinor) +
    ',"status_code":' + ex.statusCode +
    ',"path_params":' + paramsOut +
    ',"query_params":' + query +
    ',"referer":' + str(referer) +
    ',"request_headers":' + reqHeaders +
    ',"response_headers":' + resHeaders +
    ',"errors":' + errors;
  if (urlPath !== undefined) head += ',"url_path":' + str(urlPath);
  if (ex.parentId) head += ',"parent_id":' + str(ex.parentId);
  if (ex.traceparent !== undefined) head += ',"traceparent":' + str(ex.traceparent); // OTLP delivery only (never sent to Pub/Sub)
  if (ex.scheme !== undefined) head += ',"url_scheme":"' + ex.scheme + '"'; // OTLP delivery only, as traceparent
  if (options.serviceVersion !== undefined) head += ',"service_version":' + str(options.serviceVersion);
  if (ex.identity !== undefined) head += identityJson(ex.identity, options, values, tally);
  else if (options.tags !== undefined) head += ',"tags":' + JSON.stringify(options.tags);
  head += ',"request_body":"';
  return messageWithBodies(head, reqBody, resBody, alloc);
}

/**
 * URL redaction: query strings (`?api_key=...`, presigned URLs' `X-Amz-Signature`), route
 * parameters and path segments, and form bodies (the same `name=value&...` text).
 *
 * Listed names are matched case-insensitively on the decoded name (`a[b]` also by its last bracket
 * name `b`); the value is replaced where it stands, the marker written as it would be sent
 * (`%5BCLIENT_REDACTED%5D`); everything else keeps its original bytes. Value detectors run on the
 * decoded values and segments.
 */
import { REDACTED } from "../registry/marker.js";
import { safeDecode } from "../capture/url.js";
import { percentDecode, type Tally, type ValueRules } from "./values.js";

/** The marker as it stands in a URL or a form body. */
export const REDACTED_URL = "%5BCLIENT_REDACTED%5D";

/**
 * The default `redactQueryParams` (lower case): credentials, tokens and signatures that APIs take
 * in the query string (OAuth, presigned AWS S3 and Google Cloud Storage URLs, Azure SAS).
 */
export const DEFAULT_REDACT_QUERY_PARAMS: readonly string[] = [
  "api_key", "apikey", "api-key", "api_token", "access_token", "refresh_token", "id_token", "auth_token",
  "token", "jwt", "password", "passwd", "secret", "client_secret", "private_token",
  "signature", "sig", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
  "x-goog-signature", "x-goog-credential",
];

const PLUS = /\+/g;

/** application/x-www-form-urlencoded decoding of one name or value, as URLSearchParams does it. */
export function formDecode(s: string): string {
  const plus = s.indexOf("+") >= 0;
  if (!plus && s.indexOf("%") < 0) return s;
  const spaced = plus ? s.replace(PLUS, " ") : s;
  if (spaced.indexOf("%") < 0) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Invalid percent-encoding: URLSearchParams keeps what it cannot decode.
    return new URLSearchParams(`x=${s}`).get("x") ?? spaced;
  }
}

/** One value encoded the way URLSearchParams writes it. */
export function formEncode(s: string): string {
  return s === REDACTED ? REDACTED_URL : new URLSearchParams([["", s]]).toString().slice(1);
}

const ruleNames = new Map<string, string>();
/** `prefix + name`, built once per name (stats keys are made on every redaction). */
export function ruleName(prefix: string, name: string): string {
  const key = prefix + name;
  let rule = ruleNames.get(key);
  if (rule === undefined) {
    if (ruleNames.size >= 1024) ruleNames.clear();
    ruleNames.set(key, (rule = key));
  }
  return rule;
}

/** The listed name a (decoded) parameter name matches, if any: itself, or its last bracket name. */
function listed(names: ReadonlySet<string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  if (names.has(lower)) return lower;
  if (lower.charCodeAt(lower.length - 1) === 93 /* ] */) {
    const open = lower.lastIndexOf("[");
    if (open >= 0) {
      const inner = lower.slice(open + 1, -1);
      if (names.has(inner)) return inner;
    }
  }
  return undefined;
}

/** Where a percent-encoded word ends: white space, quotes, angle brackets, a backslash. */
const WORD_END = /[\s"'<>\\`]/;

/**
 * The detectors over a value, and over the percent-decoded form of each word that holds an escape
 * (a URL with `?note=4111%201111%20...`, an e-mail written `ann%40example.com`): a URL-like word
 * is redacted part by part (its encoding kept), any other becomes the marker. Undefined when
 * nothing matched.
 */
export function redactValue(text: string, values: ValueRules, tally?: Tally, where?: string): string | undefined {
  const out = values.redact(text, tally, where);
  const cur = out ?? text;
  if (cur.indexOf("%") < 0) return out;
  let res = "";
  let last = 0;
  let i = 0;
  while (i < cur.length) {
    const pct = cur.indexOf("%", i);
    if (pct < 0) break;
    let start = pct;
    while (start > i && !WORD_END.test(cur[start - 1]!)) start--; // back to the previous word's end at most
    let end = pct;
    while (end < cur.length && !WORD_END.test(cur[end]!)) end++;
    const word = cur.slice(start, end);
    i = end + 1;
    const decoded = percentDecode(word);
    if (decoded === word || values.ranges(decoded).length === 0) continue;
    let red = /[?=/&]/.test(word) ? redactUrl(word, { values, valueTally: tally }) : word;
    if (red === word || values.ranges(percentDecode(red)).length > 0) {
      if (red === word) values.redact(decoded, tally, where); // counted under its detectors
      red = REDACTED;
    }
    res += cur.slice(last, start) + red;
    last = end;
  }
  return last === 0 ? out : res + cur.slice(last);
}

/** What one pass over `name=value&...` text does. */
export interface PairRules {
  /** Listed names (lower case), values replaced by the marker. */
  readonly names?: ReadonlySet<string> | undefined;
  /** Stats prefix of a listed name's rule (`query:`). */
  readonly prefix?: string;
  /** Value detectors, run on each decoded value. */
  readonly values?: ValueRules | undefined;
  /** Counts listed names' redactions. */
  readonly nameTally?: Tally | undefined;
  /** Counts detector matches. */
  readonly valueTally?: Tally | undefined;
}

/**
 * Redact `name=value&name=value` text (a query string, a fragment). Returns the text as it is
 * published (the very same string when nothing changed); pushes the decoded (redacted) name and
 * value of every pair onto `pairs` when given, in order (empty segments skipped, as URLSearchParams).
 */
export function redactPairs(raw: string, rules: PairRules, pairs?: string[]): string {
  const { names, values } = rules;
  const n = raw.length;
  let out: string | undefined;
  let last = 0;
  let at = 0;
  while (at <= n) {
    let amp = raw.indexOf("&", at);
    if (amp < 0) amp = n;
    if (amp > at) {
      let eq = raw.indexOf("=", at);
      if (eq < 0 || eq > amp) eq = amp;
      const name = formDecode(raw.slice(at, eq));
      let value = eq < amp ? formDecode(raw.slice(eq + 1, amp)) : "";
      let replacement: string | undefined;
      if (value !== "" && names !== undefined) {
        const hit = listed(names, name);
        if (hit !== undefined && value !== REDACTED) {
          rules.nameTally?.(ruleName(rules.prefix ?? "query:", hit), 1);
          value = REDACTED;
          replacement = REDACTED_URL;
        }
      }
      if (replacement === undefined && value !== "" && values !== undefined) {
        const red = redactValue(value, values, rules.valueTally);
        if (red !== undefined) {
          value = red;
          replacement = encodeURIComponent(red); // the marker: %5BCLIENT_REDACTED%5D
        }
      }
      if (replacement !== undefined && eq < amp) {
        out = (out ?? "") + raw.slice(last, eq + 1) + replacement;
        last = amp;
      }
      if (pairs !== undefined) pairs.push(name, value);
    }
    at = amp + 1;
  }
  return out === undefined ? raw : out + raw.slice(last);
}

/** Each `/`-separated segment of a path, percent-decoded, through the detectors (changed ones re-encoded). */
export function redactPathSegments(path: string, values: ValueRules, tally?: Tally): string {
  let out: string | undefined;
  let last = 0;
  let at = 0;
  const n = path.length;
  while (at <= n) {
    let slash = path.indexOf("/", at);
    if (slash < 0) slash = n;
    if (slash > at) {
      const red = redactValue(safeDecode(path.slice(at, slash)), values, tally);
      if (red !== undefined) {
        out = (out ?? "") + path.slice(last, at) + (red === REDACTED ? REDACTED_URL : encodeURIComponent(red));
        last = slash;
      }
    }
    at = slash + 1;
  }
  return out === undefined ? path : out + path.slice(last);
}

/** Path segments whose decoded text is one of `secrets` (or a `/`-joined run of them) become the marker. */
export function maskSegments(path: string, secrets: readonly string[]): string {
  const segs = path.split("/");
  let changed = false;
  for (const secret of secrets) {
    const parts = secret.split("/");
    for (let i = 0; i + parts.length <= segs.length; i++) {
      let all = true;
      for (let j = 0; j < parts.length && all; j++) all = segs[i + j] !== REDACTED_URL && safeDecode(segs[i + j]!) === parts[j];
      if (!all) continue;
      segs.splice(i, parts.length, REDACTED_URL);
      changed = true;
    }
  }
  return changed ? segs.join("/") : path;
}

/**
 * A URL (a raw request URL `/path?query#fragment`, or an absolute one in a Referer or Location
 * header): listed query names and (with `values`) detector matches in the query, the fragment
 * and the path segments redacted in place. The same string when nothing changed. Decoded query
 * pairs are pushed onto `pairs` when given (the fragment is not part of the query).
 */
export function redactUrl(url: string, rules: PairRules, pairs?: string[]): string {
  const q = url.indexOf("?");
  const h = url.indexOf("#");
  const pathEnd = q >= 0 && (h < 0 || q < h) ? q : h >= 0 ? h : url.length;
  const path = url.slice(0, pathEnd);
  const outPath = rules.values !== undefined ? redactPathSegments(path, rules.values, rules.valueTally) : path;
  let query = "";
  let outQuery = "";
  if (q >= 0 && (h < 0 || q < h)) {
    query = url.slice(q, h < 0 ? url.length : h);
    outQuery = "?" + redactPairs(query.slice(1), rules, pairs);
  }
  let frag = "";
  let outFrag = "";
  if (h >= 0) {
    frag = url.slice(h);
    const text = frag.slice(1);
    if (text.indexOf("=") >= 0) outFrag = "#" + redactPairs(text, rules);
    else if (rules.values !== undefined) outFrag = "#" + redactPathSegments(text, rules.values, rules.valueTally);
    else outFrag = frag;
  }
  if (outPath === path && outQuery.length === query.length && outQuery === query && outFrag === frag) return url;
  return outPath + outQuery + outFrag;
}

/**
 * Route parameters: a parameter whose name is listed becomes the marker (and so do the path
 * segments that held it, in `raw`); with `values`, detector matches in the others are replaced.
 * Returns the same objects when nothing changed.
 */
export function redactRouteParams(
  params: Record<string, string>,
  raw: string,
  rules: PairRules,
): { params: Record<string, string>; raw: string } {
  const { names, values } = rules;
  let out: Record<string, string> | undefined;
  let secrets: string[] | undefined;
  for (const key of Object.keys(params)) {
    const value = params[key]!;
    if (value === "" || value === REDACTED) continue;
    if (names !== undefined && names.has(key.toLowerCase())) {
      rules.nameTally?.(ruleName("path:", key.toLowerCase()), 1);
      (out ??= { ...params })[key] = REDACTED;
      (secrets ??= []).push(value);
      continue;
    }
    if (values !== undefined) {
      const red = redactValue(value, values, rules.valueTally);
      if (red !== undefined) (out ??= { ...params })[key] = red;
    }
  }
  if (out === undefined) return { params, raw };
  if (secrets === undefined) return { params: out, raw };
  const q = raw.search(/[?#]/);
  const path = q < 0 ? raw : raw.slice(0, q);
  const masked = maskSegments(path, secrets);
  return { params: out, raw: masked === path ? raw : masked + (q < 0 ? "" : raw.slice(q)) };
}

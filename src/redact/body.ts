import zlib from "node:zlib";
import { REDACTED } from "../registry/marker.js";
import { forgetFound, foundDetectors, mayMatchDetectors } from "../jsonpath/wasm/module.js";
import { includesLiteral, literal, type Literal } from "../jsonpath/literal.js";
import { lastCutDeep } from "../jsonpath/stream.js";
import { bodyBytes, isTruncated } from "../capture/body.js";
import type { CapturedBody } from "../capture/exchange.js";
import type { CompiledPaths } from "../jsonpath/index.js";
import { normalizedPath } from "../jsonpath/normalized.js";
import { attribute, redactFields } from "./form.js";
import { formEncode, redactValue } from "./query.js";
import { pathsIn, type NamedPath } from "./rules.js";
import type { Tally, ValueRules } from "./values.js";

/** What applies to one body besides its paths: value detectors, and where redactions are counted. */
export interface BodyRules {
  /** Value detectors (none: nothing scanned). */
  readonly values?: ValueRules | undefined;
  /** The body paths one by one, to count redactions by rule. */
  readonly named?: readonly NamedPath[] | undefined;
  /** Counts every redaction by rule. */
  readonly tally?: Tally | undefined;
  /** Say where each redaction was (previewRedaction's report): slower, never on the hot path. */
  readonly report?: boolean | undefined;
}

/** The replaced values' offsets before a redaction reports any. */
const NO_SPANS: ArrayLike<number> = [];

/** The body sent in place of one that cannot be checked against the rules that apply to it. */
export const UNCHECKABLE_MARKER = Buffer.from(JSON.stringify(REDACTED));
/** What the text-level functions return for a body that fails closed. */
const UNCHECKABLE: unique symbol = Symbol("uncheckable");

const BINARY_TYPE =
  /^(image|audio|video|font)\/|^application\/(octet-stream|pdf|zip|gzip|x-gzip|x-tar|x-7z-compressed|x-rar-compressed|vnd\.ms-|vnd\.openxmlformats|msword|wasm|x-protobuf|protobuf|grpc|vnd\.google\.protobuf|x-msgpack|msgpack|cbor)/;
const JSON_TYPE = /^application\/(.+\+)?json\b|^application\/json|^text\/json/;
const FORM_TYPE = /^application\/x-www-form-urlencoded\b/;
const MULTIPART_TYPE = /^multipart\/form-data\b/;
/** Text types whose syntax cannot hold a JSONPath-addressable value: sent as they are. */
const OPAQUE_TEXT = /^(text\/(html|css|javascript|csv|xml|markdown|calendar|event-stream)|application\/(xml|javascript|xhtml\+xml|rss\+xml|atom\+xml)|image\/svg\+xml)/;

type Kind = "binary" | "multipart" | "form" | "opaque" | "json" | "other";
const kinds = new Map<string, Kind>();
/** What a (lower-cased, trimmed) content type is, remembered: services send a handful of distinct types. */
function kindOf(contentType: string): Kind {
  let kind = kinds.get(contentType);
  if (kind !== undefined) return kind;
  kind = BINARY_TYPE.test(contentType) ? "binary"
    : MULTIPART_TYPE.test(contentType) ? "multipart"
    : FORM_TYPE.test(contentType) ? "form"
    : OPAQUE_TEXT.test(contentType) ? "opaque"
    : contentType === "" || JSON_TYPE.test(contentType) ? "json"
    : "other";
  if (kinds.size >= 256) kinds.clear(); // bounded, whatever types a client sends
  kinds.set(contentType, kind);
  return kind;
}

function marker(text: string): Buffer {
  return Buffer.from(text);
}

/** Decompressed bytes (at most `limit`); "cut" when the output would exceed `limit`; undefined when not decodable. */
function decompress(bytes: Buffer, encoding: string, limit: number): Buffer | "cut" | undefined {
  const opts = { maxOutputLength: Math.max(limit, 1), finishFlush: zlib.constants.Z_SYNC_FLUSH };
  try {
    if (encoding === "gzip" || encoding === "x-gzip") return zlib.gunzipSync(bytes, opts);
    if (encoding === "deflate") return zlib.inflateSync(bytes, opts);
    if (encoding === "br") {
      return zlib.brotliDecompressSync(bytes, { maxOutputLength: Math.max(limit, 1) });
    }
  } catch (err) {
    // Output over the limit: the body was large; report it cut (zlib gives no partial output).
    if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") return "cut";
  }
  return undefined;
}

/** Serialize a body that a parser consumed before the SDK saw its bytes (req.body). Sets
 *  `serialized.json` when the result is JSON text (whatever the content type says). */
function serializeParsed(parsed: unknown, contentType: string, serialized: { json: boolean }): Buffer | undefined {
  if (parsed === undefined || parsed === null) return undefined;
  if (Buffer.isBuffer(parsed)) return parsed;
  if (parsed instanceof Uint8Array) return Buffer.from(parsed);
  if (typeof parsed === "string") return Buffer.from(parsed);
  if (typeof parsed !== "object") return Buffer.from(JSON.stringify(parsed));
  if (FORM_TYPE.test(contentType)) {
    const entries = Object.entries(parsed as Record<string, unknown>);
    if (entries.every(([, v]) => typeof v === "string" || Array.isArray(v))) {
      const sp = new URLSearchParams();
      for (const [k, v] of entries) for (const item of Array.isArray(v) ? v : [v]) sp.append(k, String(item));
      return Buffer.from(sp.toString());
    }
  }
  // An empty object from a parser that saw no body is no body.
  if (!Array.isArray(parsed) && Object.keys(parsed).length === 0 && !JSON_TYPE.test(contentType)) return undefined;
  serialized.json = true;
  return Buffer.from(JSON.stringify(parsed));
}

/**
 * A JSON body: validated and redacted by `paths` (when any: what does not parse fails closed), then
 * through the value detectors. Undefined when the text goes out as it is.
 */
function redactJsonText(text: string, paths: CompiledPaths, rules: BodyRules | undefined): string | typeof UNCHECKABLE | undefined {
  let out: string | undefined;
  if (paths.size > 0) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return UNCHECKABLE; // fail closed: what does not parse cannot be checked
    }
    // Valid JSON in which no path can match (none of the member names the paths end in, no escapes):
    // clean as it is, sent byte for byte without the walk and the re-serialization.
    if (paths.mayMatch(text)) {
      // Counting by rule: when only one path can match this text, the markers it added are its
      // count (no second walk); else each path reports its own locations.
      const tally = rules?.tally;
      const only = tally === undefined || rules!.report === true ? undefined : onlyPath(rules!.named, text);
      if (tally !== undefined && only === undefined) attribute(rules!.named, doc, tally, rules!.report === true, text);
      try {
        out = JSON.stringify(paths.redact(doc));
      } catch {
        // e.g. JSON.stringify's RangeError on a few thousand levels of nesting: fail closed.
        return UNCHECKABLE;
      }
      if (only !== undefined && only !== null) {
        const added = markers(out) - markers(text);
        if (added > 0) tally!(only.rule, added);
      }
    }
  }
  const values = rules?.values;
  if (values !== undefined) {
    const red = jsonValues(out ?? text, values, rules!);
    if (red !== undefined) out = red;
  }
  return out;
}

/** The one configured path that can match `text` (null: none can), or undefined when several can (or it cannot tell). */
function onlyPath(named: readonly NamedPath[] | undefined, text: string): NamedPath | null | undefined {
  if (named === undefined || named.length === 0) return null;
  if (named.length === 1) return named[0]!;
  const found = pathsIn(named, text);
  return found === undefined || found.length > 1 ? undefined : found.length === 1 ? found[0]! : null;
}

/** How many markers `text` holds ("CLIENT_REDACTED" is searched: its first letter is rare, so the search is fast). */
function markers(text: string): number {
  let n = 0;
  for (let i = text.indexOf("CLIENT_REDACTED"); i >= 0; i = text.indexOf("CLIENT_REDACTED", i + 15)) n++;
  return n;
}

/**
 * Is text[start, end) a JSON number (digits only, where a value stands: after `:`, `,`, `[` or at
 * the start, before `,`, `]`, `}` or at the end)? No detector is applied to numbers.
 */
function isNumber(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  let b = start - 1;
  while (b >= 0 && (text.charCodeAt(b) <= 32 || text.charCodeAt(b) === 45 /* - */)) b--;
  const before = b < 0 ? 58 : text.charCodeAt(b);
  let a = end;
  while (a < text.length && text.charCodeAt(a) <= 32) a++;
  const after = a >= text.length ? 44 : text.charCodeAt(a);
  return (before === 58 || before === 44 || before === 91) && (after === 44 || after === 93 || after === 125);
}

/**
 * Value detectors over JSON text, on every string (member names too), decoded: the text is
 * scanned once per detector; only when something matches are its strings visited, and only those
 * that hold a match (or an escape, or all of them for a RegExp that must see each value alone)
 * are decoded and rewritten. Numbers are not strings: a run of digits outside any string is left
 * alone (an epoch-millisecond timestamp passes the Luhn check one time in ten). Anything else that
 * matches outside a string (the text is not valid JSON) becomes the quoted marker. The result is
 * the text with the matches replaced, or undefined when nothing matched.
 */
function jsonValues(text: string, values: ValueRules, rules: BodyRules): string | undefined {
  if (!values.mayMatch(text)) return undefined;
  const report = rules.report === true;
  // A report says where each match is: from the parsed document (the text is still what is sent).
  const tally = report && reportValues(text, values, rules.tally) ? undefined : rules.tally;
  const hits = values.ranges(text);
  const everyString = !values.local;
  const encoded = text.indexOf("%") >= 0; // a match may be percent-encoded in some string
  let out = "";
  let last = 0;
  let h = 0; // next hit not yet behind the scan
  let nextBackslash = text.indexOf("\\");
  let i = 0;
  const outside = (from: number, to: number): void => {
    // hits wholly between two strings (one that runs on into a string is that string's)
    for (let j = h; j < hits.length && hits[j]! < to; j += 2) {
      const s = hits[j]!;
      const e = hits[j + 1]!;
      if (e > to || s < from || s < last || isNumber(text, s, e)) continue;
      if (tally !== undefined) values.redact(text.slice(s, e), tally); // counted under its detector
      out += text.slice(last, s) + JSON.stringify(REDACTED);
      last = e;
    }
  };
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) {
      outside(i, text.length);
      break;
    }
    outside(i, q);
    // The string token [q, end]: its closing quote is the first one not escaped.
    let end = q + 1;
    let escaped = false;
    for (;;) {
      const c = text.indexOf('"', end);
      if (c < 0) {
        end = text.length; // unterminated (a body cut at the limit)
        break;
      }
      let k = c - 1;
      while (k > q && text.charCodeAt(k) === 92) k--;
      if ((c - 1 - k) % 2 === 0) {
        end = c;
        break;
      }
      end = c + 1;
    }
    if (nextBackslash >= 0 && nextBackslash < q) nextBackslash = text.indexOf("\\", q);
    if (nextBackslash >= 0 && nextBackslash < end) escaped = true;
    let overlaps = false;
    while (h < hits.length && hits[h + 1]! <= q) h += 2;
    for (let j = h; j < hits.length && hits[j]! < end; j += 2) {
      if (hits[j + 1]! > q) {
        overlaps = true;
        break;
      }
    }
    if (overlaps || escaped || everyString || (encoded && text.slice(q, end).indexOf("%") >= 0)) {
      const raw = text.slice(q + 1, end);
      let value = raw;
      if (escaped) {
        try {
          value = JSON.parse(text.slice(q, end + 1)) as string;
        } catch {
          value = raw; // not a valid string (invalid JSON): checked as the text it is
        }
      }
      const red = redactValue(value, values, tally);
      if (red !== undefined) {
        out += text.slice(last, q) + JSON.stringify(red);
        last = Math.min(end + 1, text.length);
        if (end >= text.length) out = out.slice(0, -1); // it was unterminated: stays so
      }
    }
    i = end + 1;
    if (i >= text.length) break;
  }
  if (last === 0 && out === "") return undefined;
  return out + text.slice(last);
}

/** Count the detectors' matches in a JSON document, each with its normalized path. False when the text is not JSON. */
function reportValues(text: string, values: ValueRules, tally: Tally | undefined): boolean {
  if (tally === undefined) return false;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return false;
  }
  const stack: Array<[unknown, Array<string | number>]> = [[doc, []]];
  while (stack.length > 0) {
    const [node, at] = stack.pop()!;
    if (typeof node === "string") redactValue(node, values, tally, normalizedPath(at));
    else if (Array.isArray(node)) for (let k = node.length - 1; k >= 0; k--) stack.push([node[k], [...at, k]]);
    else if (typeof node === "object" && node !== null) {
      const keys = Object.keys(node);
      for (let k = keys.length - 1; k >= 0; k--) {
        const key = keys[k]!;
        redactValue(key, values, tally, `${normalizedPath([...at, key])} (member name)`);
        stack.push([(node as Record<string, unknown>)[key], [...at, key]]);
      }
    }
  }
  return true;
}

/**
 * Does the text start (after white space) with `[`, `{` or `"`? Told from the bytes when its first
 * byte that is not ASCII white space is ASCII; undefined when it is not (a BOM, U+00A0 or another
 * space that `\s` also skips: the caller decodes and looks).
 */
function looksJson(bytes: Buffer): boolean | undefined {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 32 || (bytes[i]! >= 9 && bytes[i]! <= 13))) i++;
  if (i === bytes.length) return false;
  const c = bytes[i]!;
  if (c >= 0x80) return undefined;
  return c === 91 || c === 123 || c === 34;
}

/** A body that is neither JSON nor a form (plain text, HTML, XML, CSV...): the detectors over its text. */
function redactText(bytes: Buffer, values: ValueRules, rules: BodyRules, truncated: boolean, text?: string): Buffer {
  // Nothing any default detector could match in the bytes (exact: the prefilter): the text is not
  // decoded, only a body cut at the limit has its tail looked at.
  if (rules.report !== true && values.prefilter !== 0 && mayMatchDetectors(bytes, values.prefilter) === false) {
    if (!truncated) return bytes;
    const cut = cutTailBytes(bytes, values);
    if (cut !== null) return cut ?? bytes;
  }
  text ??= bytes.toString("utf8");
  let red = redactValue(text, values, rules.tally, rules.report === true ? "$" : undefined);
  if (truncated) red = cutTail(red ?? text, values) ?? red;
  return red === undefined ? bytes : Buffer.from(red);
}

/**
 * A body cut at maxBodyBytes may end in the first part of a secret that no detector recognises
 * any more (a card number's first digits, a JWT without its signature): its trailing word (and,
 * for digits, the groups before it) becomes the marker. Undefined when there is none to cut.
 */
function cutTail(text: string, values: ValueRules | undefined): string | undefined {
  const names = values?.rules ?? [];
  const on = (name: string): boolean => names.includes(`value:${name}`);
  // A PEM block the cut left open: from its BEGIN line on.
  if (on("privateKey")) {
    // (A forward search first: V8's lastIndexOf compares at every position, 50 us over 64 KiB.)
    const begin = text.indexOf("BEGIN") < 0 ? -1 : text.lastIndexOf("-----BEGIN");
    if (begin >= 0 && text.indexOf("-----END", begin) < 0) return text.slice(0, begin) + REDACTED;
  }
  let i = text.length;
  const word = (c: number): boolean =>
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 61 || c === 95 || c === 46 || c === 126 || c === 64 || c === 37 || c === 45;
  while (i > 0 && word(text.charCodeAt(i - 1))) i--;
  // digit groups before it ("4111 1111 11")
  for (;;) {
    const sep = text.charCodeAt(i - 1);
    const before = text.charCodeAt(i - 2);
    if ((sep !== 32 && sep !== 45) || !(before >= 48 && before <= 57)) break;
    i -= 2;
    while (i > 0 && text.charCodeAt(i - 1) >= 48 && text.charCodeAt(i - 1) <= 57) i--;
  }
  if (text.length - i < 4 || text.endsWith(REDACTED)) return undefined;
  // Cut the trailing word only when it could be the start of a secret an enabled detector would
  // have matched whole: a shorter or different word is kept as the preview it is.
  const tail = text.slice(i);
  const builtIn = names.every((n) => BUILT_IN_RULES.has(n));
  const couldBeSecret =
    !builtIn || on("email") || on("iban") ||
    (on("creditCard") && /\d{4}/.test(tail.replace(/[ -]/g, ""))) ||
    (on("jwt") && tail.startsWith("eyJ")) ||
    (on("awsAccessKey") && /^(AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)/.test(tail)) ||
    (on("bearerToken") && /bearer\s+$/i.test(text.slice(Math.max(0, i - 16), i)));
  return couldBeSecret ? text.slice(0, i) + REDACTED : undefined;
}

/** Word characters of cutTail (ASCII only). */
function isWordByte(c: number | undefined): boolean {
  return c !== undefined && ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 61 || c === 95 || c === 46 || c === 126 || c === 64 || c === 37 || c === 45);
}

/** "BEGIN" of a PEM block, searched by its rarest byte. */
const BEGIN = literal("BEGIN");

/**
 * cutTail over the bytes of a UTF-8 text, decoding only its end when nothing is cut: what
 * `Buffer.from(cutTail(text))` gives, undefined when nothing is cut, null when it
 * cannot tell without the whole text (an open PEM block may be there). The trailing word and
 * digit groups are ASCII, which UTF-8 keeps byte for byte, so they are found on the bytes; the
 * decoded tail holds them and the 16 characters before them (at most 64 bytes) that the `bearer`
 * check reads.
 */
function cutTailBytes(bytes: Buffer, values: ValueRules): Buffer | undefined | null {
  if (values.rules.includes("value:privateKey") && includesLiteral(bytes, BEGIN)) return null;
  let i = bytes.length;
  while (i > 0 && isWordByte(bytes[i - 1])) i--;
  for (;;) {
    const sep = bytes[i - 1];
    const before = bytes[i - 2];
    if ((sep !== 32 && sep !== 45) || before === undefined || !(before >= 48 && before <= 57)) break;
    i -= 2;
    while (i > 0 && bytes[i - 1]! >= 48 && bytes[i - 1]! <= 57) i--;
  }
  if (bytes.length - i < 4) return undefined;
  const tail = bytes.toString("utf8", Math.max(0, i - 68));
  const cut = cutTail(tail, values);
  if (cut === undefined) return undefined;
  // (Decoded and encoded again, as Buffer.from(cutTail(text)) does: invalid UTF-8 before the cut
  // becomes U+FFFD alike. Only when something is cut: rare.)
  const kept = bytes.length - (tail.length - (cut.length - REDACTED.length));
  return Buffer.from(bytes.toString("utf8", 0, kept) + REDACTED);
}

/** The stats names of the built-in detectors (a user RegExp could match any tail). */
const BUILT_IN_RULES = new Set(["creditCard", "jwt", "bearerToken", "awsAccessKey", "privateKey", "email", "iban"].map((n) => `value:${n}`));

/** A form body: fields by their names (bracket notation expanded, and literally) and the detectors; original bytes kept elsewhere. */
function redactForm(bytes: Buffer, paths: CompiledPaths, rules: BodyRules | undefined, truncated: boolean): Buffer {
  const text = bytes.toString("utf8");
  const names: string[] = [];
  const vals: string[] = [];
  const segments: Array<[number, number, number]> = []; // [start, eq, end] of each non-empty segment
  let at = 0;
  while (at <= text.length) {
    let amp = text.indexOf("&", at);
    if (amp < 0) amp = text.length;
    if (amp > at) segments.push([at, -1, amp]);
    at = amp + 1;
  }
  const sp = new URLSearchParams(text);
  for (const [k, v] of sp) {
    names.push(k);
    vals.push(v);
  }
  const red = redactFields(names, vals, { paths, named: rules?.named, values: rules?.values, tally: rules?.tally, report: rules?.report });
  let out: string | undefined;
  if (red !== undefined && segments.length === names.length) {
    out = "";
    let last = 0;
    for (let i = 0; i < names.length; i++) {
      if (red[i] === vals[i]) continue;
      const [start, , end] = segments[i]!;
      const eq = text.indexOf("=", start);
      const nameEnd = eq < 0 || eq > end ? end : eq;
      out += text.slice(last, nameEnd) + "=" + formEncode(red[i]!);
      last = end;
    }
    out += text.slice(last);
  } else if (red !== undefined) {
    const sp2 = new URLSearchParams();
    for (let i = 0; i < names.length; i++) sp2.append(names[i]!, red[i]!);
    out = sp2.toString();
  }
  if (truncated && rules?.values !== undefined) out = cutTail(out ?? text, rules.values) ?? out;
  return out === undefined ? bytes : Buffer.from(out);
}

/**
 * Multipart: file parts become placeholders; form fields stay, redacted like a form's (by their
 * expanded and literal names, and by the detectors).
 */
function renderMultipart(bytes: Buffer, contentType: string, paths: CompiledPaths, truncated: boolean, rules: BodyRules | undefined): Buffer {
  const values = rules?.values;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return paths.size > 0 || values !== undefined ? UNCHECKABLE_MARKER : marker("[multipart body without boundary]");
  const text = bytes.toString("latin1");
  const delim = `--${boundary}`;
  const pieces = text.split(delim);
  const parts: Array<{ head: string; value: string; field: number }> = [];
  const names: string[] = [];
  const vals: string[] = [];
  let cut = -1; // the field cut at the limit, if any
  for (let i = 1; i < pieces.length; i++) {
    let piece = pieces[i]!;
    if (piece.startsWith("--")) break;
    piece = piece.replace(/^\r\n/, "");
    const headEnd = piece.indexOf("\r\n\r\n");
    const isLast = i === pieces.length - 1;
    if (headEnd < 0) break;
    const head = piece.slice(0, headEnd);
    let value = piece.slice(headEnd + 4).replace(/\r\n$/, "");
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? "";
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    if (filename !== undefined) {
      const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? "application/octet-stream";
      value = `[file: ${filename}, ${type}, ${Buffer.byteLength(value, "latin1")}${isLast && truncated ? "+" : ""} bytes]`;
      parts.push({ head, value, field: -1 });
      continue;
    }
    if (isLast && truncated) cut = names.length;
    parts.push({ head, value, field: names.length });
    names.push(Buffer.from(name, "latin1").toString("utf8"));
    vals.push(Buffer.from(value, "latin1").toString("utf8"));
  }
  const red = paths.size > 0 || values !== undefined
    ? redactFields(names, vals, { paths, named: rules?.named, values, tally: rules?.tally, report: rules?.report })
    : undefined;
  const out: string[] = [];
  for (const part of parts) {
    let value = part.value;
    if (part.field >= 0) {
      if (part.field === cut && paths.size > 0) value = REDACTED; // cut: cannot be checked against the paths
      else if (red !== undefined && red[part.field] !== vals[part.field]) value = Buffer.from(red[part.field]!).toString("latin1");
      if (part.field === cut && values !== undefined && value !== REDACTED) {
        const tail = cutTail(Buffer.from(value, "latin1").toString("utf8"), rules?.values);
        if (tail !== undefined) value = Buffer.from(tail).toString("latin1");
      }
    }
    out.push(`${delim}\r\n${part.head}\r\n\r\n${value}\r\n`);
  }
  out.push(`${delim}--\r\n`);
  return Buffer.from(out.join(""), "latin1");
}

/**
 * The bytes to publish for one captured body, redacted with `paths` and `rules.values`. Fails
 * closed: a body the paths apply to that cannot be parsed (invalid, cut at the limit, undecodable)
 * becomes a marker; with value detectors on, a body that is not JSON or a form has its text
 * scanned (so does invalid JSON, when no path applies to it).
 */
export function renderBody(
  body: CapturedBody,
  contentTypeHeader: string | undefined,
  contentEncoding: string | undefined,
  paths: CompiledPaths,
  limit: number,
  rules?: BodyRules,
): Buffer {
  const out = render(body, contentTypeHeader, contentEncoding, paths, limit, rules);
  if (out === UNCHECKABLE_MARKER) rules?.tally?.("body:uncheckable", 1, "$");
  return out;
}

function render(
  body: CapturedBody,
  contentTypeHeader: string | undefined,
  contentEncoding: string | undefined,
  paths: CompiledPaths,
  limit: number,
  rules: BodyRules | undefined,
): Buffer {
  const contentType = (contentTypeHeader ?? "").toLowerCase().trim();
  const values = rules?.values !== undefined && rules.values.size > 0 ? rules.values : undefined;
  if (values === undefined && rules?.values !== undefined) rules = { ...rules, values: undefined }; // no detectors: none of their work
  const checked = paths.size > 0 || values !== undefined;
  let bytes: Buffer;
  let truncated = isTruncated(body);
  const fromParsed = { json: false };
  if (body.keptBytes > 0) {
    bytes = bodyBytes(body);
  } else if (body.parsed !== undefined) {
    let serialized: Buffer | undefined;
    try {
      serialized = serializeParsed(body.parsed, contentType, fromParsed);
    } catch {
      return checked ? UNCHECKABLE_MARKER : marker("[body could not be serialized]");
    }
    if (!serialized) return Buffer.alloc(0);
    bytes = serialized.length > limit ? serialized.subarray(0, limit) : serialized;
    truncated = serialized.length > limit;
  } else {
    return Buffer.alloc(0);
  }
  if (bytes.length === 0) return bytes;

  const enc = (contentEncoding ?? "").toLowerCase().trim();
  if (enc && enc !== "identity") {
    const plain = decompress(bytes, enc, limit);
    if (plain === "cut") return marker(`[compressed body (${enc}), ${body.totalBytes} bytes, over ${limit} bytes decompressed]`);
    if (plain) bytes = plain;
    else if (enc === "gzip" && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      return marker(`[compressed body (${enc}), ${body.totalBytes} bytes]`);
    }
    // Otherwise the SDK saw the bytes before compression (compression mounted outside it).
  }

  const kind = kindOf(contentType);
  if (kind === "binary") return marker(`[binary body (${contentType}), ${body.totalBytes || bytes.length} bytes]`);
  if (kind === "multipart") return renderMultipart(bytes, contentTypeHeader ?? "", paths, truncated, rules);
  if (!checked) return bytes;
  // A parsed body serialized as JSON is JSON, whatever the content type claims (e.g. a nested
  // object from an extended form parser): redacting it as a form would match nothing.
  if (fromParsed.json) return truncated && paths.size > 0 ? UNCHECKABLE_MARKER : json(bytes, undefined, paths, rules, truncated);
  if (kind === "form") return truncated && paths.size > 0 ? UNCHECKABLE_MARKER : redactForm(bytes, paths, rules, truncated);
  if (kind === "opaque") return values === undefined ? bytes : redactText(bytes, values, rules!, truncated);
  // Plain text that is not JSON (its first non-space character is none of `[{"`): the detectors
  // over it. Told from the bytes when the text starts with ASCII (not decoded for nothing).
  const looks = kind === "json" ? true : looksJson(bytes);
  if (looks === false) return values === undefined ? bytes : redactText(bytes, values, rules!, truncated);
  const text = kind === "json" ? undefined : bytes.toString("utf8");
  if (text !== undefined && !/^\s*[[{"]/.test(text)) return values === undefined ? bytes : redactText(bytes, values, rules!, truncated, text); // plain text that is not JSON
  if (truncated && paths.size > 0) return UNCHECKABLE_MARKER;
  return json(bytes, text, paths, rules, truncated);
}

/** JSON text through the paths and the detectors; the original bytes when nothing changed. */
function json(bytes: Buffer, text: string | undefined, paths: CompiledPaths, rules: BodyRules | undefined, truncated: boolean): Buffer {
  // Paths over the bytes, no parse, no re-serialization (jsonpath/stream.ts; absent for filters and
  // the like; invalid JSON fails closed there too). Reports need each match's location: parsed.
  if (paths.size > 0 && paths.redactBytes !== undefined && rules?.report !== true) {
    const spans: { offsets: ArrayLike<number> } | undefined = rules?.tally !== undefined && rules.named !== undefined && rules.named.length > 0 ? { offsets: NO_SPANS } : undefined;
    const values = rules?.values;
    // The detectors' prefilter run by the redaction on its output, in the module's memory (when it ran there).
    forgetFound(values !== undefined && !truncated ? values.prefilter : 0);
    const red = paths.redactBytes(bytes, spans);
    const found = foundDetectors();
    forgetFound();
    if (red === null) return UNCHECKABLE_MARKER;
    if (spans !== undefined && red !== bytes) countPaths(bytes, spans.offsets, text, rules!.named, rules!.tally!);
    if (values === undefined) return red;
    // Nothing any detector could match in the bytes: no decoded text, no scan of it.
    if (!truncated && values.prefilter !== 0 && (found ?? mayMatchDetectors(red, values.prefilter)) === false) return red;
    const redText = red === bytes && text !== undefined ? text : red.toString("utf8");
    const out = jsonValues(redText, values, rules!);
    const cut = truncated ? cutTail(out ?? redText, rules?.values) : undefined;
    if (cut !== undefined) return Buffer.from(cut);
    return out === undefined ? red : Buffer.from(out);
  }
  // No paths, and nothing any detector could match in the bytes: sent as they are, undecoded.
  const values = rules?.values;
  if (paths.size === 0 && values !== undefined && !truncated && rules?.report !== true && values.prefilter !== 0 && mayMatchDetectors(bytes, values.prefilter) === false) return bytes;
  const source = text ?? bytes.toString("utf8");
  const out = redactJsonText(source, paths, rules);
  if (out === UNCHECKABLE) return UNCHECKABLE_MARKER;
  const cut = truncated && rules?.values !== undefined ? cutTail(out ?? source, rules.values) : undefined;
  if (cut !== undefined) return Buffer.from(cut);
  return out === undefined ? bytes : Buffer.from(out);
}

/**
 * Count, by rule, the values the stream redaction replaced (`spans`: their [start, end) offsets in
 * `before`, its input). With one named path, every span is its; otherwise each replaced value is
 * the value of the member whose name is right before it, and when every path ends in a member name
 * (`$.password`, `$..token`) that name says whose it is, with no second look at the document.
 * Else each path reports its own locations (a parse).
 */
function countPaths(before: Buffer, spans: ArrayLike<number>, text: string | undefined, named: readonly NamedPath[] | undefined, tally: Tally): void {
  if (named === undefined || named.length === 0 || spans.length === 0) return;
  if (named.length === 1) {
    tally(named[0]!.rule, spans.length / 2);
    return;
  }
  if (onlyNameIn(before, spans, named, tally) || countByName(before, spans, named, tally)) return;
  const source = text ?? before.toString("utf8");
  try {
    attribute(named, JSON.parse(source), tally, false, source);
  } catch {
    /* valid for the stream redaction, so parses; counted or not, the bytes are already redacted */
  }
}

/** The member name right before each marker of `after`, counted for the one path ending in it; false (nothing counted) when one cannot tell. */
/** Each hint (`"name"`, a JSON string) as bytes, once per path set. */
const hintBytes = new WeakMap<readonly NamedPath[], Array<[Buffer, NamedPath | null]>>();

function hintsOf(named: readonly NamedPath[]): Array<[Buffer, NamedPath | null]> | undefined {
  let hints = hintBytes.get(named);
  if (hints !== undefined) return hints;
  const byHint = new Map<string, NamedPath | null>();
  for (const np of named) {
    if (np.hint === undefined) return undefined;
    byHint.set(np.hint, byHint.has(np.hint) ? null : np); // two paths ending in one name: ambiguous
  }
  hints = [...byHint].map(([hint, np]) => [Buffer.from(hint), np]);
  hintBytes.set(named, hints);
  return hints;
}

/**
 * When every path ends in a member name and, in a text without escapes, only one of those names
 * is there at all: every replaced value is that path's (a value is selected under its name, which
 * a text without `\\` holds as it is; not so a container replaced for its depth, whose count the
 * parse decides). Counted at once; false (nothing counted) otherwise. Right after the redaction
 * that made `spans` (lastCutDeep).
 */
function onlyNameIn(before: Buffer, spans: ArrayLike<number>, named: readonly NamedPath[], tally: Tally): boolean {
  const hints = hintsOf(named);
  if (hints === undefined || lastCutDeep() || before.includes(92)) return false;
  let only: NamedPath | null | undefined;
  for (let h = 0; h < hints.length; h++) {
    if (!includesLiteral(before, hintLiteral(hints[h]![0]))) continue;
    if (only !== undefined) return false; // two names there
    only = hints[h]![1];
  }
  if (only === undefined || only === null) return false;
  tally(only.rule, spans.length / 2);
  return true;
}

const literals = new WeakMap<Buffer, Literal>();
function hintLiteral(hint: Buffer): Literal {
  let lit = literals.get(hint);
  if (lit === undefined) literals.set(hint, (lit = literal(hint.toString("latin1"))));
  return lit;
}

/** Does `b` hold `what` at `at`? (A JS loop: names are short, a native compare costs more than it.) */
function sameBytes(b: Buffer, at: number, what: Buffer): boolean {
  for (let k = 0; k < what.length; k++) if (b[at + k] !== what[k]) return false;
  return true;
}

/** The member name right before each replaced value, counted for the one path ending in it; false (nothing counted) when one cannot tell. */
function countByName(before: Buffer, spans: ArrayLike<number>, named: readonly NamedPath[], tally: Tally): boolean {
  const hints = hintsOf(named);
  if (hints === undefined) return false;
  const counts = new Array<number>(hints.length).fill(0);
  for (let k = 0; k < spans.length; k += 2) {
    // ... "name" : <value>: back from the value's first byte
    let j = spans[k]! - 1;
    let c = before[j];
    while (c === 32 || c === 10 || c === 13 || c === 9) c = before[--j];
    if (c !== 58 /* : */) return false; // an array element
    c = before[--j];
    while (c === 32 || c === 10 || c === 13 || c === 9) c = before[--j];
    if (c !== 34) return false;
    const close = j;
    j--;
    while (j >= 0 && before[j] !== 34) {
      if (before[j] === 92) return false; // an escape in the name
      j--;
    }
    if (j < 0) return false;
    const len = close + 1 - j;
    let h = 0;
    while (h < hints.length && !(hints[h]![0].length === len && sameBytes(before, j, hints[h]![0]))) h++;
    if (h === hints.length || hints[h]![1] === null) return false;
    counts[h]!++;
  }
  for (let h = 0; h < hints.length; h++) if (counts[h]! > 0) tally(hints[h]![1]!.rule, counts[h]!);
  return true;
}

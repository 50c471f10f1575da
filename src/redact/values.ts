/**
 * Value detectors: secrets recognised by what they look like, wherever they sit (a JWT in a `note`
 * field, a card number in free text, an AWS key echoed back in an error body), whatever the field
 * or header is called.
 *
 * Compiled once at construction ({@link compileValues}); per text the work is one linear scan per
 * enabled detector, and nothing is allocated unless something matches. Every detector is linear in
 * the text whatever it holds (no backtracking blow-up on adversarial input): each either searches
 * for a literal first (`eyJ`, `@`, `PRIVATE KEY`) or uses a pattern whose every attempt starts at a
 * run boundary. User RegExps are the user's to keep linear.
 */
import { APIToolkitConfigError } from "../registry/codes.js";
import { REDACTED } from "../registry/marker.js";
import { PREFILTERED } from "../jsonpath/wasm/module.js";

/** The built-in detectors, by the name `redactValues` takes. */
export const VALUE_DETECTORS = ["creditCard", "jwt", "bearerToken", "awsAccessKey", "privateKey", "email", "iban"] as const;

/** A built-in detector's name. */
export type ValueDetectorName = (typeof VALUE_DETECTORS)[number];

/** One entry of `redactValues`: a built-in detector's name, or a RegExp of your own. */
export type ValueDetector = ValueDetectorName | RegExp;

/**
 * The detectors on when `redactValues` is not given: the ones whose shape is a credential's and
 * nothing else's, and that cost least (measured cost and false positives in docs/redaction.md).
 * Opt-in: `creditCard` (one 13..19-digit string in ten passes the Luhn check: 64-bit ids sent as
 * strings, epoch timestamps; and it is the costliest scan), `email` and `iban` (data more than
 * secrets in most APIs).
 */
export const DEFAULT_VALUE_DETECTORS: readonly ValueDetectorName[] = ["jwt", "bearerToken", "awsAccessKey", "privateKey"];

/**
 * Where redactions are counted: `rule` is the rule's stats name (`value:jwt`, `header:cookie`,
 * `body:$.password`), `count` the number of values replaced, `where` (reports only) where they were.
 */
export type Tally = (rule: string, count: number, where?: string) => void;

/** One compiled detector. */
interface Detector {
  /** The stats name: `value:<name>`, or `value:/source/flags` for a RegExp. */
  readonly rule: string;
  /**
   * True when a match inside a value is also found when the detector scans a larger text in which
   * the value sits between `"` (JSON) or other punctuation: lets one scan of a whole body or of
   * all the headers stand for a scan of each value. False for RegExps with anchors or lookarounds.
   */
  readonly local: boolean;
  /** Append `[start, end)` of each match (ascending, non-overlapping) to `out`; stop after the first when `first`. */
  find(text: string, out: number[], first: boolean): void;
}

/** The compiled `redactValues` of a client. */
export interface ValueRules {
  /** Number of detectors (0: nothing to do; every caller skips the work). */
  readonly size: number;
  /** The stats names of the detectors, in order. */
  readonly rules: readonly string[];
  /** False when some detector (a RegExp with anchors or lookarounds) must see each value alone. */
  readonly local: boolean;
  /**
   * When every detector is one of the defaults (jwt, bearerToken, awsAccessKey, privateKey): their
   * bits for the byte-level prefilter (jsonpath/wasm, `mayMatchDetectors`); 0 otherwise.
   */
  readonly prefilter: number;
  /**
   * False only when no detector can match anything in `text`, nor in any value embedded in it as
   * JSON or URL text does it (values between `"` or separators). Exact, never a guess: each
   * detector really scans (a card number is Luhn-checked), so true means there is a match somewhere
   * in the text (or a JSON escape, or a RegExp that must see each value alone, rules a scan out).
   */
  mayMatch(text: string): boolean;
  /**
   * mayMatch for plain values (not JSON text) joined by "\n": the URL, header values, route
   * parameters, error texts, as they are. Scans them as they are and percent-decoded both ways
   * (`+` as a space, as a query value is read, and kept, as a path segment is read), so false only
   * when no redaction of any of them, decoded as its own place decodes it, can find a match.
   */
  mayMatchValues(text: string): boolean;
  /** `text` with every match replaced by the marker, or undefined when nothing matched. Counts into `tally`. */
  redact(text: string, tally?: Tally, where?: string): string | undefined;
  /** `[start, end)` pairs of every match of every detector, sorted by start (overlaps possible). */
  ranges(text: string): number[];
}

/** A RegExp scan from the start, whatever lastIndex the (private, /g) copy was left at. */
function scanRegExp(re: RegExp, text: string, out: number[], first: boolean): void {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const len = m[0].length;
    if (len === 0) {
      re.lastIndex++; // an empty match redacts nothing; move on
      continue;
    }
    out.push(m.index, m.index + len);
    if (first) break;
  }
  re.lastIndex = 0;
}

// ---------------------------------------------------------------------------------------------
// Card numbers: 13 to 19 digits, optionally in groups separated by single spaces or dashes,
// passing the Luhn check, not part of a longer word or number.

/**
 * Runs of at least 13 digits with at most one space or dash between two digits, starting at a
 * run boundary (not after a letter or digit, nor after a digit and a separator): every attempt
 * starts at the beginning of a run, so the scan is linear.
 */
const CARD_RUN = /(?<![0-9A-Za-z])(?<![0-9][ -])[0-9](?:[ -]?[0-9]){12,}/g;

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Luhn over the digits of text[start, end) (separators skipped). */
function luhn(text: string, start: number, end: number): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    let d = c - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** A run's digit groups as [start, end, digits] triples. */
function groups(text: string, start: number, end: number): number[] {
  const out: number[] = [];
  let g = start;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 32;
    if (c === 32 || c === 45) {
      out.push(g, i, i - g);
      g = i + 1;
    }
  }
  return out;
}

/**
 * Groups a..b (indexes into the triples) written the way card numbers are: one group of 13..19
 * digits; or groups of 4 and a last one of 1..4 (4-4-4-4, 4-4-4-1, 4-4-4-4-3); or 4-6-5 and 4-6-4
 * (American Express, Diners). A UUID's 8-4-4-4-12 or a list of dates is none of these.
 */
function cardLike(g: readonly number[], a: number, b: number): boolean {
  let digits = 0;
  for (let i = a; i <= b; i += 3) digits += g[i + 2]!;
  if (digits < 13 || digits > 19) return false;
  if (a === b) return true;
  if (g[a + 2] !== 4) return false;
  const n = (b - a) / 3 + 1;
  if (n === 3 && g[a + 5] === 6 && (g[b + 2] === 5 || g[b + 2] === 4)) return true;
  for (let i = a + 3; i < b; i += 3) if (g[i + 2] !== 4) return false;
  return g[b + 2]! >= 1 && g[b + 2]! <= 4;
}

/** Digits in groups a..b. */
function digitsOf(g: readonly number[], a: number, b: number): number {
  let n = 0;
  for (let i = a; i <= b; i += 3) n += g[i + 2]!;
  return n;
}

/** Card-number checks on groups a..b: the shape, not all zeros, Luhn. */
function isCard(text: string, g: readonly number[], a: number, b: number): boolean {
  if (!cardLike(g, a, b)) return false;
  const start = g[a]!;
  const end = g[b + 1]!;
  let zeros = true;
  for (let i = start; i < end && zeros; i++) {
    const c = text.charCodeAt(i);
    zeros = c === 48 || c === 32 || c === 45;
  }
  return !zeros && luhn(text, start, end);
}

function findCards(text: string, out: number[], first: boolean): void {
  const re = CARD_RUN;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    if (end < text.length && isAlnum(text.charCodeAt(end))) continue; // part of a longer word
    if (end - start > 2 * (19 + 4)) continue; // at least 24 digits: a long number, not a card and a short one
    const g = groups(text, start, end);
    const last = g.length - 3;
    if (isCard(text, g, 0, last)) {
      out.push(start, end);
      if (first) break;
      continue;
    }
    if (last === 0) continue; // one long number, not a card
    // A card with a short number next to it ("4111 1111 1111 1111 12/28", "exp 12 28 4111 ..."):
    // the groups shaped like a card at one end of the run, the rest at most 4 digits.
    const total = digitsOf(g, 0, last);
    if (total > 19 + 4) continue;
    let hit = -1;
    let hitEnd = -1;
    for (let b = last - 3; b >= 0 && hit < 0; b -= 3) if (total - digitsOf(g, 0, b) <= 4 && isCard(text, g, 0, b)) [hit, hitEnd] = [0, b];
    for (let a = 3; a <= last && hit < 0; a += 3) if (total - digitsOf(g, a, last) <= 4 && isCard(text, g, a, last)) [hit, hitEnd] = [a, last];
    if (hit < 0) continue;
    out.push(g[hit]!, g[hitEnd + 1]!);
    if (first) break;
  }
  re.lastIndex = 0;
}

// ---------------------------------------------------------------------------------------------
// JWTs (JWS compact serialization, and JWE's five parts): base64url parts joined by dots, the
// header a JSON object (so it starts with `eyJ`).

const JWT_AT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)?/y;
const B64URL_RUN = /[A-Za-z0-9_-]*/y;

function findJwts(text: string, out: number[], first: boolean): void {
  let from = 2;
  for (;;) {
    // "J", then the "ey" before it: a one-character search is a memchr, while V8 looks for a longer
    // pattern by its first character and compares from there (`indexOf("yJ")` took 44 us over
    // 64 KiB of text with a "y" every 15 characters, `indexOf("J")` 1 us).
    const j = text.indexOf("J", from);
    if (j < 0) return;
    if (text.charCodeAt(j - 1) !== 121 /* y */ || text.charCodeAt(j - 2) !== 101 /* e */) {
      from = j + 1;
      continue;
    }
    const at = j - 2;
    JWT_AT.lastIndex = at;
    const m = JWT_AT.exec(text);
    if (m !== null) {
      out.push(at, at + m[0].length);
      if (first) return;
      from = at + m[0].length;
      continue;
    }
    // Every later `eyJ` in the same base64url run fails the same way: skip the run (linear).
    B64URL_RUN.lastIndex = at;
    B64URL_RUN.exec(text);
    from = B64URL_RUN.lastIndex + 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Bearer tokens: the `Bearer` scheme (any case) and an RFC 6750 token of 8 characters or more.

const BEARER = /bearer[ \t]+[A-Za-z0-9\-._~+/]{8,}=*/gi;

// AWS access key ids: a key-type prefix (long-term AKIA, temporary ASIA, ABIA, legacy A3T) and 16
// upper-case letters or digits. (Not ACCA: it is hex, and upper-case hex hashes would match.)
const AWS_KEY = /(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA)[A-Z0-9]{16}/g;

// PEM private keys (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP...), to the END line or, when cut, to the end.
const PRIVATE_KEY = /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g;

function findPrivateKeys(text: string, out: number[], first: boolean): void {
  if (!text.includes("PRIVATE KEY")) return;
  scanRegExp(PRIVATE_KEY, text, out, first);
}

// ---------------------------------------------------------------------------------------------
// E-mail addresses: local part, `@`, a domain whose last label is 2+ letters. Found from each `@`.

function isLocalChar(c: number): boolean {
  return isAlnum(c) || c === 46 /* . */ || c === 95 /* _ */ || c === 37 /* % */ || c === 43 /* + */ || c === 45 /* - */;
}

function isDomainChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 45;
}

function findEmails(text: string, out: number[], first: boolean): void {
  let from = 0;
  for (;;) {
    const at = text.indexOf("@", from);
    if (at < 0) return;
    let l = at;
    while (l > 0 && isLocalChar(text.charCodeAt(l - 1))) l--;
    let r = at + 1;
    while (r < text.length && isDomainChar(text.charCodeAt(r))) r++;
    while (r > at + 1 && (text.charCodeAt(r - 1) === 46 || text.charCodeAt(r - 1) === 45)) r--;
    from = Math.max(at + 1, r);
    if (l === at) continue;
    let dot = r - 1;
    while (dot > at && text.charCodeAt(dot) !== 46) dot--;
    if (dot <= at + 1 || r - dot - 1 < 2) continue;
    let tld = true;
    for (let i = dot + 1; i < r && tld; i++) {
      const c = text.charCodeAt(i) | 0x20;
      tld = c >= 97 && c <= 122;
    }
    if (!tld) continue;
    out.push(l, r);
    if (first) return;
  }
}

// ---------------------------------------------------------------------------------------------
// IBANs: country code, two check digits, 11..30 letters or digits (single spaces allowed between
// them), passing the ISO 13616 mod-97 check. Every country's length is between 15 and 34.

const IBAN_START = /(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}/g;
const MOD_1E6 = 1_000_000 % 97;

function findIbans(text: string, out: number[], first: boolean): void {
  const re = IBAN_START;
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = m.index;
    // The country code and check digits, as the number they stand for once moved to the end.
    const head = (text.charCodeAt(start) - 55) * 10_000 + (text.charCodeAt(start + 1) - 55) * 100 +
      (text.charCodeAt(start + 2) - 48) * 10 + (text.charCodeAt(start + 3) - 48);
    let r = 0;
    let n = 0;
    let best = -1;
    let i = start + 4;
    while (i < text.length && n < 30) {
      let c = text.charCodeAt(i);
      if (c === 32) {
        const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
        if (!((next >= 48 && next <= 57) || (next >= 65 && next <= 90))) break;
        i++;
        c = next;
      }
      if (c >= 48 && c <= 57) r = (r * 10 + (c - 48)) % 97;
      else if (c >= 65 && c <= 90) r = (r * 100 + (c - 55)) % 97;
      else break;
      n++;
      i++;
      const after = i < text.length ? text.charCodeAt(i) : 32;
      if (n >= 11 && !(isAlnum(after)) && (r * MOD_1E6 + head) % 97 === 1) best = i;
    }
    if (best >= 0) {
      out.push(start, best);
      if (first) break;
      re.lastIndex = best;
    }
  }
  re.lastIndex = 0;
}

// ---------------------------------------------------------------------------------------------

const BUILT_IN: Readonly<Record<ValueDetectorName, Detector["find"]>> = {
  creditCard: findCards,
  jwt: findJwts,
  bearerToken: (text, out, first) => scanRegExp(BEARER, text, out, first),
  awsAccessKey: (text, out, first) => {
    // Four literal searches (each starts with a rare upper-case letter) before the RegExp scan.
    if (text.indexOf("AKIA") < 0 && text.indexOf("ASIA") < 0 && text.indexOf("ABIA") < 0 && text.indexOf("A3T") < 0) return;
    scanRegExp(AWS_KEY, text, out, first);
  },
  privateKey: findPrivateKeys,
  email: findEmails,
  iban: findIbans,
};

/** Anchors and lookarounds make a RegExp's match depend on what surrounds the value. */
const NOT_LOCAL = /[\^$]|\(\?<?[=!]/;

function userDetector(re: RegExp): Detector {
  // A private copy: the user's RegExp (and its lastIndex) is never used; /y would only match at
  // lastIndex and is dropped, /g is always on (every occurrence is redacted).
  const flags = re.flags.replace(/[gy]/g, "");
  const copy = new RegExp(re.source, flags + "g");
  return {
    rule: `value:/${re.source}/${flags}`,
    local: !NOT_LOCAL.test(re.source),
    find: (text, out, first) => scanRegExp(copy, text, out, first),
  };
}

/** The rules of an empty `redactValues`: every method is a constant. */
export const NO_VALUES: ValueRules = {
  size: 0,
  rules: [],
  local: true,
  prefilter: 0,
  mayMatch: () => false,
  mayMatchValues: () => false,
  redact: () => undefined,
  ranges: () => [],
};

/** Reused for the first-match scans of mayMatch (single-threaded; always left empty). */
const probe: number[] = [];

class Values implements ValueRules {
  readonly size: number;
  readonly rules: readonly string[];
  readonly local: boolean;
  readonly prefilter: number;

  constructor(private readonly detectors: readonly Detector[]) {
    this.size = detectors.length;
    this.rules = detectors.map((d) => d.rule);
    this.local = detectors.every((d) => d.local);
    let bits = 0;
    for (const d of detectors) {
      const bit = (PREFILTERED as Readonly<Record<string, number>>)[d.rule.slice("value:".length)];
      if (bit === undefined || d.find !== BUILT_IN[d.rule.slice("value:".length) as ValueDetectorName]) {
        bits = 0;
        break;
      }
      bits |= bit;
    }
    this.prefilter = bits;
  }

  mayMatch(text: string): boolean {
    // An escape (`\u0040`, `\/`) can hide a match that only the decoded value shows.
    if (!this.local || text.includes("\\")) return true;
    if (this.scan(text)) return true;
    // So can percent-encoding (a URL echoed in a body: `note=4111%201111%20...`).
    if (text.indexOf("%") < 0) return false;
    const decoded = percentDecode(text);
    return decoded !== text && this.scan(decoded);
  }

  mayMatchValues(text: string): boolean {
    if (!this.local) return true;
    if (this.scan(text)) return true;
    const pct = text.indexOf("%") >= 0;
    const plus = text.indexOf("+") >= 0;
    if (!pct && !plus) return false;
    if (this.scan(decodeLines(text, true))) return true; // a query value: `+` is a space
    return pct && plus && this.scan(decodeLines(text, false)); // a path segment: `+` stays
  }

  private scan(text: string): boolean {
    const ds = this.detectors;
    for (let i = 0; i < ds.length; i++) {
      ds[i]!.find(text, probe, true);
      if (probe.length > 0) {
        probe.length = 0;
        return true;
      }
    }
    return false;
  }

  ranges(text: string): number[] {
    let all: number[] | undefined;
    const one: number[] = [];
    for (const d of this.detectors) {
      d.find(text, one, false);
      if (one.length === 0) continue;
      all = all === undefined ? one.slice() : all.concat(one);
      one.length = 0;
    }
    return all === undefined ? [] : sortPairs(all);
  }

  redact(text: string, tally?: Tally, where?: string): string | undefined {
    let all: number[] | undefined;
    const one: number[] = [];
    for (const d of this.detectors) {
      d.find(text, one, false);
      if (one.length === 0) continue;
      tally?.(d.rule, one.length / 2, where);
      all = all === undefined ? one.slice() : all.concat(one);
      one.length = 0;
    }
    if (all === undefined) return undefined;
    return replaceRanges(text, sortPairs(all));
  }
}

const ESCAPES = /%[0-9A-Fa-f]{2}/g;
/**
 * Percent-decoding that never fails (`+` as a space): invalid UTF-8 sequences decode byte by byte,
 * so an ASCII secret comes out whole whatever surrounds it.
 */
export function percentDecode(text: string): string {
  if (text.indexOf("%") < 0) return text;
  const spaced = text.indexOf("+") < 0 ? text : text.replace(/\+/g, " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(ESCAPES, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
  }
}

/**
 * Each "\n"-separated line percent-decoded on its own (`+` as a space when `plus`), so that one
 * line's invalid escape leaves the others decoded properly; a line that cannot be decoded as
 * UTF-8 decodes byte by byte, as percentDecode does.
 */
function decodeLines(text: string, plus: boolean): string {
  const one = (line: string): string => {
    const s = plus && line.indexOf("+") >= 0 ? line.replace(/\+/g, " ") : line;
    try {
      return decodeURIComponent(s);
    } catch {
      return s.replace(ESCAPES, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
    }
  };
  try {
    return decodeURIComponent(plus ? text.replace(/\+/g, " ") : text);
  } catch {
    return text.split("\n").map(one).join("\n");
  }
}

/** [start, end) pairs sorted by start. */
function sortPairs(pairs: number[]): number[] {
  if (pairs.length <= 2) return pairs;
  const idx: number[] = [];
  for (let i = 0; i < pairs.length; i += 2) idx.push(i);
  idx.sort((a, b) => pairs[a]! - pairs[b]! || pairs[b + 1]! - pairs[a + 1]!);
  const out: number[] = [];
  for (const i of idx) out.push(pairs[i]!, pairs[i + 1]!);
  return out;
}

/** `text` with each (sorted, possibly overlapping) range replaced by the marker; overlapping ranges become one. */
export function replaceRanges(text: string, sorted: readonly number[], marker: string = REDACTED): string {
  let out = "";
  let last = 0;
  for (let i = 0; i < sorted.length; i += 2) {
    const start = sorted[i]!;
    let end = sorted[i + 1]!;
    while (i + 2 < sorted.length && sorted[i + 2]! < end) {
      end = Math.max(end, sorted[i + 3]!);
      i += 2;
    }
    if (start < last) {
      // overlaps the previous replacement: extend it
      last = Math.max(last, end);
      continue;
    }
    out += text.slice(last, start) + marker;
    last = end;
  }
  return out + text.slice(last);
}

/**
 * Validate and compile `redactValues` (undefined: the defaults). Throws APIToolkitConfigError
 * (`ERR_INVALID_OPTION`) naming the bad entry.
 *
 * @example compileValues(["jwt", "creditCard", /acct-\d{6}/]).redact("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln") // "token [CLIENT_REDACTED]"
 */
export function compileValues(spec: unknown, option = "redactValues"): ValueRules {
  const list = spec === undefined ? DEFAULT_VALUE_DETECTORS : spec;
  if (!Array.isArray(list)) {
    throw new APIToolkitConfigError("ERR_INVALID_OPTION", `${option} must be an array of detector names (${VALUE_DETECTORS.join(", ")}) and RegExps`);
  }
  const detectors: Detector[] = [];
  const seen = new Set<string>();
  list.forEach((entry: unknown, i) => {
    let d: Detector;
    if (entry instanceof RegExp) {
      d = userDetector(entry);
    } else if (typeof entry === "string" && Object.hasOwn(BUILT_IN, entry)) {
      d = { rule: `value:${entry}`, local: true, find: BUILT_IN[entry as ValueDetectorName] };
    } else {
      const what = typeof entry === "string" ? `"${entry}"` : entry === null ? "null" : typeof entry;
      throw new APIToolkitConfigError("ERR_INVALID_OPTION", `${option}[${i}] must be one of ${VALUE_DETECTORS.join(", ")} or a RegExp, got ${what}`);
    }
    if (seen.has(d.rule)) return;
    seen.add(d.rule);
    detectors.push(d);
  });
  return detectors.length === 0 ? NO_VALUES : new Values(detectors);
}

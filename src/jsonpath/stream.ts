/**
 * Redaction over the bytes of a JSON text: one pass of a small validating tokenizer that drives
 * the same automaton as the walk (`walk.ts`), copies the spans it does not change and writes the
 * marker in place of each selected value (scalar, object or array, whole). No document is built
 * and nothing is re-serialized, so the input's whitespace, number spellings, string escapes and
 * member order are kept as they were.
 *
 * - Validation: the text is checked against the JSON grammar as it is read, the parts no path
 *   looks into included; what `JSON.parse(bytes.toString("utf8"))` rejects makes
 *   {@link redactJsonBytes} return `null` (the caller fails closed). Bytes of 0x80 and above are
 *   accepted inside strings only, as UTF-8 decoding with replacement characters would have it.
 * - Member names are compared decoded: escapes (`\uXXXX`, ...) and UTF-8 are decoded before a name
 *   that has any is looked up; plain ASCII names are compared in place.
 * - Duplicate member names: `JSON.parse` keeps the last one, so the walk only ever sees (and
 *   redacts) that one. Here every member is kept, and each gets the states its name gives it, so
 *   every duplicate a path selects is redacted: none can pass unredacted in the published text, and
 *   what a JSON parser reads from the output equals what the walk would have produced.
 * - Depth cap (fail closed), as in the walk: a container at depth {@link MAX_DEPTH} or deeper (the
 *   root is depth 0) whose children would still have to be checked is replaced wholesale.
 * - Only programs whose selections depend on nothing but a node's position are run here: no
 *   filters (they need node values), no negative indexes, no slices that need the array's length
 *   (a negative bound or step). {@link streamable} says so at compile time; the others keep the
 *   parse + walk path.
 *
 * Bytes rather than the decoded string: indexing a Buffer is about twice as fast as `charCodeAt`
 * here, and the output is the bytes to publish.
 */
import { REDACTED } from "../registry/marker.js";
import type { ArrayPlan, ObjectPlan, StateSet, StateTable } from "./automaton.js";
import type { Program, Selector } from "./program.js";
import { MAX_DEPTH } from "./walk.js";
import { redactWasm, spliceWasm, type EncodedTable } from "./wasm/module.js";
import { scratch } from "./scratch.js";
import type { SpanSink } from "./types.js";

/** A selected value's replacement, as JSON text. */
const MARKER = Buffer.from(JSON.stringify(REDACTED));

/** Can every program run over bytes? (No filters, no selector that needs an array's length.) */
export function streamable(programs: readonly Program[]): boolean {
  return programs.every((program) => program.every((segment) => segment.selectors.every(positional)));
}

function positional(s: Selector): boolean {
  switch (s.kind) {
    case "name":
    case "wildcard":
      return true;
    case "index":
      return s.index >= 0;
    case "slice":
      return s.step >= 0 && (s.start === undefined || s.start >= 0) && (s.stop === undefined || s.stop >= 0);
    case "filter":
      return false;
  }
}

/** A container the paths look into. */
interface Frame {
  readonly object: boolean;
  readonly depth: number;
  readonly names: NameMatcher | undefined;
  readonly arrayPlan: ArrayPlan | undefined;
  /** Arrays: the index of the element being read. */
  index: number;
}

/**
 * Redact a JSON text (its UTF-8 bytes) with the automaton of `table`, built from
 * {@link streamable} programs only. Returns `bytes` itself when nothing is selected, new bytes
 * with each selected value replaced by the marker otherwise, and `null` when the text is not
 * valid JSON. With `spans`, the [start, end) byte offsets in `bytes` of each replaced value are
 * appended to it (in order), so a caller can tell whose values they were without a second scan.
 */
export function redactJsonBytes(bytes: Buffer, table: StateTable, spans?: SpanSink): Buffer | null {
  const b = bytes;
  cutDeep = false;
  const stack: Frame[] = [];
  let top: Frame | undefined;
  /** Replaced spans, as start, end pairs. */
  const cuts: number[] = [];
  let set = table.root;
  let depth = 0;
  let i = ws(b, 0);
  for (;;) {
    // A value starts at i; `set` holds the states active on it.
    const c = b[i]!;
    if (!set.live && !set.matched) {
      // strings and numbers (most values) without the nesting machinery of skipValue
      i = c === 34 ? skipString(b, i) : (c >= 48 && c <= 57) || c === 45 ? skipNumber(b, i) : skipValue(b, i);
      if (i < 0) return null;
    } else if (set.matched || (depth >= MAX_DEPTH && (c === 123 || c === 91))) {
      const end = c === 34 ? skipString(b, i) : skipValue(b, i);
      if (end < 0) return null;
      if (!set.matched) cutDeep = true;
      cuts.push(i, end);
      i = end;
    } else if (c === 123) {
      i = ws(b, i + 1);
      if (b[i] === 125) {
        i++;
      } else {
        const names = matcherOf(table.planObject(set));
        stack.push((top = { object: true, depth, names, arrayPlan: undefined, index: 0 }));
        i = memberName(b, i, names);
        if (i < 0) return null;
        set = memberSet;
        depth++;
        continue;
      }
    } else if (c === 91) {
      i = ws(b, i + 1);
      if (b[i] === 93) {
        i++;
      } else {
        const plan = table.planArray(set);
        stack.push((top = { object: false, depth, names: undefined, arrayPlan: plan, index: 0 }));
        set = elementSet(table, plan, 0);
        depth++;
        continue;
      }
    } else {
      i = skipValue(b, i);
      if (i < 0) return null;
    }
    // After a value: the separators and closing brackets up to the next value (or the end).
    for (;;) {
      let d = b[i]!;
      if (d <= 32) d = b[(i = ws(b, i))]!;
      if (top === undefined) {
        if (i !== b.length) return null;
        if (cuts.length === 0) return b;
        if (Array.isArray(spans)) for (const c of cuts) spans.push(c);
        else if (spans !== undefined) spans.offsets = cuts;
        return splice(b, cuts);
      }
      if (d === 44) {
        i++;
        if (b[i]! <= 32) i = ws(b, i);
        if (top.object) {
          i = memberName(b, i, top.names!);
          if (i < 0) return null;
          set = memberSet;
        } else {
          set = elementSet(table, top.arrayPlan!, ++top.index);
        }
        depth = top.depth + 1;
        break;
      }
      if (d !== (top.object ? 125 : 93)) return null;
      i++;
      stack.pop();
      top = stack[stack.length - 1];
    }
  }
}

/** At most this many state sets are handed to the WebAssembly pass (more: the JavaScript one runs). */
const MAX_ENCODED_SETS = 256;

const encoded = new WeakMap<StateTable, EncodedTable | null>();

/**
 * The automaton of `table` as splice.c's `redact` reads it, every set reachable from the root
 * planned (once per table); null when some plan needs more than a name per member and one set
 * for every element (indexes, slices, filters), or there are too many sets: those stay in
 * JavaScript.
 */
export function encodeTable(table: StateTable): EncodedTable | null {
  let enc = encoded.get(table);
  if (enc !== undefined) return enc;
  enc = buildTable(table);
  encoded.set(table, enc);
  return enc;
}

function buildTable(table: StateTable): EncodedTable | null {
  const ids = new Map<StateSet, number>();
  const order: StateSet[] = [];
  const id = (s: StateSet): number => {
    let k = ids.get(s);
    if (k === undefined) {
      k = order.length;
      ids.set(s, k);
      order.push(s);
    }
    return k;
  };
  id(table.root);
  const words: number[] = [];
  const offsets: number[] = [];
  const names: Buffer[] = [];
  let namesLength = 0;
  for (let q = 0; q < order.length; q++) {
    if (order.length > MAX_ENCODED_SETS) return null;
    const s = order[q]!;
    offsets.push(words.length);
    if (s.matched || !s.live) {
      words.push(s.matched ? 2 : 0, 0, 0, 0);
      continue;
    }
    const op = table.planObject(s);
    const ap = table.planArray(s);
    if (op.filters.length > 0 || ap.filters.length > 0 || ap.indexes.length > 0 || ap.slices.length > 0) return null;
    words.push(1, id(op.all), id(ap.all), op.named.size);
    for (const [name, next] of op.named) {
      const bytes = Buffer.from(name);
      words.push(namesLength, bytes.length, id(next));
      names.push(bytes);
      namesLength += bytes.length;
    }
  }
  if (order.length > MAX_ENCODED_SETS) return null;
  // Sets named by where their words start (splice.c follows a set with one load less).
  for (const o of offsets) {
    if (words[o] !== 1) continue;
    words[o + 1] = offsets[words[o + 1]!]!;
    words[o + 2] = offsets[words[o + 2]!]!;
    for (let m = 0; m < words[o + 3]!; m++) words[o + 6 + 3 * m] = offsets[words[o + 6 + 3 * m]!]!;
  }
  return { words: Uint32Array.from(words), offsets: Uint32Array.from(offsets), names: Buffer.concat(names) };
}

/**
 * {@link redactJsonBytes} in WebAssembly when it can be done there (splice.c's `redact`): the same
 * result, spans and lastCutDeep; otherwise the JavaScript pass.
 */
export function redactJsonBytesFast(bytes: Buffer, table: StateTable, spans?: SpanSink): Buffer | null {
  const enc = encodeTable(table);
  if (enc !== null) {
    const out = redactWasm(bytes, enc, MARKER, spans);
    if (out !== undefined) {
      cutDeep = false; // deep containers are left to the JavaScript pass
      return out === null ? null : (out as Buffer);
    }
  }
  return redactJsonBytes(bytes, table, spans);
}

/** Did the last {@link redactJsonBytes} replace a container for its depth (not because a path selected it)? */
let cutDeep = false;

/** Whether the last {@link redactJsonBytes} replaced a container at {@link MAX_DEPTH} (fail closed) rather than one a path selected. */
export function lastCutDeep(): boolean {
  return cutDeep;
}

/** `b` with each span of `cuts` (start, end pairs, in order) replaced by the marker. */
function splice(b: Buffer, cuts: readonly number[]): Buffer {
  let size = b.length;
  for (let k = 0; k < cuts.length; k += 2) size += MARKER.length - (cuts[k + 1]! - cuts[k]!);
  return spliceWasm(b, cuts, MARKER, size) ?? spliceJs(b, cuts, size);
}

/** {@link splice} in JavaScript (no WebAssembly, a body too large for it; and the reference it is tested against). */
export function spliceJs(b: Buffer, cuts: readonly number[], size: number): Buffer {
  const out = scratch(size) ?? Buffer.allocUnsafe(size);
  let at = 0;
  let from = 0;
  for (let k = 0; k < cuts.length; k += 2) {
    at += b.copy(out, at, from, cuts[k]!);
    at += MARKER.copy(out, at);
    from = cuts[k + 1]!;
  }
  b.copy(out, at, from);
  return out;
}

/** An object plan's named members, for comparing plain names in place. */
interface NameMatcher {
  readonly plan: ObjectPlan;
  /** The ASCII names (others are only found by decoding the member's name), as bytes. */
  readonly ascii: readonly Buffer[];
  readonly sets: readonly StateSet[];
  /** Each ASCII name's first byte (-1 for the empty name). */
  readonly firsts: readonly number[];
}

const matchers = new WeakMap<ObjectPlan, NameMatcher>();

function matcherOf(plan: ObjectPlan): NameMatcher {
  let m = matchers.get(plan);
  if (m === undefined) {
    const names = [...plan.named.keys()].filter((n) => Buffer.byteLength(n) === n.length); // ASCII only
    const ascii = names.map((n) => Buffer.from(n, "latin1"));
    m = { plan, ascii, sets: names.map((n) => plan.named.get(n)!), firsts: ascii.map((n) => (n.length === 0 ? -1 : n[0]!)) };
    matchers.set(plan, m);
  }
  return m;
}

/** Above this many names, a member's name is decoded and looked up in the plan's map. */
const MAX_COMPARED_NAMES = 8;

/** The states of the member whose name {@link memberName} read last (one pass runs at a time). */
let memberSet: StateSet;

/**
 * Read a member's name at `i` (its opening quote), and the colon after it; set {@link memberSet}.
 * Returns where the member's value starts, or -1 when the text is not valid JSON there.
 */
function memberName(b: Buffer, i: number, m: NameMatcher): number {
  if (b[i] !== 34) return -1;
  const start = i + 1;
  let escaped = false;
  let ascii = true;
  let e = start;
  for (;;) {
    const c = b[e]!;
    if (c >= 35) {
      if (c === 92) {
        escaped = true;
        e = skipEscape(b, e);
        if (e < 0) return -1;
        continue;
      }
      if (c >= 128) ascii = false;
      e++;
    } else if (c === 34) break;
    else if (c === 32 || c === 33) e++;
    else return -1;
  }
  const plan = m.plan;
  let set = plan.all;
  if (plan.named.size === 0) {
    // nothing to compare
  } else if (escaped || !ascii || m.ascii.length > MAX_COMPARED_NAMES) {
    const name = !ascii ? decodeName(b, start, e, escaped) : escaped ? unescapeAscii(b, start, e) : b.toString("latin1", start, e);
    set = plan.named.get(name) ?? set;
  } else {
    const len = e - start;
    const first = len === 0 ? -1 : b[start]!;
    const { ascii, firsts } = m;
    for (let k = 0; k < ascii.length; k++) {
      if (firsts[k] !== first) continue;
      const name = ascii[k]!;
      if (name.length !== len) continue;
      let j = 1;
      while (j < len && name[j] === b[start + j]) j++;
      if (j >= len) {
        set = m.sets[k]!;
        break;
      }
    }
  }
  i = e + 1;
  let c = b[i]!;
  if (c <= 32) c = b[(i = ws(b, i))]!;
  if (c !== 58) return -1;
  memberSet = set;
  i++;
  return b[i]! <= 32 ? ws(b, i) : i;
}

/** The (valid) name between `start` and `end`, not ASCII: decoded as UTF-8, then its escapes. */
function decodeName(b: Buffer, start: number, end: number, escaped: boolean): string {
  const raw = b.toString("utf8", start, end);
  return escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
}

/** The (valid) ASCII name with escapes between `start` and `end`, unescaped. */
function unescapeAscii(b: Buffer, start: number, end: number): string {
  let out = "";
  for (let k = start; k < end; k++) {
    const c = b[k]!;
    if (c !== 92) {
      out += String.fromCharCode(c);
      continue;
    }
    const e = b[++k]!;
    if (e === 117) {
      out += String.fromCharCode((hex(b[k + 1]!) << 12) | (hex(b[k + 2]!) << 8) | (hex(b[k + 3]!) << 4) | hex(b[k + 4]!));
      k += 4;
    } else {
      out += e === 98 ? "\b" : e === 102 ? "\f" : e === 110 ? "\n" : e === 114 ? "\r" : e === 116 ? "\t" : String.fromCharCode(e); // " \ /
    }
  }
  return out;
}

/** The value of a (valid) hexadecimal digit. */
function hex(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

/** The states of element `index` (only non-negative indexes and slices: see {@link streamable}). */
function elementSet(table: StateTable, plan: ArrayPlan, index: number): StateSet {
  const { indexes, slices } = plan;
  if (indexes.length === 0 && slices.length === 0) return plan.all;
  let extra: number[] | null = null;
  for (let k = 0; k < indexes.length; k++) {
    if (indexes[k]!.selector === index) (extra ??= []).push(indexes[k]!.next);
  }
  for (let k = 0; k < slices.length; k++) {
    const { selector, next } = slices[k]!;
    const start = selector.start ?? 0;
    if (selector.step > 0 && index >= start && (selector.stop === undefined || index < selector.stop) && (index - start) % selector.step === 0) {
      (extra ??= []).push(next);
    }
  }
  return extra === null ? plan.all : table.union(plan.all, extra);
}

/*
 * The skipping tokenizer. Reads past the end of `b` give `undefined`, which fails every
 * comparison below, so the end of the text ends whatever was being read as invalid.
 */

/** Skip JSON whitespace. */
function ws(b: Buffer, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** Skip the string whose opening quote is at `i`; -1 when it is not a valid JSON string. */
function skipString(b: Buffer, i: number): number {
  i++;
  for (;;) {
    const c = b[i]!;
    if (c >= 35) {
      if (c !== 92) i++;
      else if ((i = skipEscape(b, i)) < 0) return -1;
    } else if (c === 34) return i + 1;
    else if (c === 32 || c === 33) i++;
    else return -1; // a control character, or the end of the text
  }
}

/** Skip the escape sequence whose backslash is at `i`; -1 when it is not a valid one. */
function skipEscape(b: Buffer, i: number): number {
  const c = b[i + 1];
  if (c === 34 || c === 92 || c === 47 || c === 98 || c === 102 || c === 110 || c === 114 || c === 116) return i + 2;
  if (c !== 117) return -1;
  for (let k = i + 2; k < i + 6; k++) {
    const h = b[k]!;
    if (!((h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102))) return -1;
  }
  return i + 6;
}

/** Skip the number starting at `i` (RFC 8259 grammar); -1 when there is none. */
function skipNumber(b: Buffer, i: number): number {
  let c = b[i]!;
  if (c === 45) c = b[++i]!;
  if (c === 48) c = b[++i]!;
  else if (c >= 49 && c <= 57) {
    do c = b[++i]!;
    while (c >= 48 && c <= 57);
  } else return -1;
  if (c === 46) {
    c = b[++i]!;
    if (!(c >= 48 && c <= 57)) return -1;
    do c = b[++i]!;
    while (c >= 48 && c <= 57);
  }
  if (c === 101 || c === 69) {
    c = b[++i]!;
    if (c === 43 || c === 45) c = b[++i]!;
    if (!(c >= 48 && c <= 57)) return -1;
    do c = b[++i]!;
    while (c >= 48 && c <= 57);
  }
  return i;
}

/** Kinds of the containers {@link skipValue} is inside (1: object, 2: array), reused between calls. */
let kinds = new Uint8Array(64);

/** Deeper skips than this give their grown {@link kinds} back afterwards. */
const KEPT_KINDS = 4096;

/**
 * Skip (and validate) the value starting at `i`, nested containers included, without recursion.
 * Returns the index just after it, or -1 when it is not valid JSON.
 */
function skipValue(b: Buffer, i: number): number {
  const end = skipNested(b, i);
  if (kinds.length > KEPT_KINDS) kinds = new Uint8Array(64);
  return end;
}

function skipNested(b: Buffer, i: number): number {
  let depth = 0;
  for (;;) {
    // A value starts at i.
    const c = b[i]!;
    if (c === 34) {
      i = skipString(b, i);
    } else if (c === 123 || c === 91) {
      i++;
      if (b[i]! <= 32) i = ws(b, i);
      if (b[i] === (c === 123 ? 125 : 93)) {
        i++;
      } else {
        if (depth === kinds.length) {
          const grown = new Uint8Array(depth * 2);
          grown.set(kinds);
          kinds = grown;
        }
        kinds[depth++] = c === 123 ? 1 : 2;
        if (c === 123) i = skipMemberName(b, i);
        if (i < 0) return -1;
        continue;
      }
    } else if (c === 116) {
      i = b[i + 1] === 114 && b[i + 2] === 117 && b[i + 3] === 101 ? i + 4 : -1; // true
    } else if (c === 102) {
      i = b[i + 1] === 97 && b[i + 2] === 108 && b[i + 3] === 115 && b[i + 4] === 101 ? i + 5 : -1; // false
    } else if (c === 110) {
      i = b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108 ? i + 4 : -1; // null
    } else {
      i = skipNumber(b, i);
    }
    if (i < 0) return -1;
    // After a value: separators and closing brackets.
    for (;;) {
      if (depth === 0) return i;
      let d = b[i]!;
      if (d <= 32) d = b[(i = ws(b, i))]!;
      const object = kinds[depth - 1] === 1;
      if (d === 44) {
        i++;
        if (b[i]! <= 32) i = ws(b, i);
        if (object) {
          i = skipMemberName(b, i);
          if (i < 0) return -1;
        }
        break;
      }
      if (d !== (object ? 125 : 93)) return -1;
      i++;
      depth--;
    }
  }
}

/** Skip a member's name at `i` and the colon after it; where its value starts, or -1. */
function skipMemberName(b: Buffer, i: number): number {
  if (b[i] !== 34) return -1;
  i = skipString(b, i);
  if (i < 0) return -1;
  let c = b[i]!;
  if (c <= 32) c = b[(i = ws(b, i))]!;
  if (c !== 58) return -1;
  i++;
  return b[i]! <= 32 ? ws(b, i) : i;
}

/** Is `bytes` one valid JSON text? (What {@link redactJsonBytes} checks when no path can match.) */
export function isJsonBytes(bytes: Buffer): boolean {
  const i = ws(bytes, 0);
  const end = skipValue(bytes, i);
  return end >= 0 && ws(bytes, end) === bytes.length;
}

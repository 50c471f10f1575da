/**
 * The body pipeline's byte work in WebAssembly (splice.c beside this file): the JSON redaction
 * over the bytes for the common path shapes ({@link redactWasm}: validation, member names, cuts
 * and splice in one call), validation alone ({@link isJsonWasm}), the splice of the JavaScript
 * pass's cuts (one memory.copy per span instead of one runtime call per span from JavaScript),
 * and the prefilter of the default value detectors over the bytes (no decoded string when
 * nothing can match). Measured in
 * docs/benchmarks.md, "Body pipeline". Loaded synchronously, once,
 * on first use; when WebAssembly is not available (e.g. `node --jitless`) or fails to load,
 * {@link spliceWasm} says so and the caller splices in JavaScript.
 *
 * One module instance, reused by every call (single-threaded, synchronous); the result is copied
 * out (into scratch memory when serializing: ../scratch.ts).
 * Its memory grows to hold the largest body handled, its cuts and its redacted copy, and stays
 * (about 5x the body with the default rules: ~350 KB with the default maxBodyBytes); bodies
 * above {@link MAX_SPLICED} bytes, more cuts than {@link MAX_CUT_WORDS} and outputs over twice
 * that are left to JavaScript, so it stays under ~5 MiB.
 */
import { SPLICE_WASM } from "./bytes.js";
import { instantiateEmbedded, type WasmMemory } from "./instantiate.js";
import { scratch } from "../scratch.js";
import type { SpanSink } from "../types.js";

/** Larger bodies are not spliced here (the module's memory never shrinks). */
export const MAX_SPLICED = 1024 * 1024;

interface Instance {
  readonly memory: WasmMemory;
  readonly splice: (input: number, len: number, cuts: number, ncuts: number, marker: number, mlen: number, out: number) => number;
  readonly mayMatch: (input: number, len: number, detectors: number) => number;
  readonly validate: (input: number, len: number) => number;
  readonly redact: (input: number, len: number, words: number, offsets: number, names: number, cuts: number, maxCuts: number) => number;
  readonly cutBytes: () => number;
  readonly base: number;
  bytes: Uint8Array;
}

let instance: Instance | null | undefined;

function load(): Instance | null {
  try {
    const exports = instantiateEmbedded(SPLICE_WASM);
    if (exports === null) return null;
    const memory = exports.memory as WasmMemory;
    const heapBase = (exports.__heap_base as { readonly value: number }).value;
    return {
      memory,
      splice: exports.splice as Instance["splice"],
      mayMatch: exports.mayMatch as Instance["mayMatch"],
      validate: exports.validate as Instance["validate"],
      redact: exports.redact as Instance["redact"],
      cutBytes: exports.cutBytes as Instance["cutBytes"],
      base: (heapBase + 15) & ~15,
      bytes: new Uint8Array(memory.buffer),
    };
  } catch {
    return null;
  }
}

/** The instance (loaded on first use), or null when there is none. */
function get(): Instance | null {
  if (instance === undefined) instance = load();
  return instance;
}

/** Grow the memory of `w` to hold `end` bytes (throws when it cannot). */
function reserve(w: Instance, end: number): Uint8Array {
  // (`bytes` spans the whole memory, which only this function grows: its length is the memory's
  // size without a call to the `buffer` getter, which costs a runtime call)
  if (end > w.bytes.length) {
    w.memory.grow(Math.ceil((end - w.memory.buffer.byteLength) / 65536));
    w.bytes = new Uint8Array(w.memory.buffer);
  }
  return w.bytes;
}

/**
 * `b` with each span of `cuts` (start, end pairs, in order, not overlapping, within `b`) replaced
 * by `marker`, as a new Buffer of `size` bytes; undefined when not done here (too large, no
 * WebAssembly): the caller splices itself.
 */
export function spliceWasm(b: Uint8Array, cuts: readonly number[], marker: Uint8Array, size: number): Buffer | undefined {
  const n = b.length;
  if (n > MAX_SPLICED || size > 2 * MAX_SPLICED) return undefined;
  const w = get();
  if (w === null) return undefined;
  try {
    const markerAt = w.base;
    const cutsAt = (markerAt + marker.length + 15) & ~15;
    const inAt = cutsAt + 4 * cuts.length;
    const outAt = (inAt + n + 15) & ~15;
    const mem = reserve(w, outAt + size);
    placedTable = undefined;
    mem.set(marker, markerAt);
    mem.set(b, inAt);
    const c = new Uint32Array(mem.buffer, cutsAt, cuts.length);
    for (let k = 0; k < cuts.length; k++) c[k] = cuts[k]!;
    const len = w.splice(inAt, n, cutsAt, cuts.length, markerAt, marker.length, outAt);
    if (len !== size) return undefined;
    const out = scratch(size) ?? Buffer.allocUnsafe(size);
    out.set(mem.subarray(outAt, outAt + size));
    return out;
  } catch {
    return undefined;
  }
}

/** Zero bytes after a text in the module's memory: its loops read whole 16-byte blocks, and the
 *  detectors' prefilter a literal's length (at most 11 bytes) past a candidate before the end. */
const PAD = 16;

/** `b` at the module's base, followed by {@link PAD} zero bytes. */
function loadPadded(w: Instance, b: Uint8Array): void {
  placedTable = undefined;
  const mem = reserve(w, w.base + b.length + PAD);
  mem.set(b, w.base);
  mem.fill(0, w.base + b.length, w.base + b.length + PAD);
}

/** The detectors (bits of {@link PREFILTERED}) the next {@link isJsonWasm} or {@link redactWasm} prefilters its result for. */
let wanted = 0;
/** Its verdict (see {@link foundDetectors}). */
let lastFound: boolean | undefined;

/**
 * Ask the next {@link isJsonWasm} or {@link redactWasm} (the redaction of one body) to run the
 * detectors' prefilter ({@link mayMatchDetectors}) on what it returns while that is still in the
 * module's memory: no second copy of the body into it, no second call. `detectors`: bits of
 * {@link PREFILTERED} (0: none asked). Forgets the verdict of any call before.
 */
export function forgetFound(detectors = 0): void {
  wanted = detectors;
  lastFound = undefined;
}

/**
 * What {@link mayMatchDetectors} says of the text the call asked for by {@link forgetFound}
 * returned; undefined when that call did not run here (JavaScript did the work) or none was asked.
 */
export function foundDetectors(): boolean | undefined {
  return lastFound;
}

/** The default detectors {@link mayMatchDetectors} knows, by their bit. */
export const PREFILTERED = { jwt: 1, bearerToken: 2, awsAccessKey: 4, privateKey: 8 } as const;

/**
 * Could one of `detectors` (bits of {@link PREFILTERED}) match in the UTF-8 text `b`, or does it
 * hold a `\` or `%` (what only its decoded form shows)? False only when none can (splice.c says
 * why that is exact); undefined when not checked here (no WebAssembly, a text over
 * {@link MAX_SPLICED} bytes): the caller scans the decoded text.
 */
export function mayMatchDetectors(b: Uint8Array, detectors: number): boolean | undefined {
  const n = b.length;
  if (n > MAX_SPLICED) return undefined;
  const w = get();
  if (w === null) return undefined;
  try {
    loadPadded(w, b);
    return w.mayMatch(w.base, n, detectors) !== 0;
  } catch {
    return undefined;
  }
}

/**
 * Is `b` one valid JSON text (what isJsonBytes in ../stream.ts says, in WebAssembly: splice.c's
 * `validate`)? Undefined when not checked here (no WebAssembly, a text over {@link MAX_SPLICED}
 * bytes, nesting deeper than splice.c's MAX_NEST): the caller checks it in JavaScript.
 */
export function isJsonWasm(b: Uint8Array): boolean | undefined {
  const n = b.length;
  if (n > MAX_SPLICED) return undefined;
  const w = get();
  if (w === null) return undefined;
  try {
    loadPadded(w, b);
    const r = w.validate(w.base, n);
    if (r === 1 && wanted !== 0) lastFound = w.mayMatch(w.base, n, wanted) !== 0; // (the text is followed by its padding)
    wanted = 0;
    return r === 2 ? undefined : r === 1;
  } catch {
    return undefined;
  }
}

/** The table and marker {@link redactWasm} last placed at the module's base (undefined: written over since). */
let placedTable: EncodedTable | undefined;
let placedMarker: Uint8Array | undefined;

/** At most this many cut offsets per body in {@link redactWasm} (1 MiB of them). */
const MAX_CUT_WORDS = 256 * 1024;

/** An automaton as splice.c's `redact` reads it (built by encodeTable in ../stream.ts). */
export interface EncodedTable {
  /** Each set's words: flags, member set, element set, k, then k (name offset, length, set) triples; a set is named by where its words start (its entry in `offsets`). */
  readonly words: Uint32Array;
  /** Where each set's words start in `words`. */
  readonly offsets: Uint32Array;
  /** The names' UTF-8 bytes. */
  readonly names: Uint8Array;
}

/**
 * The redaction of the JSON text `b` by `table` in WebAssembly (splice.c's `redact`, then its
 * splice): `b` itself when nothing is selected, the spliced bytes (in scratch memory when
 * serializing) otherwise, null when `b` is not valid JSON; undefined when not done here (no
 * WebAssembly, a body over {@link MAX_SPLICED} bytes, or what splice.c leaves to the JavaScript
 * pass: an escaped or non-ASCII member name where names are compared, deep nesting). With
 * `spans`, the [start, end) of each replaced value are appended (an array) or set as its `offsets` (a
 * holder), as redactJsonBytes does.
 */
export function redactWasm(b: Uint8Array, table: EncodedTable, marker: Uint8Array, spans: SpanSink | undefined): Buffer | Uint8Array | null | undefined {
  const n = b.length;
  if (n > MAX_SPLICED) return undefined;
  const w = get();
  if (w === null) return undefined;
  try {
    const markerAt = w.base;
    const wordsAt = (markerAt + marker.length + 15) & ~15;
    const offsetsAt = wordsAt + 4 * table.words.length;
    const namesAt = offsetsAt + 4 * table.offsets.length;
    const inAt = (namesAt + table.names.length + 15) & ~15;
    const cutsAt = (inAt + n + PAD + 15) & ~15;
    // Cuts are disjoint values separated by at least one byte: at most n + 2 words; more than
    // MAX_CUT_WORDS are left to the JavaScript pass (the memory never shrinks).
    const maxCuts = Math.min(n + 2, MAX_CUT_WORDS);
    let mem = reserve(w, cutsAt + 4 * maxCuts);
    if (placedTable !== table || placedMarker !== marker) {
      // (placed once for a run of bodies with the same rules: the other calls write over it)
      mem.set(marker, markerAt);
      new Uint32Array(mem.buffer, wordsAt, table.words.length).set(table.words);
      new Uint32Array(mem.buffer, offsetsAt, table.offsets.length).set(table.offsets);
      mem.set(table.names, namesAt);
      placedTable = table;
      placedMarker = marker;
    }
    mem.set(b, inAt);
    mem.fill(0, inAt + n, inAt + n + PAD);
    const ncut = w.redact(inAt, n, wordsAt, offsetsAt, namesAt, cutsAt, maxCuts);
    if (ncut === -1) return null;
    if (ncut < 0) return undefined;
    if (ncut === 0) {
      if (wanted !== 0) lastFound = w.mayMatch(inAt, n, wanted) !== 0;
      wanted = 0;
      return b;
    }
    const size = n + (ncut / 2) * marker.length - w.cutBytes();
    if (size > 2 * MAX_SPLICED) return undefined;
    const outAt = (cutsAt + 4 * ncut + 15) & ~15;
    mem = reserve(w, outAt + size + PAD); // (the prefilter reads whole 16-byte blocks and a literal's length past a candidate)
    const len = w.splice(inAt, n, cutsAt, ncut, markerAt, marker.length, outAt);
    if (len !== size) return undefined;
    // After the output: no candidate there can complete a literal that is not in the output (zeros).
    if (wanted !== 0) {
      mem.fill(0, outAt + size, outAt + size + PAD);
      lastFound = w.mayMatch(outAt, size, wanted) !== 0;
    }
    wanted = 0;
    if (spans !== undefined) {
      const done = new Uint32Array(mem.buffer, cutsAt, ncut); // (the memory's buffer after any growth above)
      if (Array.isArray(spans)) for (let k = 0; k < ncut; k++) spans.push(done[k]!);
      else spans.offsets = done.slice(); // (one copy out of the module's memory, which the next call reuses)
    }
    const out = scratch(size) ?? Buffer.allocUnsafe(size);
    out.set(mem.subarray(outAt, outAt + size));
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Two steps of the body pipeline in WebAssembly (splice.c beside this file): the splice of the
 * JSON redaction (the body with each selected value replaced by the marker, one memory.copy per
 * span instead of one runtime call per span from JavaScript), and the prefilter of the default
 * value detectors over the bytes (no decoded string when nothing can match). Measured in
 * docs/benchmarks.md, "Body pipeline". Loaded synchronously, once,
 * on first use; when WebAssembly is not available (e.g. `node --jitless`) or fails to load,
 * {@link spliceWasm} says so and the caller splices in JavaScript.
 *
 * One module instance, reused by every call (single-threaded, synchronous); the result is copied
 * out (into scratch memory when serializing: ../scratch.ts).
 * Its memory grows to about twice the largest body spliced plus its cuts, so bodies above
 * {@link MAX_SPLICED} bytes are left to the JavaScript splice.
 */
import { SPLICE_WASM } from "./bytes.js";
import { scratch } from "../scratch.js";

/** Larger bodies are not spliced here (the module's memory never shrinks). */
export const MAX_SPLICED = 1024 * 1024;

/** What is used of the WebAssembly API (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

interface Instance {
  readonly memory: WasmMemory;
  readonly splice: (input: number, len: number, cuts: number, ncuts: number, marker: number, mlen: number, out: number) => number;
  readonly mayMatch: (input: number, len: number, detectors: number) => number;
  readonly validate: (input: number, len: number) => number;
  readonly base: number;
  bytes: Uint8Array;
}

let instance: Instance | null | undefined;

function load(): Instance | null {
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (wasm === undefined) return null;
    const { exports } = new wasm.Instance(new wasm.Module(Buffer.from(SPLICE_WASM, "base64")), {});
    const memory = exports.memory as WasmMemory;
    const heapBase = (exports.__heap_base as { readonly value: number }).value;
    return {
      memory,
      splice: exports.splice as Instance["splice"],
      mayMatch: exports.mayMatch as Instance["mayMatch"],
      validate: exports.validate as Instance["validate"],
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
  if (end > w.memory.buffer.byteLength) {
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
    const mem = reserve(w, w.base + n + 16);
    mem.set(b, w.base);
    mem.fill(0, w.base + n, w.base + n + 16);
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
    const mem = reserve(w, w.base + n + 16);
    mem.set(b, w.base);
    mem.fill(0, w.base + n, w.base + n + 16);
    const r = w.validate(w.base, n);
    return r === 2 ? undefined : r === 1;
  } catch {
    return undefined;
  }
}

/**
 * The splice of the JSON redaction in WebAssembly (splice.c beside this file): the body with each
 * selected value replaced by the marker, one memory.copy per span instead of one runtime call per
 * span from JavaScript (measured in docs/benchmarks.md, "Body pipeline"). Loaded synchronously, once,
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
    return { memory, splice: exports.splice as Instance["splice"], base: (heapBase + 15) & ~15, bytes: new Uint8Array(memory.buffer) };
  } catch {
    return null;
  }
}

/**
 * `b` with each span of `cuts` (start, end pairs, in order, not overlapping, within `b`) replaced
 * by `marker`, as a new Buffer of `size` bytes; undefined when not done here (too large, no
 * WebAssembly): the caller splices itself.
 */
export function spliceWasm(b: Uint8Array, cuts: readonly number[], marker: Uint8Array, size: number): Buffer | undefined {
  const n = b.length;
  if (n > MAX_SPLICED || size > 2 * MAX_SPLICED) return undefined;
  if (instance === undefined) instance = load();
  const w = instance;
  if (w === null) return undefined;
  const markerAt = w.base;
  const cutsAt = (markerAt + marker.length + 15) & ~15;
  const inAt = cutsAt + 4 * cuts.length;
  const outAt = (inAt + n + 15) & ~15;
  const end = outAt + size;
  try {
    if (end > w.memory.buffer.byteLength) {
      w.memory.grow(Math.ceil((end - w.memory.buffer.byteLength) / 65536));
      w.bytes = new Uint8Array(w.memory.buffer);
    }
    const mem = w.bytes;
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

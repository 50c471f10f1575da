/**
 * Standard base64 written straight into a buffer: the wire message's bodies when serializeExchange
 * is given the memory to write into (./body.ts says why only then), and, for a transport that wants
 * it, a message inside a publish body. `Buffer#toString("base64")`
 * gives a V8 string that is then copied into the buffer: for a 64 KiB body an 87 KB string of
 * young-generation garbage per message, which at a few hundred such messages a second grows the
 * young generation until V8 marks the old generation every few hundred milliseconds (measured on
 * GET /stream: bench/README.md). Here the text is made in WebAssembly (wasm/base64.c, SIMD128) and
 * copied from the module's memory into the buffer: no string, nothing on the JavaScript heap.
 *
 * Loaded synchronously, once, on first use. Without WebAssembly (`node --jitless`) or when it fails
 * to load, and for short inputs (where the call costs more than the string), the same bytes come
 * from `Buffer#toString("base64")`.
 */
import { BASE64_WASM } from "./wasm/bytes.js";
import { instantiateEmbedded, type WasmMemory } from "../jsonpath/wasm/instantiate.js";

/** The length of the base64 text of `n` bytes (padded). */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** Inputs shorter than this go through Buffer#toString (measured: the string is cheaper there). */
const SHORT = 512;
/** Input bytes encoded per call (a multiple of 3, so the pieces' texts join without padding). */
const PIECE = 3 * 16 * 1024;

interface Encoder {
  readonly encode: (input: number, len: number, out: number, constants: number) => number;
  /** Where the module's vector constants are (passed back to each call: see base64.c). */
  readonly constants: number;
  /** The module's memory: input at `inAt`, its text at `outAt`. */
  readonly bytes: Uint8Array;
  readonly inAt: number;
  readonly outAt: number;
}

let encoder: Encoder | null | undefined;

function load(): Encoder | null {
  try {
    const exports = instantiateEmbedded(BASE64_WASM);
    if (exports === null) return null;
    const memory = exports.memory as WasmMemory;
    const inAt = ((exports.__heap_base as { readonly value: number }).value + 15) & ~15;
    const outAt = inAt + PIECE;
    const end = outAt + base64Length(PIECE);
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    const encoder: Encoder = { encode: exports.encode as Encoder["encode"], constants: (exports.constants as () => number)(), bytes: new Uint8Array(memory.buffer), inAt, outAt };
    // Checked once against Buffer's own encoder before it is trusted with a message.
    const probe = Buffer.from("any carnal pleasure, and more: 0123456789 abcdefghijklmnop\u00ff\u0000\u0080");
    const mine = Buffer.allocUnsafe(base64Length(probe.length));
    return viaWasm(encoder, probe, mine, 0) === mine.length && mine.toString("latin1") === probe.toString("base64") ? encoder : null;
  } catch {
    return null;
  }
}

function viaWasm(w: Encoder, src: Uint8Array, out: Uint8Array, at: number): number {
  const n = src.length;
  const { bytes, inAt, outAt } = w;
  let written = 0;
  for (let from = 0; from < n; from += PIECE) {
    const len = Math.min(PIECE, n - from);
    bytes.set(len === n ? src : src.subarray(from, from + len), inAt);
    const chars = w.encode(inAt, len, outAt, w.constants);
    out.set(bytes.subarray(outAt, outAt + chars), at + written);
    written += chars;
  }
  return written;
}

/**
 * Write the standard base64 (padded) of `src` into `out` from `at`; returns the number of bytes
 * written, always {@link base64Length}(src.length). `out` must have that room from `at`.
 */
export function writeBase64(src: Uint8Array, out: Buffer, at: number): number {
  if (src.length >= SHORT) {
    if (encoder === undefined) encoder = load();
    if (encoder !== null) return viaWasm(encoder, src, out, at);
  }
  const buf = Buffer.isBuffer(src) ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  return out.write(buf.toString("base64"), at, "latin1");
}

/** Whether the WebAssembly encoder is in use (false without WebAssembly): for tests and benchmarks. */
export function base64Wasm(): boolean {
  if (encoder === undefined) encoder = load();
  return encoder !== null;
}

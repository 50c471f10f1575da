/**
 * One embedded WebAssembly module instantiated synchronously: what the JSONPath module
 * (./module.ts) and the base64 encoder (src/wire/base64.ts) both do once, on first use.
 */

/** What is used of the WebAssembly API (the project's TypeScript libs do not declare it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

/** A module's linear memory, as its callers use it. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/**
 * The exports of the module whose bytes are `base64` (no imports), or null without WebAssembly
 * (`node --jitless`). Throws when the bytes do not compile: the caller falls back to JavaScript.
 */
export function instantiateEmbedded(base64: string): Record<string, unknown> | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return null;
  return new wasm.Instance(new wasm.Module(Buffer.from(base64, "base64")), {}).exports;
}

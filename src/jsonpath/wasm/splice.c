/*
 * The copying of the JSON redaction (src/jsonpath/stream.ts), in WebAssembly: a redacted body is
 * its bytes with each selected value replaced by the marker, one copy per span; from JavaScript
 * each copy is a call into the runtime (Buffer#copy, TypedArray#set: tens of ns each, whatever
 * the length), here it is a memory.copy. A body with a secret in every element of an array has
 * one cut every ~80 bytes, so the calls were most of the cost of the copy.
 *
 * Built by scripts/build-wasm.sh (clang --target=wasm32 -msimd128 -mbulk-memory -nostdlib -O3);
 * splice.wasm is committed beside this file, and bytes.ts holds it as base64 for the loader.
 */

typedef unsigned char u8;
typedef unsigned int u32;

/*
 * Splice: out = in[0, len) with each [cuts[2k], cuts[2k+1]) replaced by marker[0, mlen) (cuts in
 * order, not overlapping). Returns the output's length.
 */
__attribute__((export_name("splice")))
u32 json_splice(const u8 *restrict in, u32 len, const u32 *restrict cuts, u32 ncuts, const u8 *restrict marker, u32 mlen, u8 *restrict out) {
  u32 at = 0;
  u32 from = 0;
  for (u32 k = 0; k < ncuts; k += 2) {
    u32 start = cuts[k];
    __builtin_memcpy(out + at, in + from, start - from);
    at += start - from;
    __builtin_memcpy(out + at, marker, mlen);
    at += mlen;
    from = cuts[k + 1];
  }
  __builtin_memcpy(out + at, in + from, len - from);
  return at + len - from;
}

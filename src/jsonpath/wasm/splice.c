/*
 * Two steps of the body pipeline in WebAssembly: the splice of the JSON redaction
 * (src/jsonpath/stream.ts) and the prefilter of the value detectors (src/redact/body.ts).
 *
 * Splice: a redacted body is
 * its bytes with each selected value replaced by the marker, one copy per span; from JavaScript
 * each copy is a call into the runtime (Buffer#copy, TypedArray#set: tens of ns each, whatever
 * the length), here it is a memory.copy. A body with a secret in every element of an array has
 * one cut every ~80 bytes, so the calls were most of the cost of the copy.
 *
 * Built by scripts/build-wasm.sh (clang --target=wasm32 -msimd128 -mbulk-memory -nostdlib -O3);
 * splice.wasm is committed beside this file, and bytes.ts holds it as base64 for the loader.
 */

#include <wasm_simd128.h>

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

/*
 * The value detectors' prefilter (src/redact/values.ts): could any of the enabled default
 * detectors match in in[0, n), or does the text hold what only its decoded form can show (a JSON
 * escape `\`, percent-encoding `%`)? 0 only when none can: every match of those detectors holds
 * its literal (`eyJ`; `AKIA`, `ASIA`, `ABIA`, `A3T`; `PRIVATE KEY`; `bearer` in any case and a
 * space or tab), all ASCII, and UTF-8 decoding keeps every ASCII byte as it is. `detectors`:
 * 1 jwt, 2 bearerToken, 4 awsAccessKey, 8 privateKey. `in` is followed by 16 zero bytes.
 * Blocks of 16 bytes with none of the bytes a literal starts with are passed at SIMD speed.
 */
static inline u32 lower(u8 c) { return c | 0x20u; }

__attribute__((export_name("mayMatch")))
u32 may_match(const u8 *restrict in, u32 n, u32 detectors) {
  const v128_t bs = wasm_i8x16_splat('\\');
  const v128_t pct = wasm_i8x16_splat('%');
  const v128_t J = wasm_i8x16_splat((detectors & 1) ? 'J' : '\\');
  const v128_t b = wasm_i8x16_splat((detectors & 2) ? 'b' : '\\');
  const v128_t A = wasm_i8x16_splat((detectors & 4) ? 'A' : '\\');
  const v128_t P = wasm_i8x16_splat((detectors & 8) ? 'P' : '\\');
  const v128_t x20 = wasm_i8x16_splat(0x20);
  for (u32 i = 0; i < n; i += 16) {
    v128_t v = wasm_v128_load(in + i);
    v128_t hit = wasm_v128_or(
      wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, bs), wasm_i8x16_eq(v, pct)), wasm_v128_or(wasm_i8x16_eq(v, J), wasm_i8x16_eq(wasm_v128_or(v, x20), b))),
      wasm_v128_or(wasm_i8x16_eq(v, A), wasm_i8x16_eq(v, P)));
    u32 mask = (u32)wasm_i8x16_bitmask(hit);
    while (mask != 0) {
      u32 p = i + (u32)__builtin_ctz(mask);
      mask &= mask - 1;
      if (p >= n) break;
      const u8 *s = in + p;
      u8 c = s[0];
      if (c == '\\' || c == '%') return 1;
      if ((detectors & 1) && c == 'J' && p >= 2 && s[-2] == 'e' && s[-1] == 'y') return 1;
      if ((detectors & 2) && lower(c) == 'b' && lower(s[1]) == 'e' && lower(s[2]) == 'a' && lower(s[3]) == 'r' && lower(s[4]) == 'e' &&
          lower(s[5]) == 'r' && (s[6] == ' ' || s[6] == '\t')) return 1;
      if ((detectors & 4) && c == 'A' && (((s[1] == 'K' || s[1] == 'S' || s[1] == 'B') && s[2] == 'I' && s[3] == 'A') || (s[1] == '3' && s[2] == 'T'))) return 1;
      if ((detectors & 8) && c == 'P' && s[1] == 'R' && s[2] == 'I' && s[3] == 'V' && s[4] == 'A' && s[5] == 'T' && s[6] == 'E' && s[7] == ' ' &&
          s[8] == 'K' && s[9] == 'E' && s[10] == 'Y') return 1;
    }
  }
  return 0;
}

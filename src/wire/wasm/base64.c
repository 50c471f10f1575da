/*
 * Standard base64 (RFC 4648, with `=` padding) of in[0, n) into out, in WebAssembly SIMD128: the
 * wire message's bodies (and, in a Pub/Sub publish body, the messages) are base64 inside JSON, and
 * Buffer#toString("base64") makes each of them a V8 string first (87 KB for a 64 KiB body) that is
 * then copied into the message: young-generation garbage that, at a few hundred large bodies a
 * second, grows the young generation until V8 starts old-generation marking every few hundred
 * milliseconds. Here the text goes from the module's memory into the message's buffer with one
 * copy and nothing is allocated on the JavaScript heap (src/wire/base64.ts).
 *
 * Each 12 input bytes become 16 characters: a swizzle puts the bytes of each 3-byte group in one
 * 32-bit lane as (b1, b0, b2, b1), shifts and masks put its four 6-bit values in the lane's four
 * bytes, and a 16-entry table of offsets (indexed by a saturating subtraction and one comparison)
 * turns each value into its character. The last bytes (fewer than 16 left) are done one group of
 * three at a time.
 *
 * Built by scripts/build-base64-wasm.sh (clang --target=wasm32 -msimd128 -nostdlib -O3);
 * base64.wasm is committed beside this file, and bytes.ts holds it as base64 for the loader.
 */

#include <wasm_simd128.h>

typedef unsigned char u8;
typedef unsigned int u32;

static const u8 ALPHABET[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * The vector constants, read through a pointer the caller passes back (`constants()`): as
 * immediates V8 would build each of them again on every turn of the loop (a movq and a vpinsrq or
 * a vpunpcklqdq each, about as many instructions as the encoding itself); loaded once, they stay
 * in registers.
 */
enum { SPREAD, MASK_A, MASK_BD, MUL_BD, MASK_C, C26, C51, C13, OFFSETS, NCONST };
static const v128_t K[NCONST] = {
  [SPREAD] = (v128_t)(__u8x16){1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10},
  [MASK_A] = (v128_t)(__u32x4){0x0000003f, 0x0000003f, 0x0000003f, 0x0000003f},
  [MASK_BD] = (v128_t)(__u32x4){0x003f03f0, 0x003f03f0, 0x003f03f0, 0x003f03f0},
  [MUL_BD] = (v128_t)(__u32x4){0x01000010, 0x01000010, 0x01000010, 0x01000010},
  [MASK_C] = (v128_t)(__u32x4){0x003f0000, 0x003f0000, 0x003f0000, 0x003f0000},
  [C26] = (v128_t)(__u8x16){26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26},
  [C51] = (v128_t)(__u8x16){51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51},
  [C13] = (v128_t)(__u8x16){13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13},
  /* 0..25 -> 'A'.., 26..51 -> 'a'.., 52..61 -> '0'.., 62 -> '+', 63 -> '/': the offset to add,
   * chosen by max(idx - 51, 0) (0 for 0..51, 1..12 for 52..63), with 13 for idx < 26. */
  [OFFSETS] = (v128_t)(__u8x16){'a' - 26, (u8)('0' - 52), (u8)('0' - 52), (u8)('0' - 52), (u8)('0' - 52), (u8)('0' - 52), (u8)('0' - 52),
    (u8)('0' - 52), (u8)('0' - 52), (u8)('0' - 52), (u8)('0' - 52), (u8)('+' - 62), (u8)('/' - 63), 'A', 0, 0},
};

__attribute__((export_name("constants")))
const v128_t *constants(void) { return K; }

struct consts { v128_t spread, a, bd, mbd, c, c26, c51, c13, offsets; };

/* 16 input bytes (the first 12 used) as 16 characters. */
static inline v128_t encode12(v128_t v, const struct consts *k) {
  const v128_t in = wasm_i8x16_swizzle(v, k->spread);
  /* Per lane x = b1 | b0 << 8 | b2 << 16 | b1 << 24: a = b0 >> 2 at bits 10..15, b = (b0 & 3) << 4
   * | b1 >> 4 at bits 4..9, c = (b1 & 15) << 2 | b2 >> 6 at bits 22..27, d = b2 & 63 at 16..21.
   * b and d move left by one 16-bit multiply (b by 16 in the low half, d by 256 in the high half). */
  const v128_t a = wasm_v128_and(wasm_u32x4_shr(in, 10), k->a);
  const v128_t bd = wasm_i16x8_mul(wasm_v128_and(in, k->bd), k->mbd);
  const v128_t c = wasm_v128_and(wasm_u32x4_shr(in, 6), k->c);
  const v128_t idx = wasm_v128_or(wasm_v128_or(a, bd), c);
  v128_t sel = wasm_u8x16_sub_sat(idx, k->c51);
  sel = wasm_v128_or(sel, wasm_v128_and(wasm_i8x16_lt(idx, k->c26), k->c13));
  return wasm_i8x16_add(wasm_i8x16_swizzle(k->offsets, sel), idx);
}

/* Returns the number of characters written: 4 * ceil(n / 3). `constants`: what constants() returns. */
__attribute__((export_name("encode")))
u32 base64_encode(const u8 *restrict in, u32 n, u8 *restrict out, const v128_t *restrict constants) {
  const struct consts k = {constants[SPREAD], constants[MASK_A], constants[MASK_BD], constants[MUL_BD], constants[MASK_C],
    constants[C26], constants[C51], constants[C13], constants[OFFSETS]};
  u32 i = 0;
  u8 *o = out;
  /* Two blocks per turn while 28 bytes remain (the second block's load reads 16 from i + 12). */
  for (; i + 28 <= n; i += 24, o += 32) {
    const v128_t x = encode12(wasm_v128_load(in + i), &k);
    const v128_t y = encode12(wasm_v128_load(in + i + 12), &k);
    wasm_v128_store(o, x);
    wasm_v128_store(o + 16, y);
  }
  for (; i + 16 <= n; i += 12, o += 16) wasm_v128_store(o, encode12(wasm_v128_load(in + i), &k));
  for (; i + 3 <= n; i += 3, o += 4) {
    const u32 g = (u32)in[i] << 16 | (u32)in[i + 1] << 8 | in[i + 2];
    o[0] = ALPHABET[g >> 18];
    o[1] = ALPHABET[(g >> 12) & 63];
    o[2] = ALPHABET[(g >> 6) & 63];
    o[3] = ALPHABET[g & 63];
  }
  if (i < n) {
    const u32 g = (u32)in[i] << 16 | (i + 1 < n ? (u32)in[i + 1] << 8 : 0);
    o[0] = ALPHABET[g >> 18];
    o[1] = ALPHABET[(g >> 12) & 63];
    o[2] = i + 1 < n ? ALPHABET[(g >> 6) & 63] : '=';
    o[3] = '=';
    o += 4;
  }
  return (u32)(o - out);
}

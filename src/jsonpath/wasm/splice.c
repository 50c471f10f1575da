/*
 * The body pipeline's byte work in WebAssembly: the JSON redaction over the bytes for the common
 * path shapes (`redact`: validation, the automaton's member-name tests, the cuts; the JavaScript
 * pass in src/jsonpath/stream.ts does the rest and is the reference), validation alone
 * (`validate`, for bodies no path can match), the splice of the markers, and the prefilter of
 * the value detectors (src/redact/body.ts).
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

/*
 * The vector constants of the prefilter and the scan, read from memory once per call (and, for the
 * scan, passed down as `struct scan_k`): as immediates V8 builds each of them again at every use
 * inside a loop (bench/notes.md). The table is writable and its address exported
 * (`scanConstants`, never called) so that clang cannot fold the loads back into immediates.
 * `ctl` (0x20 in every byte) is both the bound of control characters and the ASCII case bit.
 */
struct scan_k { v128_t quote, bs, ctl, pct; };
static struct scan_k SCAN_K = {
  (v128_t)(__u8x16){'"', '"', '"', '"', '"', '"', '"', '"', '"', '"', '"', '"', '"', '"', '"', '"'},
  (v128_t)(__u8x16){'\\', '\\', '\\', '\\', '\\', '\\', '\\', '\\', '\\', '\\', '\\', '\\', '\\', '\\', '\\', '\\'},
  (v128_t)(__u8x16){0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20},
  (v128_t)(__u8x16){'%', '%', '%', '%', '%', '%', '%', '%', '%', '%', '%', '%', '%', '%', '%', '%'},
};
__attribute__((export_name("scanConstants")))
struct scan_k *scan_constants(void) { return &SCAN_K; }

__attribute__((export_name("mayMatch")))
u32 may_match(const u8 *restrict in, u32 n, u32 detectors) {
  const v128_t bs = SCAN_K.bs;
  const v128_t pct = SCAN_K.pct;
  const v128_t J = wasm_i8x16_splat((detectors & 1) ? 'J' : '\\');
  const v128_t b = wasm_i8x16_splat((detectors & 2) ? 'b' : '\\');
  const v128_t A = wasm_i8x16_splat((detectors & 4) ? 'A' : '\\');
  const v128_t P = wasm_i8x16_splat((detectors & 8) ? 'P' : '\\');
  const v128_t x20 = SCAN_K.ctl;
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

/*
 * JSON validation (RFC 8259, as src/jsonpath/stream.ts's isJsonBytes reads it: bytes of 0x80 and
 * above accepted inside strings only): 1 when in[0, n) is one JSON text, 0 when it is not, 2 when
 * it nests deeper than MAX_NEST (the caller checks it in JavaScript). `in` is followed by 16 zero
 * bytes: a read past the end meets a 0, which no rule accepts, so a text cut short is invalid.
 * Strings are skipped 16 bytes at a time up to the first quote, backslash or control character.
 * (A simdjson-style scan, every byte classified in 64-byte blocks into masks of quotes, escapes and
 * structural characters and the grammar then followed over the structural positions only, measured
 * slower than this one in V8 on every body shape tried: bench/notes.md, "The structural scan".)
 */
#define MAX_NEST 4096
static u8 nest[MAX_NEST];

static inline int is_ws(u8 c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
static inline int is_digit(u8 c) { return (u8)(c - '0') < 10; }
static inline int is_hex(u8 c) { return is_digit(c) || (u8)((c | 0x20) - 'a') < 6; }

/* The string whose opening quote is at i: the index after its closing quote, or 0 (invalid). */
static inline __attribute__((always_inline)) u32 skip_string(const u8 *in, u32 i, const struct scan_k *k) {
  const v128_t quote = k->quote;
  const v128_t bs = k->bs;
  const v128_t ctl = k->ctl;
  i++;
  for (;;) {
    v128_t v = wasm_v128_load(in + i);
    u32 mask = (u32)wasm_i8x16_bitmask(wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, quote), wasm_i8x16_eq(v, bs)), wasm_u8x16_lt(v, ctl)));
    if (mask == 0) {
      i += 16;
      continue;
    }
    i += (u32)__builtin_ctz(mask);
    u8 c = in[i];
    if (c == '"') return i + 1;
    if (c != '\\') return 0; /* a control character, or the end */
    c = in[i + 1];
    if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
      i += 2;
    } else if (c == 'u' && is_hex(in[i + 2]) && is_hex(in[i + 3]) && is_hex(in[i + 4]) && is_hex(in[i + 5])) {
      i += 6;
    } else {
      return 0;
    }
  }
}

/* The number starting at i: the index after it, or 0 (there is none). */
static inline u32 skip_number(const u8 *in, u32 i) {
  if (in[i] == '-') i++;
  if (in[i] == '0') i++;
  else if (in[i] >= '1' && in[i] <= '9') {
    do i++;
    while (is_digit(in[i]));
  } else return 0;
  if (in[i] == '.') {
    i++;
    if (!is_digit(in[i])) return 0;
    do i++;
    while (is_digit(in[i]));
  }
  if (in[i] == 'e' || in[i] == 'E') {
    i++;
    if (in[i] == '+' || in[i] == '-') i++;
    if (!is_digit(in[i])) return 0;
    do i++;
    while (is_digit(in[i]));
  }
  return i;
}

static inline u32 skip_ws(const u8 *in, u32 i) {
  while (is_ws(in[i])) i++;
  return i;
}

/* A member's name at i and the colon after it: where its value starts, or 0. */
static inline u32 skip_member_name(const u8 *in, u32 i, const struct scan_k *k) {
  if (in[i] != '"') return 0;
  i = skip_string(in, i, k);
  if (i == 0) return 0;
  i = skip_ws(in, i);
  if (in[i] != ':') return 0;
  return skip_ws(in, i + 1);
}

/* Set by skip_value when a value nests deeper than MAX_NEST (its 0 then means "not checked here"). */
static u32 too_deep;

/* The value starting at i (nested containers included): the index after it, or 0 (invalid, or
   too_deep set). */
static u32 skip_value(const u8 *in, u32 i) {
  const struct scan_k k = SCAN_K;
  u32 depth = 0;
  for (;;) {
    /* A value starts at i. */
    u8 c = in[i];
    if (c == '"') {
      i = skip_string(in, i, &k);
    } else if (c == '{' || c == '[') {
      i = skip_ws(in, i + 1);
      if (in[i] == (c == '{' ? '}' : ']')) {
        i++;
      } else {
        if (depth == MAX_NEST) {
          too_deep = 1;
          return 0;
        }
        nest[depth++] = c;
        if (c == '{') i = skip_member_name(in, i, &k);
        if (i == 0) return 0;
        continue;
      }
    } else if (c == 't') {
      i = in[i + 1] == 'r' && in[i + 2] == 'u' && in[i + 3] == 'e' ? i + 4 : 0;
    } else if (c == 'f') {
      i = in[i + 1] == 'a' && in[i + 2] == 'l' && in[i + 3] == 's' && in[i + 4] == 'e' ? i + 5 : 0;
    } else if (c == 'n') {
      i = in[i + 1] == 'u' && in[i + 2] == 'l' && in[i + 3] == 'l' ? i + 4 : 0;
    } else {
      i = skip_number(in, i);
    }
    if (i == 0) return 0;
    /* After a value: separators and closing brackets. */
    for (;;) {
      if (depth == 0) return i;
      i = skip_ws(in, i);
      u8 d = in[i];
      u8 open = nest[depth - 1];
      if (d == ',') {
        i = skip_ws(in, i + 1);
        if (open == '{') {
          i = skip_member_name(in, i, &k);
          if (i == 0) return 0;
        }
        break;
      }
      if (d != (open == '{' ? '}' : ']')) return 0;
      i++;
      depth--;
    }
  }
}

__attribute__((export_name("validate")))
u32 validate(const u8 *restrict in, u32 n) {
  too_deep = 0;
  u32 i = skip_value(in, skip_ws(in, 0));
  if (i == 0) return too_deep ? 2 : 0;
  if (i > n) return 0;
  return skip_ws(in, i) == n ? 1 : 0;
}

/*
 * Redaction over the bytes (src/jsonpath/stream.ts's redactJsonBytes, for the automata whose
 * array plans give every element the same states and whose object plans have no filters: what
 * encodeTable in stream.ts accepts). The automaton is a table of u32 words: for each state set,
 * at words[offsets[set]]: flags (1 live, 2 matched), the set every member of an object gets, the
 * set every element of an array gets, the number k of named members, then k triples (offset of
 * the name's UTF-8 bytes in `names`, their length, the set that member gets). Set 0 is the root's.
 * A set is named in the words by where its words start (offsets[set]: 0 for the root), so that
 * following one costs one load less per value on the scan's dependent chain; `offsets` is read
 * for the root only.
 * Writes each selected value's [start, end) to cuts (at most max_cuts words). Returns the number
 * of words written, -1 when the text is not valid JSON, -2 when it cannot tell here (a member
 * name with an escape or a non-ASCII byte where names are compared, nesting deeper than
 * MAX_FRAMES or MAX_NEST, more cuts than max_cuts): the caller runs the JavaScript pass.
 */
#define MAX_FRAMES 1024
#define FALLBACK 0xFFFFFFFFu
static u32 frame_set[MAX_FRAMES];
static u8 frame_object[MAX_FRAMES];

/* The member's name at i and the colon after it: where its value starts (0: invalid, FALLBACK),
   and in *out the set that member gets from `set`'s object plan. */
static inline __attribute__((always_inline)) u32 member_name(const u8 *in, u32 i, const u32 *w, const u8 *names, u32 at, u32 *out, const struct scan_k *kk) {
  if (in[i] != '"') return 0;
  u32 start = i + 1;
  u32 k = w[at + 3];
  u32 set = w[at + 1];
  u32 e;
  /* Most names are shorter than 16 bytes, plain ASCII: their closing quote is the first byte of
     the block that is a quote, a backslash, a control character or >= 0x80 (one signed compare:
     bytes >= 0x80 are negative, so below 0x20 too). */
  v128_t v = wasm_v128_load(in + start);
  u32 mask = (u32)wasm_i8x16_bitmask(wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, kk->quote), wasm_i8x16_eq(v, kk->bs)), wasm_i8x16_lt(v, kk->ctl)));
  int plain = mask != 0 && in[start + (u32)__builtin_ctz(mask)] == '"';
  if (plain) {
    e = start + (u32)__builtin_ctz(mask) + 1;
  } else {
    e = skip_string(in, i, kk);
    if (e == 0) return 0;
  }
  if (k != 0) {
    u32 len = e - 1 - start;
    if (!plain) {
      for (u32 j = start; j < e - 1; j++) {
        if (in[j] == '\\' || in[j] >= 0x80) return FALLBACK;
      }
    }
    if (plain) {
      /* Shorter than 16 bytes: one block compare against the block already loaded (a name's 16
         bytes are readable: the input follows the names in memory, module.ts). */
      const u32 full = (1u << len) - 1;
      for (u32 m = 0; m < k; m++) {
        const u32 *t = w + at + 4 + 3 * m;
        if (t[1] != len) continue;
        if (((u32)wasm_i8x16_bitmask(wasm_i8x16_eq(v, wasm_v128_load(names + t[0]))) & full) == full) {
          set = t[2];
          break;
        }
      }
    } else {
      for (u32 m = 0; m < k; m++) {
        const u32 *t = w + at + 4 + 3 * m;
        if (t[1] != len) continue;
        const u8 *name = names + t[0];
        u32 j = 0;
        while (j < len && name[j] == in[start + j]) j++;
        if (j == len) {
          set = t[2];
          break;
        }
      }
    }
  }
  *out = set;
  e = skip_ws(in, e);
  if (in[e] != ':') return 0;
  return skip_ws(in, e + 1);
}

/* The bytes the last successful `redact` cut out (the sum of its spans' lengths). */
static u32 cut_total;
__attribute__((export_name("cutBytes")))
u32 cut_bytes(void) { return cut_total; }

__attribute__((export_name("redact")))
int redact(const u8 *restrict in, u32 n, const u32 *restrict w, const u32 *restrict offsets, const u8 *restrict names, u32 *restrict cuts, u32 max_cuts) {
  const struct scan_k kq = SCAN_K;
  u32 sp = 0;
  u32 ncut = 0;
  u32 set = offsets[0];
  too_deep = 0;
  u32 i = skip_ws(in, 0);
  for (;;) {
    /* A value starts at i; `set` is the set active on it. */
    u8 c = in[i];
    u32 at = set;
    u32 flags = w[at];
    if (flags == 0) {
      /* (numbers and strings, most values, without skip_value's call and nesting machinery) */
      i = c == '"' ? skip_string(in, i, &kq) : (is_digit(c) || c == '-') ? skip_number(in, i) : skip_value(in, i);
      if (i == 0) return too_deep ? -2 : -1;
    } else if (flags & 2) {
      u32 end = c == '"' ? skip_string(in, i, &kq) : skip_value(in, i);
      if (end == 0) return too_deep ? -2 : -1;
      if (ncut + 2 > max_cuts) return -2;
      cuts[ncut++] = i;
      cuts[ncut++] = end;
      i = end;
    } else if (c == '{') {
      i = skip_ws(in, i + 1);
      if (in[i] == '}') {
        i++;
      } else {
        if (sp == MAX_FRAMES) return -2;
        frame_set[sp] = set;
        frame_object[sp++] = 1;
        i = member_name(in, i, w, names, at, &set, &kq);
        if (i == FALLBACK) return -2;
        if (i == 0) return -1;
        continue;
      }
    } else if (c == '[') {
      i = skip_ws(in, i + 1);
      if (in[i] == ']') {
        i++;
      } else {
        if (sp == MAX_FRAMES) return -2;
        frame_set[sp] = set;
        frame_object[sp++] = 0;
        set = w[at + 2];
        continue;
      }
    } else {
      i = skip_value(in, i);
      if (i == 0) return too_deep ? -2 : -1;
    }
    if (i > n) return -1;
    /* After a value: separators and closing brackets up to the next value (or the end). */
    for (;;) {
      i = skip_ws(in, i);
      if (sp == 0) {
        if (i != n) return -1;
        u32 total = 0;
        for (u32 k = 0; k < ncut; k += 2) total += cuts[k + 1] - cuts[k];
        cut_total = total;
        return (int)ncut;
      }
      u8 d = in[i];
      u32 parent = frame_set[sp - 1];
      if (d == ',') {
        i = skip_ws(in, i + 1);
        u32 pat = parent;
        if (frame_object[sp - 1]) {
          i = member_name(in, i, w, names, pat, &set, &kq);
          if (i == FALLBACK) return -2;
          if (i == 0) return -1;
        } else {
          set = w[pat + 2];
        }
        break;
      }
      if (d != (frame_object[sp - 1] ? '}' : ']')) return -1;
      i++;
      sp--;
    }
  }
}

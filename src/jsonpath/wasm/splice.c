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

/*
 * JSON validation and redaction over structural positions (simdjson's two stages, in SIMD128).
 *
 * Stage 1 reads the text 64 bytes at a time (four 16-byte blocks) and turns each block into 64-bit
 * masks: backslashes, quotes, JSON white space, the six structural characters, control characters
 * and bytes >= 0x80. From them, without a branch per byte:
 *   - escaped: the bytes after an odd run of backslashes (the run's carry into the next block kept);
 *   - in_string: the prefix xor of the unescaped quotes (shift-xor doubling: wasm has no carry-less
 *     multiply), from an opening quote up to its closing one, carried across blocks;
 *   - structural positions: `{}[],:` outside strings and the first byte of every other token
 *     (strings' opening quotes, numbers, literals), written to a small array of offsets.
 * It also checks what needs no grammar: no control character inside a string, every escape one of
 * \" \\ \/ \b \f \n \r \t \uXXXX (escapes are rare: each is checked alone), no string left open.
 *
 * Stage 2 follows the grammar over those positions only (one step per token, not per byte): values,
 * separators, nesting; numbers and literals are read where they start and must end at white space
 * or at the next structural position. A byte outside strings that is neither white space nor
 * structural is part of some token that the grammar then rejects, so the two stages together accept
 * exactly RFC 8259 (bytes >= 0x80 accepted inside strings only, as src/jsonpath/stream.ts's
 * isJsonBytes and JSON.parse of the UTF-8 decoded text do: invalid UTF-8 decodes to U+FFFD there).
 *
 * Stage 1 runs in windows of WINDOW bytes, refilled when stage 2 has used up the positions of the
 * last one, so the memory for positions stays fixed whatever the body's size. `in` is followed by
 * 64 zero bytes (PAD): the last block is read whole, a read past the end meets 0s.
 */
typedef unsigned long long u64;

#define WINDOW 16384
static u32 idx[WINDOW + 128];
static const u8 *s1_in;
static u32 s1_n, s1_at;     /* the text, its length, the next block to read */
static u64 s1_escaped, s1_string, s1_scalar; /* carries from block to block */
static u64 s1_error, s1_plain;

static inline u64 bits(v128_t a, v128_t b, v128_t c, v128_t d) {
  return (u64)(u32)wasm_i8x16_bitmask(a) | ((u64)(u32)wasm_i8x16_bitmask(b) << 16) | ((u64)(u32)wasm_i8x16_bitmask(c) << 32) |
         ((u64)(u32)wasm_i8x16_bitmask(d) << 48);
}

static inline int is_hex(u8 c) { return (u8)(c - '0') < 10 || (u8)((c | 0x20) - 'a') < 6; }

/* Checked escapes: the escaped bytes (in strings) of one block at `base`. */
static void check_escapes(const u8 *in, u32 base, u64 m) {
  while (m != 0) {
    const u8 *s = in + base + (u32)__builtin_ctzll(m);
    m &= m - 1;
    u8 c = *s;
    if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') continue;
    if (c == 'u' && is_hex(s[1]) && is_hex(s[2]) && is_hex(s[3]) && is_hex(s[4])) continue;
    s1_error = 1;
  }
}

/*
 * Byte classes by two nibble lookups (i8x16.swizzle): the class bits of a byte are
 * LO[low nibble] & HI[high nibble], exact for every byte:
 *   0x01 \t \n \r   0x02 space   0x04 ,   0x08 :   0x10 [ ] { }
 *   0x20 %   0x40 A B J   0x80 P \
 * White space 0x03, structural 0x1c, the value detectors' first bytes 0xe0 (and `b`, compared alone).
 */
static inline v128_t classes(v128_t v) {
  const v128_t lo = wasm_u8x16_make(0x02 | 0x80, 0x40, 0x40, 0, 0, 0x20, 0, 0, 0, 0x01, 0x01 | 0x08 | 0x40, 0x10, 0x04 | 0x80, 0x01 | 0x10, 0, 0);
  const v128_t hi = wasm_u8x16_make(0x01, 0, 0x02 | 0x04 | 0x20, 0x08, 0x40, 0x10 | 0x80, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0);
  v128_t l = wasm_i8x16_swizzle(lo, wasm_v128_and(v, wasm_i8x16_splat(0x0f)));
  v128_t h = wasm_i8x16_swizzle(hi, wasm_u8x16_shr(v, 4));
  return wasm_v128_and(l, h);
}
/* Lanes of c with none of the class bits m (compared with 0: the masks are inverted as 64-bit words). */
static inline v128_t none(v128_t c, int m) { return wasm_i8x16_eq(wasm_v128_and(c, wasm_i8x16_splat((char)m)), wasm_i8x16_splat(0)); }

/*
 * The value detectors' literals (what `mayMatch` above looks for), found while scanning: each
 * verified occurrence's position and bit (1 jwt, 2 bearerToken, 4 awsAccessKey, 8 privateKey,
 * 16 a `\` or `%`), at most MAX_HITS of them (more: s1_hits_over, every bit counted as found).
 */
#define MAX_HITS 256
static u32 hit_at[MAX_HITS];
static u8 hit_bit[MAX_HITS];
static u32 nhits, hits_over;

static void check_literals(const u8 *in, u32 base, u64 m) {
  while (m != 0) {
    u32 p = base + (u32)__builtin_ctzll(m);
    m &= m - 1;
    const u8 *s = in + p;
    u8 c = s[0];
    u32 bit = 0;
    if (c == '\\' || c == '%') bit = 16;
    else if (c == 'J') bit = p >= 2 && s[-2] == 'e' && s[-1] == 'y' ? 1 : 0;
    else if (c == 'A') bit = ((s[1] == 'K' || s[1] == 'S' || s[1] == 'B') && s[2] == 'I' && s[3] == 'A') || (s[1] == '3' && s[2] == 'T') ? 4 : 0;
    else if (c == 'P') bit = s[1] == 'R' && s[2] == 'I' && s[3] == 'V' && s[4] == 'A' && s[5] == 'T' && s[6] == 'E' && s[7] == ' ' && s[8] == 'K' && s[9] == 'E' && s[10] == 'Y' ? 8 : 0;
    if (c == 'B' || c == 'b')
      bit = lower(s[1]) == 'e' && lower(s[2]) == 'a' && lower(s[3]) == 'r' && lower(s[4]) == 'e' && lower(s[5]) == 'r' && (s[6] == ' ' || s[6] == '\t') ? 2 : 0;
    if (bit == 0) continue;
    if (nhits == MAX_HITS) {
      hits_over = 1;
      return;
    }
    hit_at[nhits] = p;
    hit_bit[nhits++] = (u8)bit;
  }
}

/* The bits of the literals found outside the cuts (cuts[0, ncut): sorted, disjoint spans). */
static u32 found_bits;
static void found_outside(const u32 *cuts, u32 ncut) {
  if (hits_over) {
    found_bits = 31;
    return;
  }
  u32 f = 0, k = 0;
  for (u32 h = 0; h < nhits; h++) {
    u32 p = hit_at[h];
    while (k < ncut && cuts[k + 1] <= p) k += 2;
    if (k < ncut && cuts[k] <= p) continue; /* inside a replaced value */
    f |= hit_bit[h];
  }
  found_bits = f;
}

/* The bytes the last successful `redact` cut out (the sum of its spans' lengths). */
static u32 cut_total;
__attribute__((export_name("cutBytes")))
u32 cut_bytes(void) { return cut_total; }

/* What the last successful `validate` or `redact` found of the detectors' literals in its output. */
__attribute__((export_name("found")))
u32 found(void) { return found_bits; }

/* Stage 1 over the next window: fills idx and returns how many positions it wrote (after the last
   block, two positions n end them). */
static u32 refill(void) {
  const u8 *in = s1_in;
  const u32 n = s1_n;
  const v128_t bs = wasm_i8x16_splat('\\'), qt = wasm_i8x16_splat('"'), sp = wasm_i8x16_splat(0x20), lb = wasm_i8x16_splat('b');
  const u64 ODD = 0xAAAAAAAAAAAAAAAAull;
  u32 out = 0;
  u32 end = s1_at + WINDOW;
  if (end > n) end = n;
  u32 base = s1_at;
  for (; base < end; base += 64) {
    const u8 *p = in + base;
    v128_t v0 = wasm_v128_load(p), v1 = wasm_v128_load(p + 16), v2 = wasm_v128_load(p + 32), v3 = wasm_v128_load(p + 48);
    u64 valid = n - base >= 64 ? ~0ull : (1ull << (n - base)) - 1;
    u64 backslash = bits(wasm_i8x16_eq(v0, bs), wasm_i8x16_eq(v1, bs), wasm_i8x16_eq(v2, bs), wasm_i8x16_eq(v3, bs));
    u64 quote = bits(wasm_i8x16_eq(v0, qt), wasm_i8x16_eq(v1, qt), wasm_i8x16_eq(v2, qt), wasm_i8x16_eq(v3, qt));
    u64 escaped;
    if (backslash == 0) {
      escaped = s1_escaped;
      s1_escaped = 0;
    } else {
      u64 potential = backslash & ~s1_escaped;
      u64 maybe = (potential << 1) | ODD;
      u64 code = (maybe - potential) ^ ODD; /* escapes and the bytes they escape */
      escaped = code ^ (backslash | s1_escaped);
      s1_escaped = (code & backslash) >> 63;
    }
    quote &= ~escaped;
    u64 x = quote;
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    u64 in_string = x ^ s1_string;
    s1_string = (u64)((long long)in_string >> 63);
    u64 ctl = bits(wasm_u8x16_lt(v0, sp), wasm_u8x16_lt(v1, sp), wasm_u8x16_lt(v2, sp), wasm_u8x16_lt(v3, sp));
    s1_error |= ctl & in_string & valid;
    s1_plain |= (backslash & valid) | (u32)wasm_i8x16_bitmask(wasm_v128_or(wasm_v128_or(v0, v1), wasm_v128_or(v2, v3))); /* (0s past the end) */
    if (escaped & in_string & valid) check_escapes(in, base, escaped & in_string & valid);
    v128_t c0 = classes(v0), c1 = classes(v1), c2 = classes(v2), c3 = classes(v3);
    u64 op = ~bits(none(c0, 0x1c), none(c1, 0x1c), none(c2, 0x1c), none(c3, 0x1c));
    u64 scalar = bits(none(c0, 0x1f), none(c1, 0x1f), none(c2, 0x1f), none(c3, 0x1f));
    u64 lit = ~bits(wasm_v128_andnot(none(c0, 0xe0), wasm_i8x16_eq(v0, lb)), wasm_v128_andnot(none(c1, 0xe0), wasm_i8x16_eq(v1, lb)),
                    wasm_v128_andnot(none(c2, 0xe0), wasm_i8x16_eq(v2, lb)), wasm_v128_andnot(none(c3, 0xe0), wasm_i8x16_eq(v3, lb))) & valid;
    if (lit) check_literals(in, base, lit);
    u64 nonquote = scalar & ~quote;
    u64 follows = (nonquote << 1) | s1_scalar;
    s1_scalar = nonquote >> 63;
    u64 s = (op | (scalar & ~follows)) & ~(in_string ^ quote) & valid;
    /* Write the positions: eight at a time unconditionally (idx has room), then the rest. */
    u32 cnt = (u32)__builtin_popcountll(s);
    u32 *o = idx + out;
    for (int k = 0; k < 8; k++) {
      o[k] = base + (u32)__builtin_ctzll(s);
      s &= s - 1;
    }
    if (cnt > 8) {
      for (int k = 8; k < 16; k++) {
        o[k] = base + (u32)__builtin_ctzll(s);
        s &= s - 1;
      }
      for (u32 k = 16; k < cnt; k++) {
        o[k] = base + (u32)__builtin_ctzll(s);
        s &= s - 1;
      }
    }
    out += cnt;
  }
  s1_at = base;
  if (base >= n) {
    if (s1_string) s1_error = 1; /* a string left open */
    idx[out++] = n;
    idx[out++] = n;
  }
  return out;
}

/* The next structural position, and the one after it without taking it (ti, tn: locals of scan;
   a window inside one long string has no positions at all: refilled until one has). */
#define NEXT(p) \
  do { \
    while (ti == tn) { \
      tn = refill(); \
      ti = 0; \
    } \
    (p) = idx[ti++]; \
  } while (0)
#define PEEK(p) \
  do { \
    while (ti == tn) { \
      tn = refill(); \
      ti = 0; \
    } \
    (p) = idx[ti]; \
  } while (0)

static inline int ws_byte(u8 c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
static inline int digit(u8 c) { return (u8)(c - '0') < 10; }

/* The number at i: the index after it, or 0 (there is none). */
static inline u32 number_end(const u8 *in, u32 i) {
  if (in[i] == '-') i++;
  if (in[i] == '0') i++;
  else if (in[i] >= '1' && in[i] <= '9') {
    do i++;
    while (digit(in[i]));
  } else return 0;
  if (in[i] == '.') {
    i++;
    if (!digit(in[i])) return 0;
    do i++;
    while (digit(in[i]));
  }
  if ((in[i] | 0x20) == 'e') {
    i++;
    if (in[i] == '+' || in[i] == '-') i++;
    if (!digit(in[i])) return 0;
    do i++;
    while (digit(in[i]));
  }
  return i;
}

#define MAX_NEST 4096
#define MAX_FRAMES 1024
#define DEAD 0xFFFFFFFFu
#define FALLBACK_ 0x7FFFFFFFu
static u32 frame_set[MAX_NEST];   /* object: its set (for its members' names); array: its elements' set */
static u8 frame_kind[MAX_NEST];   /* 1 object, 2 cut at its close */

static const u32 dead_words[4] = {0, 0, 0, 0};
static const u32 dead_offsets[1] = {0};

/*
 * The member name whose opening quote is at q; its colon is at c. The set its value gets from the
 * object of set `set` (DEAD: none), or FALLBACK_ (an escape or a byte >= 0x80 where names are compared).
 */
static inline u32 member_set(const u8 *in, u32 q, u32 c, u32 set, const u32 *w, const u32 *offsets, const u8 *names) {
  if (set == DEAD) return DEAD;
  u32 at = offsets[set];
  u32 k = w[at + 3];
  u32 next = w[at + 1];
  if (k == 0) return next;
  u32 e = c - 1;
  while (in[e] != '"') e--; /* the closing quote (white space between it and the colon) */
  u32 start = q + 1;
  u32 len = e - start;
  if (s1_plain != 0) {
    for (u32 j = start; j < e; j++)
      if (in[j] == '\\' || in[j] >= 0x80) return FALLBACK_;
  }
  for (u32 m = 0; m < k; m++) {
    const u32 *t = w + at + 4 + 3 * m;
    if (t[1] != len) continue;
    const u8 *name = names + t[0];
    u32 j = 0;
    while (j < len && name[j] == in[start + j]) j++;
    if (j == len) return t[2];
  }
  return next;
}

/*
 * Both stages over in[0, n) with the automaton (w, offsets, names: see `redact`); max_depth frames at
 * most. Returns the number of cut words, -1 when the text is not JSON, -2 when it cannot tell (too
 * deep, a name to compare with an escape or a byte >= 0x80, more than max_cuts).
 */
static int scan(const u8 *in, u32 n, const u32 *w, const u32 *offsets, const u8 *names, u32 *cuts, u32 max_cuts, u32 max_depth) {
  s1_in = in;
  s1_n = n;
  s1_at = 0;
  s1_escaped = s1_string = s1_scalar = s1_error = s1_plain = 0;
  nhits = hits_over = 0;
  u32 ti = 0, tn = 0;
  u32 sp = 0, ncut = 0;
  u32 set = 0;
  u32 pos;
  NEXT(pos);
  for (;;) {
    /* A value starts at pos; `set` is active on it. */
    u8 c = in[pos];
    u32 flags = set == DEAD ? 0 : w[offsets[set]];
    if (c == '{' || c == '[') {
      u32 p;
 NEXT(p);
      if (in[p] == c + 2) { /* {} [] */
        if (flags & 2) {
          if (ncut + 2 > max_cuts) return -2;
          cuts[ncut++] = pos;
          cuts[ncut++] = p + 1;
        }
      } else {
        if (sp == max_depth) return -2;
        u32 child = flags & 2 ? DEAD : flags & 1 ? set : DEAD;
        if (flags & 2) {
          if (ncut + 2 > max_cuts) return -2;
          cuts[ncut++] = pos;
        }
        frame_kind[sp] = (u8)((c == '{') | (flags & 2));
        if (c == '{') {
          frame_set[sp++] = child;
          if (in[p] != '"') return -1;
          u32 colon;
 NEXT(colon);
          if (in[colon] != ':') return -1;
          set = member_set(in, p, colon, child, w, offsets, names);
          if (set == FALLBACK_) return -2;
          NEXT(pos);
        } else {
          set = child == DEAD ? DEAD : w[offsets[child] + 2];
          frame_set[sp++] = set;
          pos = p;
        }
        continue;
      }
    } else {
      u32 end;
      if (c == '"') {
        if (flags & 2) {
          PEEK(end);
          while (end > pos && ws_byte(in[end - 1])) end--;
        } else end = 0;
      } else {
        if (c == 't') end = in[pos + 1] == 'r' && in[pos + 2] == 'u' && in[pos + 3] == 'e' ? pos + 4 : 0;
        else if (c == 'f') end = in[pos + 1] == 'a' && in[pos + 2] == 'l' && in[pos + 3] == 's' && in[pos + 4] == 'e' ? pos + 5 : 0;
        else if (c == 'n') end = in[pos + 1] == 'u' && in[pos + 2] == 'l' && in[pos + 3] == 'l' ? pos + 4 : 0;
        else end = number_end(in, pos);
        if (end == 0) return -1;
        u32 following;
        PEEK(following);
        if (end != following && !ws_byte(in[end])) return -1; /* e.g. 1x, truex, 1"a" */
      }
      if (flags & 2) {
        if (ncut + 2 > max_cuts) return -2;
        cuts[ncut++] = pos;
        cuts[ncut++] = end;
      }
    }
    /* After a value: separators and closing brackets up to the next value (or the end). */
    for (;;) {
      u32 p;
 NEXT(p);
      if (sp == 0) {
        if (p != n || s1_error) return -1;
        found_outside(cuts, ncut);
        u32 total = 0;
        for (u32 k = 0; k < ncut; k += 2) total += cuts[k + 1] - cuts[k];
        cut_total = total;
        return (int)ncut;
      }
      u8 d = in[p];
      u8 kind = frame_kind[sp - 1];
      if (d == ',') {
        NEXT(pos);
        if (kind & 1) {
          if (in[pos] != '"') return -1;
          u32 colon;
 NEXT(colon);
          if (in[colon] != ':') return -1;
          set = member_set(in, pos, colon, frame_set[sp - 1], w, offsets, names);
          if (set == FALLBACK_) return -2;
          NEXT(pos);
        } else {
          set = frame_set[sp - 1];
        }
        break;
      }
      if (d != ((kind & 1) ? '}' : ']')) return -1;
      sp--;
      if (kind & 2) cuts[ncut++] = p + 1; /* room was checked at its start */
    }
  }
}

/*
 * JSON validation alone: 1 when in[0, n) is one JSON text, 0 when it is not, 2 when it nests
 * deeper than MAX_NEST (the caller checks it in JavaScript). `in` is followed by PAD zero bytes.
 */
__attribute__((export_name("validate")))
u32 validate(const u8 *restrict in, u32 n) {
  int r = scan(in, n, dead_words, dead_offsets, (const u8 *)0, (u32 *)0, 0, MAX_NEST);
  return r == -2 ? 2 : r >= 0 ? 1 : 0;
}

/*
 * Redaction over the bytes (src/jsonpath/stream.ts's redactJsonBytes, for the automata whose
 * array plans give every element the same states and whose object plans have no filters: what
 * encodeTable in stream.ts accepts). The automaton is a table of u32 words: for each state set,
 * at words[offsets[set]]: flags (1 live, 2 matched), the set every member of an object gets, the
 * set every element of an array gets, the number k of named members, then k triples (offset of
 * the name's UTF-8 bytes in `names`, their length, the set that member gets). Set 0 is the root's.
 * Writes each selected value's [start, end) to cuts (at most max_cuts words). Returns the number
 * of words written, -1 when the text is not valid JSON, -2 when it cannot tell here (a member
 * name with an escape or a non-ASCII byte where names are compared, nesting deeper than
 * MAX_FRAMES, more cuts than max_cuts): the caller runs the JavaScript pass. `in` is followed by
 * PAD zero bytes.
 */
__attribute__((export_name("redact")))
int redact(const u8 *restrict in, u32 n, const u32 *restrict w, const u32 *restrict offsets, const u8 *restrict names, u32 *restrict cuts, u32 max_cuts) {
  return scan(in, n, w, offsets, names, cuts, max_cuts, MAX_FRAMES);
}

__attribute__((export_name("stage1")))
u32 stage1(const u8 *restrict in, u32 n) {
  s1_in = in; s1_n = n; s1_at = 0;
  s1_escaped = s1_string = s1_scalar = s1_error = s1_plain = 0;
  u32 t = 0;
  do t += refill(); while (s1_at < n);
  return t;
}

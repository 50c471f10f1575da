/**
 * Searching a body for a short literal (a member name between quotes) at memchr speed: a native
 * search for the literal's rarest byte, each hit checked in place. `Buffer#includes` with a
 * literal that starts and ends with `"` crawls through JSON text (a quote every few bytes defeats
 * its skip table): 0.34 ns per byte for `"password"` over a 64 KiB array, against 0.01 for a byte
 * that is absent. When the rare byte turns out frequent in a body, the rest is left to
 * `Buffer#includes`, so the search is never much slower than that.
 */

/** Bytes of JSON text from the most to the least frequent (roughly; absent bytes count as rarest). */
const COMMON = Buffer.from(' ":,\n\tetaoinsrhldcum1023456789fpgwyb.vk-_{}[]xjqz');

/** A literal and the index of its rarest byte. */
export interface Literal {
  readonly bytes: Buffer;
  readonly rare: number;
}

/** Prepare `text` (non-empty) for {@link includesLiteral}. */
export function literal(text: string): Literal {
  const bytes = Buffer.from(text);
  let rare = 0;
  let rank = -1;
  for (let k = 0; k < bytes.length; k++) {
    const at = COMMON.indexOf(bytes[k]!);
    const r = at < 0 ? COMMON.length : at;
    if (r > rank) {
      rank = r;
      rare = k;
    }
  }
  return { bytes, rare };
}

/** Does `hay` hold `lit`? (What `hay.includes(lit.bytes)` says.) */
export function includesLiteral(hay: Buffer, lit: Literal): boolean {
  const { bytes, rare } = lit;
  const n = bytes.length;
  const r = bytes[rare]!;
  let budget = 8 + (hay.length >> 8); // hits of the rare byte before Buffer#includes takes over
  let from = rare;
  for (;;) {
    const p = hay.indexOf(r, from);
    if (p < 0) return false;
    const start = p - rare;
    if (start + n <= hay.length) {
      let k = 0;
      while (k < n && hay[start + k] === bytes[k]) k++;
      if (k === n) return true;
    }
    // every start up to `start` has been checked
    if (--budget < 0) return hay.includes(bytes, start + 1);
    from = p + 1;
  }
}

/**
 * Scratch memory for the bodies of one message: the captured chunks joined, a redacted body
 * spliced. Fresh buffers of that size cost more than the copying into them (a new 64 KiB Buffer
 * filled: 0.58 ns per byte, the same bytes into a reused one: 0.02, Node 24, measured by
 * bench/body.ts's calibrations), so one arena is reused by every message instead.
 *
 * Only inside {@link withScratch} (serializeExchange: its bodies are written into the message
 * before it returns, and nothing else keeps them); everywhere else {@link scratch} returns
 * undefined and callers allocate as before. The arena is handed out from the start again when the
 * outermost withScratch returns, so a buffer from it must never outlive that call.
 */

/** The arena never grows beyond this; larger needs get fresh buffers. */
export const MAX_SCRATCH = 4 * 1024 * 1024;

let arena: Buffer | undefined;
let used = 0;
let depth = 0;

/** `n` bytes of scratch memory (contents undefined), or undefined outside {@link withScratch} or when the arena is full. */
export function scratch(n: number): Buffer | undefined {
  if (depth === 0 || used + n > MAX_SCRATCH) return undefined;
  if (arena === undefined || used + n > arena.length) {
    // A new, larger arena; what was handed out of the old one stays valid (it is kept alive by those buffers).
    arena = Buffer.allocUnsafeSlow(Math.min(MAX_SCRATCH, Math.max(256 * 1024, 2 * (arena?.length ?? 0), 2 * (used + n))));
    used = 0;
  }
  const out = arena.subarray(used, used + n);
  used = (used + n + 7) & ~7;
  return out;
}

/** Run `fn` with {@link scratch} handing out memory that is reused once it returns. */
export function withScratch<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    if (--depth === 0) used = 0;
  }
}

/** withScratch's two halves, for a hot caller that would otherwise make a closure per call: every
 *  enterScratch() must be followed by exactly one leaveScratch() (in a `finally`). */
export function enterScratch(): void {
  depth++;
}

export function leaveScratch(): void {
  if (--depth === 0) used = 0;
}

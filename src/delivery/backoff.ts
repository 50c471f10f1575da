/** Retry delays, for publishing and for the bootstrap call. */

/** Full-jitter exponential backoff: attempt 0 -> up to baseMs, doubling, capped at maxMs. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Retry delays, for publishing and for the bootstrap call. */

/**
 * Equal-jitter exponential backoff: the ceiling is baseMs doubled per attempt, capped at maxMs, and
 * the delay is half the ceiling plus a random share of the other half (attempt 0 -> baseMs/2..baseMs).
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

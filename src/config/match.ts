/**
 * The one matcher of string and RegExp patterns: top-level `ignorePaths`, and the outgoing
 * `ignorePaths`, `ignoreHosts`, template and destination hosts.
 */

/** An exact string or a RegExp. */
export type Pattern = string | RegExp;

/**
 * Test a RegExp from the start of `value`, whatever its flags. `test` on a /g or /y RegExp starts
 * at `lastIndex` and moves it, so the same pattern would miss every other request; the user's
 * RegExp is left as it was given (lastIndex 0).
 */
export function testRegExp(re: RegExp, value: string): boolean {
  re.lastIndex = 0;
  const hit = re.test(value);
  re.lastIndex = 0;
  return hit;
}

/** A string matches when equal to `value`, a RegExp when it matches `value` (see {@link testRegExp}). */
export function matchesPattern(p: Pattern, value: string): boolean {
  return typeof p === "string" ? p === value : testRegExp(p, value);
}

/** True when any pattern matches `value`. */
export function matchesAny(patterns: readonly Pattern[], value: string): boolean {
  for (const p of patterns) if (matchesPattern(p, value)) return true;
  return false;
}

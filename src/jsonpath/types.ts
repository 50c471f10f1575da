/** The shape every redaction matcher has (the engine implements it). */

/** The compiled form of the configured redaction paths. */
export interface CompiledPaths {
  /** Number of configured paths (0 means: nothing to do, callers skip parse/stringify). */
  readonly size: number;
  /**
   * Replace, IN PLACE, every node matched by any path with the string REDACTED. The value given is
   * a freshly JSON.parse'd document owned by the caller. Returns the root (which is REDACTED itself
   * when a path matches the root `$`). Never throws for any JSON value (deep nesting included).
   */
  redact(doc: unknown): unknown;
  /**
   * Normalized paths (RFC 9535 §2.7, e.g. `$['a'][0]`) of every node that would be redacted,
   * de-duplicated, in document order when practical. Does not mutate.
   */
  locations(doc: unknown): string[];
}

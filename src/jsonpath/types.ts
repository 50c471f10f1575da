/** The shape every redaction matcher has (the engine implements it). */

/**
 * Where {@link CompiledPaths.redactBytes} reports the replaced values' [start, end) offsets: an
 * array it appends them to, or a holder it hands them over in at once (`offsets`: no array grown
 * one offset at a time, which cost ~6 ns per offset, 0.2 ns per body byte on an array of objects
 * with a redacted member each).
 */
export type SpanSink = number[] | { offsets: ArrayLike<number> };

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
  /**
   * False only when no path can match anything in this (valid) JSON text, so it needs no walk and
   * no re-serialization: every path ends in member names, the text holds none of them as a JSON
   * string (`"name"`) and holds no backslash (so no key can be written with escapes). True
   * otherwise. Exact, never a guess: false means "cannot match". Says nothing about validity:
   * callers still parse (what does not parse fails closed).
   */
  mayMatch(jsonText: string): boolean;
  /**
   * Redact the UTF-8 bytes of a JSON text without building a document (`stream.ts`): `json` itself
   * when nothing is selected, new bytes with each selected value replaced by the JSON string
   * REDACTED otherwise (whitespace, number spellings, escapes and every duplicate member kept;
   * every duplicate a path selects redacted), `null` when the text is not valid JSON (fail closed).
   * Absent when some path needs node values (filters), an array's length (negative indexes,
   * slices with a negative bound or step) or json-p3: then parse, `redact` and stringify.
   * With `spans`, the [start, end) offsets in `json` of each replaced value are appended to it (an
   * array) or set as its `offsets` (a holder; left as they were when nothing is replaced).
   */
  readonly redactBytes?: ((json: Buffer, spans?: SpanSink) => Buffer | null) | undefined;
}

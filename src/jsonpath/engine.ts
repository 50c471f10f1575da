/**
 * The {@link CompiledPaths} implementation: natively lowered paths run together in one walk;
 * paths the lowering does not understand are run by json-p3 itself. Matching always completes
 * on the original document before any node is replaced.
 *
 * Fail closed: if anything goes wrong while matching (json-p3's recursion limit for `..` inside a
 * json-p3-evaluated filter, a stack overflow inside json-p3, a frozen input, ...) `redact()`
 * returns the marker instead of the document and `locations()` returns `["$"]`.
 */
import type { JSONPathQuery, JSONValue } from "json-p3";
import { REDACTED } from "../registry/marker.js";
import { StateTable } from "./automaton.js";
import { normalizedPath, normalizedPathOf } from "./normalized.js";
import { lowerQuery, type Program } from "./program.js";
import { isJsonBytes, redactJsonBytesFast, streamable } from "./stream.js";
import { includesLiteral, literal, type Literal } from "./literal.js";
import { isJsonWasm } from "./wasm/module.js";
import { walk, type Container } from "./walk.js";
import type { CompiledPaths, SpanSink } from "./types.js";

/** Engine options (tests only). */
export interface EngineOptions {
  /** Run every path through json-p3 instead of the native matcher. */
  readonly forceFallback?: boolean;
}

/** Build the matcher for already parsed and validated queries. */
export function createEngine(queries: readonly JSONPathQuery[], options: EngineOptions = {}): CompiledPaths {
  const programs: Program[] = [];
  const fallbacks: JSONPathQuery[] = [];
  for (const query of queries) {
    const program = options.forceFallback === true ? null : tryLower(query);
    if (program === null) fallbacks.push(query);
    else programs.push(program);
  }
  const table = programs.length > 0 ? new StateTable(programs) : null;
  const textTable = table !== null && fallbacks.length === 0 && streamable(programs) ? table : null;
  return new Engine(queries.length, table, fallbacks, keyHints(programs, fallbacks.length), textTable);
}

/**
 * The JSON strings (`"name"`) one of which any match must sit under: when every path's last
 * segment selects member names only, a matched node is the value of such a member, so its key is
 * in the text. `null` when some path can end elsewhere (index, wildcard, filter, the root, a
 * json-p3-run path), or a name could be written differently in JSON text.
 */
function keyHints(programs: readonly Program[], fallbacks: number): readonly string[] | null {
  if (fallbacks > 0) return null;
  const hints = new Set<string>();
  for (const program of programs) {
    const last = program[program.length - 1];
    if (!last || last.selectors.length === 0) return null;
    for (const s of last.selectors) {
      // Only names JSON writes as themselves (no quote, backslash, control or non-ASCII character).
      if (s.kind !== "name" || !/^[\x20-\x7e]*$/.test(s.name) || /["\\]/.test(s.name)) return null;
      hints.add(`"${s.name}"`);
    }
  }
  return [...hints];
}

/** Lower a query, or `null` to let json-p3 run it (unknown syntax, or too deeply nested to lower). */
function tryLower(query: JSONPathQuery): Program | null {
  try {
    return lowerQuery(query, query.environment);
  } catch {
    return null;
  }
}

/** A node to replace: its parent and key. */
type Target = readonly [Container, string | number];

class Engine implements CompiledPaths {
  readonly redactBytes: ((json: Buffer, spans?: SpanSink) => Buffer | null) | undefined;
  /** The hints as literals to search the bytes for, for {@link Engine.redactBytes}. */
  private readonly hintBytes: readonly Literal[] | null;

  constructor(
    readonly size: number,
    private readonly table: StateTable | null,
    private readonly fallbacks: readonly JSONPathQuery[],
    private readonly hints: readonly string[] | null,
    textTable: StateTable | null,
  ) {
    this.hintBytes = hints === null ? null : hints.map((hint) => literal(hint));
    this.redactBytes = textTable === null ? undefined : (json, spans) => this.redactJson(json, textTable, spans);
  }

  mayMatch(jsonText: string): boolean {
    const hints = this.hints;
    if (this.size === 0) return false;
    if (hints === null || jsonText.includes("\\")) return true;
    for (let i = 0; i < hints.length; i++) if (jsonText.includes(hints[i]!)) return true;
    return false;
  }

  /** {@link redactJsonBytes}, or only the validation when no path can match; `null` (fail closed) if anything goes wrong. */
  private redactJson(json: Buffer, table: StateTable, spans: SpanSink | undefined): Buffer | null {
    try {
      const hints = this.hintBytes;
      if (hints !== null && !json.includes(92) && !hints.some((hint) => includesLiteral(json, hint))) return (isJsonWasm(json) ?? isJsonBytes(json)) ? json : null;
      return redactJsonBytesFast(json, table, spans);
    } catch {
      return null;
    }
  }

  redact(doc: unknown): unknown {
    if (this.size === 0) return doc;
    try {
      const targets = this.targets(doc);
      if (targets === null) return REDACTED;
      for (const [container, key] of targets) (container as Record<string | number, unknown>)[key] = REDACTED;
      return doc;
    } catch {
      return REDACTED; // fail closed
    }
  }

  locations(doc: unknown): string[] {
    if (this.size === 0) return [];
    try {
      const seen = new Set<string>();
      if (this.table !== null) {
        walk(doc, this.table, { trackPaths: true, pruneMatched: false }, (_c, _k, link) => seen.add(normalizedPathOf(link)));
      }
      for (const query of this.fallbacks) {
        for (const location of query.query(doc as JSONValue).locations()) seen.add(normalizedPath(location));
      }
      return [...seen];
    } catch {
      return ["$"]; // fail closed: the whole document would be replaced
    }
  }

  /** Every node to replace, or `null` when the root itself is selected. */
  private targets(doc: unknown): Target[] | null {
    const targets: Target[] = [];
    let root = false;
    if (this.table !== null) {
      // With pruneMatched, a selected root ends the walk at once.
      walk(doc, this.table, { trackPaths: false, pruneMatched: true }, (container, key) => {
        if (container === null) root = true;
        else targets.push([container, key]);
      });
    }
    if (root) return null;
    for (const query of this.fallbacks) {
      for (const location of query.query(doc as JSONValue).locations()) {
        if (location.length === 0) return null;
        targets.push(parentOf(doc, location));
      }
    }
    return targets;
  }
}

/** The parent and key of the node at a non-empty `location`, following own keys only. */
function parentOf(doc: unknown, location: readonly (string | number)[]): Target {
  let at = doc;
  for (let i = 0; i < location.length - 1; i++) at = ownChild(at, location[i]!);
  if (typeof at !== "object" || at === null) throw new Error("json-p3 reported a location that does not exist");
  return [at as Container, location[location.length - 1]!];
}

function ownChild(value: unknown, key: string | number): unknown {
  if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) {
    throw new Error("json-p3 reported a location that does not exist");
  }
  return (value as Record<string | number, unknown>)[key];
}

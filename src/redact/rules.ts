/** The redaction rules of one exchange: header names and the compiled body paths of each side. */
import type { Exchange } from "../capture/exchange.js";
import { compilePaths, type CompiledPaths } from "../jsonpath/index.js";
import { RULES } from "../registry/symbols.js";
import type { ValueRules } from "./values.js";

/** One configured body path on its own, to count redactions by rule (`body:$.password`). */
export interface NamedPath {
  /** The stats name: `body:` and the path as configured. */
  readonly rule: string;
  readonly paths: CompiledPaths;
  /**
   * When the path ends in a plain member name (`$.user.password`, `$..token`, `$.a['b']`): that
   * name as a JSON string (`"password"`), which any text it matches in holds (unless escaped).
   */
  readonly hint?: string | undefined;
}

/** The last segment's member name of a path, when it is a plain one (letters, digits, `_`, `-`). */
function hintOf(path: string): string | undefined {
  const m = /(?:\.|\[')([A-Za-z0-9_-]+)'?\]?$/.exec(path);
  if (m === null) return undefined;
  const tail = path.slice(m.index);
  if (!(tail === `.${m[1]}` || tail === `['${m[1]}']`)) return undefined;
  return `"${m[1]}"`;
}

/** One line of `previewRedaction`'s report: a rule, where it matched (never the value), how many values it replaced there. */
export interface RedactionEntry {
  /** The rule, named as in `stats().redactions`: `body:$.password`, `value:jwt`, `body:uncheckable`... */
  rule: string;
  /** Where: a normalized JSONPath (`$['user']['password']`, for form fields too), `$` for a text body or the whole body. */
  where: string;
  count: number;
}

/** What `previewRedaction(kind, body, { report: true })` returns. */
export interface RedactionReport {
  /** The body as it would be published (what `previewRedaction(kind, body)` returns). */
  body: string;
  redactions: RedactionEntry[];
}

/** The options form of `previewRedaction`'s third argument. */
export interface PreviewOptions {
  /** Default `application/json`. */
  contentType?: string;
  /** Return a {@link RedactionReport} instead of the body alone. */
  report?: boolean;
}

/** Redaction rules that apply to one exchange (outgoing calls may add per-destination rules). */
export interface RuleSet {
  headers: ReadonlySet<string>;
  request: CompiledPaths;
  response: CompiledPaths;
  /** Query parameter (and route parameter) names, lower case, whose values are redacted. */
  query?: ReadonlySet<string>;
  /** Value detectors applied to every value (bodies, headers, query, path). */
  values?: ValueRules;
  /** The paths of `request` and `response` one by one (stats by rule). */
  named?: { readonly request: readonly NamedPath[]; readonly response: readonly NamedPath[] };
}

/** Each of `paths` (already compiled together, and so valid) on its own, named for stats. */
export function namePaths(paths: readonly string[], all: CompiledPaths): NamedPath[] {
  if (paths.length === 1) return [{ rule: `body:${paths[0]!}`, paths: all, hint: hintOf(paths[0]!) }];
  return paths.map((p) => ({ rule: `body:${p}`, paths: compilePaths([p]), hint: hintOf(p) }));
}

const present = new WeakMap<readonly NamedPath[], RegExp | null>();
/**
 * The named paths whose hint is in `text` (one scan for all of them), or undefined when that
 * cannot tell (a path without a hint, or an escape in the text).
 */
export function pathsIn(named: readonly NamedPath[], text: string): NamedPath[] | undefined {
  let re = present.get(named);
  if (re === undefined) {
    const hints = named.map((n) => n.hint);
    re = hints.every((h) => h !== undefined) ? new RegExp([...new Set(hints as string[])].map((h) => h.replace(/[-]/g, "\\$&")).join("|"), "g") : null;
    present.set(named, re);
  }
  if (re === null || text.includes("\\")) return undefined;
  const found = new Set<string>();
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) found.add(m[0]);
  re.lastIndex = 0;
  return named.filter((n) => found.has(n.hint!));
}

/** Attach the rules an exchange must be redacted with (outgoing calls add per-destination rules). */
export function setRules(ex: Exchange, rules: RuleSet): void {
  (ex as Exchange & { [RULES]?: RuleSet })[RULES] = rules;
}

/** Rules attached with setRules, if any. */
export function rulesOf(ex: Exchange): RuleSet | undefined {
  return (ex as Exchange & { [RULES]?: RuleSet })[RULES];
}

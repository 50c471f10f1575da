/**
 * Form fields (urlencoded bodies, multipart fields) against JSONPath rules: a field named
 * `user[password]` is matched by `$.user.password`, as the body parsers that expand the bracket
 * notation (qs: Express's `urlencoded({ extended: true })`, Koa's bodyparser; multer) would hand it
 * to the app: `a[b]` is a member, `a[]` and `a[0]` (up to 20) array elements, repeated names an
 * array. Its literal name (`$['user[password]']`) still matches too.
 */
import { REDACTED } from "../registry/marker.js";
import type { CompiledPaths } from "../jsonpath/index.js";
import { normalizedPath } from "../jsonpath/normalized.js";
import type { NamedPath } from "./rules.js";
import type { Tally, ValueRules } from "./values.js";
import { redactValue } from "./query.js";

/** qs's arrayLimit: a larger index is an object key. */
const ARRAY_LIMIT = 20;

type Key = string | number;
/** A segment of an expanded name: a member name, an array index, or `null` for `[]` (append). */
type Segment = string | number | null;

const BRACKETS = /\[([^[\]]*)\]/y;

/** The segments `a[b][0][]` expands to, or undefined when the name has no (well-formed) brackets. */
export function expandName(name: string): Segment[] | undefined {
  const open = name.indexOf("[");
  if (open < 0) return undefined;
  const segs: Segment[] = [];
  if (open > 0) segs.push(name.slice(0, open));
  BRACKETS.lastIndex = open;
  let m: RegExpExecArray | null;
  let count = 0;
  while ((m = BRACKETS.exec(name)) !== null) {
    const inner = m[1]!;
    count++;
    if (inner === "") segs.push(null);
    else if (/^\d+$/.test(inner) && Number(inner) <= ARRAY_LIMIT) segs.push(Number(inner));
    else segs.push(inner);
    if (BRACKETS.lastIndex >= name.length || name.charCodeAt(BRACKETS.lastIndex) !== 91) break;
  }
  BRACKETS.lastIndex = 0;
  if (count === 0 || segs.length === 0) return undefined;
  if (open === 0 && segs[0] === null) return undefined; // "[]" alone: no name at all
  if (open === 0 && typeof segs[0] === "number") segs[0] = String(segs[0]);
  return segs;
}

interface Node {
  /** Field indices whose value sits here (several: an array of values). */
  leaf?: number[];
  /** Member children (an object) or element children (an array). */
  members?: Map<string, Node>;
  elements?: Node[];
  /** Array position of each explicit index seen. */
  index?: Map<number, Node>;
}

function child(parent: Node, seg: Segment, next: Segment | undefined): Node | undefined {
  const make = (): Node => (next === undefined ? {} : next === null || typeof next === "number" ? { elements: [], index: new Map() } : { members: new Map() });
  if (parent.elements !== undefined) {
    if (seg === null) {
      const n = make();
      parent.elements.push(n);
      return n;
    }
    if (typeof seg === "number") {
      let n = parent.index!.get(seg);
      if (n === undefined) {
        n = make();
        parent.index!.set(seg, n);
        parent.elements.push(n);
      }
      return n;
    }
    return undefined; // a member name under an array: qs turns it into an object; too rare to mimic
  }
  if (parent.members === undefined || seg === null) return undefined;
  const key = String(seg);
  let n = parent.members.get(key);
  if (n === undefined) parent.members.set(key, (n = make()));
  return n;
}

/** Build the document the fields expand to; `where[i]` is field i's location (undefined: not placed). */
function expandedDoc(
  names: readonly string[],
  values: readonly string[],
  expansions: ReadonlyArray<Segment[] | undefined>,
): { doc: unknown; where: Array<Key[] | undefined> } {
  const root: Node = { members: new Map() };
  for (let i = 0; i < names.length; i++) {
    const segs = expansions[i] ?? [names[i]!];
    let node: Node | undefined = root;
    for (let j = 0; j < segs.length && node !== undefined; j++) node = child(node, segs[j]!, segs[j + 1]);
    // A conflict with a container (a=1&a[b]=2) leaves the field to its literal name.
    if (node === undefined || node.members !== undefined || node.elements !== undefined) continue;
    (node.leaf ??= []).push(i);
  }
  const where: Array<Key[] | undefined> = new Array<Key[] | undefined>(names.length);
  const build = (node: Node, at: Key[]): unknown => {
    const leaf = node.leaf;
    if (leaf !== undefined) {
      if (leaf.length === 1) {
        where[leaf[0]!] = at;
        return values[leaf[0]!];
      }
      return leaf.map((f, k) => {
        where[f] = [...at, k];
        return values[f];
      });
    }
    if (node.elements !== undefined) return node.elements.map((c, k) => build(c, [...at, k]));
    const obj = Object.create(null) as Record<string, unknown>;
    for (const [k, c] of node.members ?? []) obj[k] = build(c, [...at, k]);
    return obj;
  };
  return { doc: build(root, []), where };
}

/** The flat document of literal names (repeated names: an array), and where each field is. */
function literalDoc(names: readonly string[], values: readonly string[]): { doc: Record<string, unknown>; where: Key[][] } {
  const doc = Object.create(null) as Record<string, unknown>;
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  const seen = new Map<string, number>();
  const where: Key[][] = [];
  names.forEach((n, i) => {
    if (counts.get(n) === 1) {
      doc[n] = values[i];
      where.push([n]);
      return;
    }
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    let list = doc[n] as string[] | undefined;
    if (list === undefined) doc[n] = list = [];
    list.push(values[i]!);
    where.push([n, k]);
  });
  return { doc, where };
}

/** True when the node at `at` (or one of its ancestors) became the marker. */
function redactedAt(doc: unknown, at: readonly Key[]): boolean {
  let node = doc;
  for (const key of at) {
    if (node === REDACTED) return true;
    if (typeof node !== "object" || node === null) return false;
    node = (node as Record<Key, unknown>)[key];
  }
  return node === REDACTED;
}

/** What applies to a set of fields. */
export interface FieldRules {
  readonly paths: CompiledPaths;
  readonly named?: readonly NamedPath[] | undefined;
  readonly values?: ValueRules | undefined;
  readonly tally?: Tally | undefined;
  /** Say where each redaction was (normalized paths): previewRedaction's report. */
  readonly report?: boolean | undefined;
}

/**
 * Count (and, for a report, locate) what each configured path matches in `doc`. A report says
 * where each path matched, everywhere; a count says which values were replaced: a match inside a
 * value another match replaced whole, or a second path matching the same value, is not counted
 * again (the first path in configuration order has it), as the byte-level redaction counts.
 */
export function attribute(named: readonly NamedPath[] | undefined, doc: unknown, tally: Tally, report: boolean, text?: string): void {
  if (named === undefined) return;
  const found: Array<readonly [string, number]> = [];
  for (let p = 0; p < named.length; p++) {
    const np = named[p]!;
    if (text !== undefined && !np.paths.mayMatch(text)) continue;
    const locations = np.paths.locations(doc);
    if (report) for (const where of locations) tally(np.rule, 1, where);
    else for (const where of locations) found.push([where, p]);
  }
  if (found.length === 0) return;
  if (found.length > 1) {
    // Normalized paths are whole segments (`$['a'][0]`): after sorting, the values inside a
    // replaced one follow it and start with its path.
    found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  }
  const counts = new Array<number>(named.length).fill(0);
  let outer: string | undefined;
  for (const [where, p] of found) {
    if (outer !== undefined && where.startsWith(outer)) continue;
    outer = where;
    counts[p]!++;
  }
  for (let p = 0; p < named.length; p++) if (counts[p]! > 0) tally(named[p]!.rule, counts[p]!);
}

/**
 * The fields' values as published: matched by a path (through their expanded or their literal
 * name) they are the marker, else detector matches are replaced. Undefined when nothing changed.
 * `values` must not be changed by the caller while this runs.
 */
export function redactFields(names: readonly string[], values: readonly string[], rules: FieldRules): string[] | undefined {
  let out: string[] | undefined;
  const set = (i: number, v: string): void => {
    (out ??= values.slice())[i] = v;
  };
  const { paths, tally } = rules;
  const report = rules.report === true;
  const expansions = names.map(expandName);
  const bracketed = expansions.some((e) => e !== undefined);
  let where: Array<Key[] | undefined> | undefined;
  if (paths.size > 0 && names.length > 0) {
    const literal = literalDoc(names, values);
    // Counted on the expanded document when there is one (it holds the plain names too).
    if (tally !== undefined && !bracketed) attribute(rules.named, literal.doc, tally, report);
    const red = paths.redact(literal.doc);
    for (let i = 0; i < names.length; i++) if (red === REDACTED || redactedAt(red, literal.where[i]!)) set(i, REDACTED);
    if (bracketed) {
      const built = expandedDoc(names, values, expansions);
      const doc = built.doc;
      where = built.where;
      if (tally !== undefined) attribute(rules.named, doc, tally, report);
      const red2 = paths.redact(doc);
      for (let i = 0; i < names.length; i++) {
        const at = where[i];
        if (at !== undefined && (red2 === REDACTED || redactedAt(red2, at))) set(i, REDACTED);
      }
    }
  }
  const detectors = rules.values;
  if (detectors !== undefined && detectors.size > 0) {
    for (let i = 0; i < names.length; i++) {
      if (out?.[i] === REDACTED) continue;
      const at = report ? (where?.[i] ?? [names[i]!]) : undefined;
      const red = redactValue(values[i]!, detectors, tally, at && normalizedPath(at));
      if (red !== undefined) set(i, red);
    }
  }
  return out;
}

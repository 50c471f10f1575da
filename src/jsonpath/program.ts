/**
 * Lowering of a json-p3 syntax tree into the small program the matcher runs: a list of segments
 * (child or descendant `..`), each a list of selectors (name, index, slice, wildcard, filter).
 *
 * json-p3 is only used to parse and validate; this module reads its public syntax tree.
 */
import { jsonpath, type JSONPathEnvironment, type JSONPathQuery } from "json-p3";
import { compileFilter, type FilterTest } from "./filter.js";

/** A selector the matcher understands. */
export type Selector =
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "index"; readonly index: number }
  | { readonly kind: "slice"; readonly start: number | undefined; readonly stop: number | undefined; readonly step: number }
  | { readonly kind: "wildcard" }
  | { readonly kind: "filter"; readonly test: FilterTest; readonly native: boolean };

/** A segment: selectors applied to the children (`descendant: false`) or to the node and all of its descendants. */
export interface Segment {
  readonly descendant: boolean;
  readonly selectors: readonly Selector[];
}

/** A lowered query: the segments applied one after the other from the root. */
export type Program = readonly Segment[];

const S = jsonpath.selectors;
type JsonP3Selector = InstanceType<typeof jsonpath.JSONPathSelector>;
type JsonP3Segment = InstanceType<typeof jsonpath.JSONPathSegment>;

/**
 * json-p3 exports the segment base class only, so the concrete classes are taken from probe
 * queries (a child and a descendant segment) compiled once per environment.
 */
interface SegmentClasses {
  readonly child: unknown;
  readonly descendant: unknown;
}
const segmentClasses = new WeakMap<JSONPathEnvironment, SegmentClasses>();

function classesOf(env: JSONPathEnvironment): SegmentClasses {
  let classes = segmentClasses.get(env);
  if (classes === undefined) {
    classes = {
      child: env.compile("$.a").segments[0]?.constructor,
      descendant: env.compile("$..a").segments[0]?.constructor,
    };
    segmentClasses.set(env, classes);
  }
  return classes;
}

/**
 * Lower a parsed query. Returns `null` when the tree contains a node this compiler does not know
 * (not expected with a strict RFC 9535 environment): the caller then lets json-p3 run that path.
 */
export function lowerQuery(query: JSONPathQuery, env: JSONPathEnvironment): Program | null {
  const classes = classesOf(env);
  const program: Segment[] = [];
  for (const segment of query.segments) {
    const lowered = lowerSegment(segment, classes, env);
    if (lowered === null) return null;
    program.push(lowered);
  }
  return program;
}

function lowerSegment(segment: JsonP3Segment, classes: SegmentClasses, env: JSONPathEnvironment): Segment | null {
  const kind = segment.constructor;
  if (kind !== classes.child && kind !== classes.descendant) return null;
  const selectors: Selector[] = [];
  for (const selector of segment.selectors) {
    const lowered = lowerSelector(selector, env);
    if (lowered === null) return null;
    selectors.push(lowered);
  }
  return { descendant: kind === classes.descendant, selectors };
}

function lowerSelector(selector: JsonP3Selector, env: JSONPathEnvironment): Selector | null {
  // Exact class checks: a subclass could change the semantics.
  switch (selector.constructor) {
    case S.NameSelector:
      return { kind: "name", name: (selector as InstanceType<typeof S.NameSelector>).name };
    case S.IndexSelector:
      return { kind: "index", index: (selector as InstanceType<typeof S.IndexSelector>).index };
    case S.SliceSelector: {
      const { start, stop, step } = selector as InstanceType<typeof S.SliceSelector>;
      return { kind: "slice", start, stop, step: step ?? 1 };
    }
    case S.WildcardSelector:
      return { kind: "wildcard" };
    case S.FilterSelector: {
      const filter = compileFilter((selector as InstanceType<typeof S.FilterSelector>).expression, env);
      return { kind: "filter", test: filter.test, native: filter.native };
    }
    default:
      return null;
  }
}

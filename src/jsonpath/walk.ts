/**
 * The one-pass, non-recursive walk: a depth-first traversal with an explicit stack that carries
 * the active automaton states of every node, for all configured paths at once.
 *
 * - Only own enumerable properties are visited (`Object.keys`); `__proto__` and `constructor` are
 *   ordinary keys, the prototype chain is never read.
 * - Subtrees where no state is active are skipped, so `$.password` touches only the root.
 * - Depth cap (fail closed): a container at depth {@link MAX_DEPTH} or deeper (the root is depth 0)
 *   whose children would still have to be checked is reported as a match itself, so it gets
 *   replaced wholesale rather than left unchecked.
 * - Nodes are reported in document order (pre-order), each at most once.
 */
import type { ArrayPlan, ObjectPlan, StateSet, StateTable } from "./automaton.js";
import { isPlainObject } from "./plain.js";
import type { PathLink } from "./normalized.js";

/** Containers at this depth or deeper are not descended into; see the module comment. */
export const MAX_DEPTH = 10_000;

/** A JSON container. */
export type Container = Record<string, unknown> | unknown[];

/**
 * Receives each selected node: its parent and key (`null` parent for the root), and its location
 * when paths are tracked.
 */
export type MatchSink = (container: Container | null, key: string | number, link: PathLink | null) => void;

/** Walk options. */
export interface WalkOptions {
  /** Build locations (for normalized paths); otherwise `link` is always `null`. */
  readonly trackPaths: boolean;
  /** Do not look inside selected nodes (they are replaced wholesale anyway). */
  readonly pruneMatched: boolean;
}

interface Frame {
  readonly value: unknown;
  readonly set: StateSet;
  readonly depth: number;
  readonly container: Container | null;
  readonly key: string | number;
  readonly link: PathLink | null;
}

/** Run every program of `table` over `root` in one pass, reporting selected nodes to `sink`. */
export function walk(root: unknown, table: StateTable, options: WalkOptions, sink: MatchSink): void {
  new Walker(root, table, options, sink).run();
}

class Walker {
  private readonly stack: Frame[] = [];

  constructor(
    private readonly root: unknown,
    private readonly table: StateTable,
    private readonly options: WalkOptions,
    private readonly sink: MatchSink,
  ) {}

  run(): void {
    this.stack.push({ value: this.root, set: this.table.root, depth: 0, container: null, key: "", link: null });
    for (let frame = this.stack.pop(); frame !== undefined; frame = this.stack.pop()) this.visit(frame);
  }

  private visit(frame: Frame): void {
    const { value, set } = frame;
    if (set.matched) {
      this.sink(frame.container, frame.key, frame.link);
      if (this.options.pruneMatched) return;
    }
    if (!set.live || typeof value !== "object" || value === null) return;
    if (frame.depth >= MAX_DEPTH) {
      if (!set.matched) this.sink(frame.container, frame.key, frame.link); // fail closed
      return;
    }
    if (Array.isArray(value)) this.expandArray(value, this.table.planArray(set), frame);
    else if (isPlainObject(value)) this.expandObject(value, this.table.planObject(set), frame);
  }

  /** Push a child if it is selected or may hold selected descendants. */
  private push(child: unknown, set: StateSet, parent: Frame, container: Container, key: string | number): void {
    if (!set.matched && !(set.live && typeof child === "object" && child !== null)) return;
    const link = this.options.trackPaths ? { parent: parent.link, key } : null;
    this.stack.push({ value: child, set, depth: parent.depth + 1, container, key, link });
  }

  private expandObject(obj: Record<string, unknown>, plan: ObjectPlan, frame: Frame): void {
    if (!plan.scan) {
      for (const [name, set] of plan.namedReversed) {
        if (Object.hasOwn(obj, name)) this.push(obj[name], set, frame, obj, name);
      }
      return;
    }
    const keys = Object.keys(obj);
    // Reverse order on a LIFO stack = document order when popped.
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const child = obj[key];
      let set = plan.named.get(key) ?? plan.all;
      if (plan.filters.length > 0) set = this.withFilters(set, plan.filters, child, key);
      if (set.ids.length > 0) this.push(child, set, frame, obj, key);
    }
  }

  private expandArray(arr: unknown[], plan: ArrayPlan, frame: Frame): void {
    const len = arr.length;
    if (!plan.scan) {
      this.expandIndexes(arr, plan, frame);
      return;
    }
    const slices = plan.slices.length === 0 ? NO_SLICES : plan.slices.map((s) => ({ bounds: sliceBounds(s.selector, len), next: s.next }));
    for (let i = len - 1; i >= 0; i--) {
      const child = arr[i];
      let extra: number[] | null = null;
      for (const { selector, next } of plan.indexes) {
        if (normalizeIndex(selector, len) === i) (extra ??= []).push(next);
      }
      for (const { bounds, next } of slices) {
        if (inSlice(bounds, i)) (extra ??= []).push(next);
      }
      let set = extra === null ? plan.all : this.table.union(plan.all, extra);
      if (plan.filters.length > 0) set = this.withFilters(set, plan.filters, child, i);
      if (set.ids.length > 0) this.push(child, set, frame, arr, i);
    }
  }

  /** Arrays where only index selectors are active: visit just those elements. */
  private expandIndexes(arr: unknown[], plan: ArrayPlan, frame: Frame): void {
    const hits = new Map<number, number[]>();
    for (const { selector, next } of plan.indexes) {
      const i = normalizeIndex(selector, arr.length);
      if (i < 0 || i >= arr.length) continue;
      const list = hits.get(i);
      if (list === undefined) hits.set(i, [next]);
      else list.push(next);
    }
    const order = [...hits.keys()].sort((a, b) => b - a);
    for (const i of order) this.push(arr[i], this.table.union(plan.all, hits.get(i)!), frame, arr, i);
  }

  private withFilters(
    base: StateSet,
    filters: ObjectPlan["filters"],
    child: unknown,
    key: string | number,
  ): StateSet {
    let extra: number[] | null = null;
    for (const { selector: test, next } of filters) {
      if (test(child, key, this.root)) (extra ??= []).push(next);
    }
    return extra === null ? base : this.table.union(base, extra);
  }
}

const NO_SLICES: readonly { bounds: SliceBounds; next: number }[] = [];

/** An index selector's element for an array of `len` (negative counts from the end). */
function normalizeIndex(index: number, len: number): number {
  return index < 0 ? len + index : index;
}

/** A slice resolved against one array length (RFC 9535 §2.3.4.2.2). */
interface SliceBounds {
  /** First element taken. */
  readonly lower: number;
  /** Bound not reached: exclusive upper bound (step > 0) or exclusive lower bound (step < 0). */
  readonly limit: number;
  readonly step: number;
}

function sliceBounds(s: { start: number | undefined; stop: number | undefined; step: number }, len: number): SliceBounds {
  const { step } = s;
  if (step > 0) {
    return { lower: clampIndex(s.start, 0, len, step), limit: clampIndex(s.stop, len, len, step), step };
  }
  return { lower: clampIndex(s.start, len - 1, len, step), limit: clampIndex(s.stop, -1, len, step), step };
}

function clampIndex(n: number | undefined, fallback: number, len: number, step: number): number {
  if (n === undefined) return fallback;
  if (n < 0) return Math.max(n + len, step < 0 ? -1 : 0);
  return Math.min(n, step < 0 ? len - 1 : len);
}

function inSlice({ lower, limit, step }: SliceBounds, i: number): boolean {
  if (step > 0) return i >= lower && i < limit && (i - lower) % step === 0;
  if (step < 0) return i <= lower && i > limit && (lower - i) % -step === 0;
  return false;
}

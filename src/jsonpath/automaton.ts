/**
 * The automaton behind the one-pass matcher.
 *
 * A state is "query q has consumed its first k segments at this node". Every node of the walk
 * carries the set of states active there (a {@link StateSet}); a set holding a final state means
 * the node is matched. Sets are interned, and each set lazily gets a plan per container kind
 * that says which states each child receives, so the per-node work does not grow with the
 * number of configured paths once a set has been seen (a lazily built DFA, with filters, index,
 * slices evaluated per child).
 */
import type { FilterTest } from "./filter.js";
import type { Program, Segment, Selector } from "./program.js";

/** One automaton state. */
interface StateDef {
  /** The segment still to apply, `undefined` for a final state. */
  readonly segment: Segment | undefined;
  /** The state reached once that segment matched. */
  readonly next: number;
}

/** A child selector pending on a member or element, with the state it leads to. */
interface Pending<T> {
  readonly selector: T;
  readonly next: number;
}
type FilterPending = Pending<FilterTest>;
type IndexPending = Pending<number>;
type SlicePending = Pending<Extract<Selector, { kind: "slice" }>>;

/** How the children of an object get their states. */
export interface ObjectPlan {
  /** States every member gets (descendant segments staying active, wildcards). */
  readonly all: StateSet;
  /** Named members: `all` plus the states of the name selectors. */
  readonly named: ReadonlyMap<string, StateSet>;
  /** The entries of `named`, in reverse selector order (for pushing on the walk's stack). */
  readonly namedReversed: readonly (readonly [string, StateSet])[];
  readonly filters: readonly FilterPending[];
  /** `true` when every member must be visited; else only the named ones. */
  readonly scan: boolean;
}

/** How the elements of an array get their states. */
export interface ArrayPlan {
  readonly all: StateSet;
  readonly indexes: readonly IndexPending[];
  readonly slices: readonly SlicePending[];
  readonly filters: readonly FilterPending[];
  /** `true` when every element must be visited; else only the indexed ones. */
  readonly scan: boolean;
}

/** An interned set of active states. */
export class StateSet {
  /** Plans and unions, filled lazily by the {@link StateTable}. */
  objectPlan: ObjectPlan | undefined;
  arrayPlan: ArrayPlan | undefined;
  readonly unions = new Map<string, StateSet>();

  /**
   * @param ids - Sorted, distinct state ids.
   * @param matched - The set holds a final state: its node is selected.
   * @param live - The set holds a non-final state: the node's children may be selected.
   */
  constructor(
    readonly ids: readonly number[],
    readonly matched: boolean,
    readonly live: boolean,
  ) {}
}

/** Interned sets beyond this count are built but not cached (bounds memory on odd inputs). */
const MAX_INTERNED_SETS = 4096;

/** All states of a group of programs, and the interned sets over them. */
export class StateTable {
  private readonly states: StateDef[] = [];
  private readonly interned = new Map<string, StateSet>();
  /** The set active at the root of the document. */
  readonly root: StateSet;
  readonly empty: StateSet;

  constructor(programs: readonly Program[]) {
    const starts: number[] = [];
    for (const program of programs) {
      starts.push(this.states.length);
      for (const segment of program) this.states.push({ segment, next: this.states.length + 1 });
      this.states.push({ segment: undefined, next: -1 });
    }
    this.root = this.intern(starts);
    this.empty = this.intern([]);
  }

  /** The interned set of the given state ids (any order, duplicates allowed). */
  intern(ids: readonly number[]): StateSet {
    const sorted = [...new Set(ids)].sort((a, b) => a - b);
    const key = sorted.join(",");
    const known = this.interned.get(key);
    if (known !== undefined) return known;
    const set = new StateSet(sorted, sorted.some((id) => this.isFinal(id)), sorted.some((id) => !this.isFinal(id)));
    if (this.interned.size < MAX_INTERNED_SETS) this.interned.set(key, set);
    return set;
  }

  /** `base` plus `extra` states (a per-child addition from indexes, slices or filters). */
  union(base: StateSet, extra: readonly number[]): StateSet {
    const key = extra.join(",");
    let set = base.unions.get(key);
    if (set === undefined) {
      set = this.intern([...base.ids, ...extra]);
      if (base.unions.size < MAX_INTERNED_SETS) base.unions.set(key, set);
    }
    return set;
  }

  /** The plan for an object node carrying `set`. */
  planObject(set: StateSet): ObjectPlan {
    return (set.objectPlan ??= this.buildObjectPlan(set));
  }

  /** The plan for an array node carrying `set`. */
  planArray(set: StateSet): ArrayPlan {
    return (set.arrayPlan ??= this.buildArrayPlan(set));
  }

  private isFinal(id: number): boolean {
    return this.states[id]?.segment === undefined;
  }

  private buildObjectPlan(set: StateSet): ObjectPlan {
    const all: number[] = [];
    const names = new Map<string, number[]>();
    const filters: FilterPending[] = [];
    for (const { segment, next, self } of this.activeSegments(set)) {
      if (segment.descendant) all.push(self);
      for (const selector of segment.selectors) {
        if (selector.kind === "wildcard") all.push(next);
        else if (selector.kind === "filter") filters.push({ selector: selector.test, next });
        else if (selector.kind === "name") getOrAdd(names, selector.name).push(next);
      }
    }
    const named = new Map<string, StateSet>();
    for (const [name, ids] of names) named.set(name, this.intern([...all, ...ids]));
    const allSet = this.intern(all);
    const namedReversed = [...named].reverse();
    return { all: allSet, named, namedReversed, filters, scan: allSet.ids.length > 0 || filters.length > 0 };
  }

  private buildArrayPlan(set: StateSet): ArrayPlan {
    const all: number[] = [];
    const indexes: IndexPending[] = [];
    const slices: SlicePending[] = [];
    const filters: FilterPending[] = [];
    for (const { segment, next, self } of this.activeSegments(set)) {
      if (segment.descendant) all.push(self);
      for (const selector of segment.selectors) {
        if (selector.kind === "wildcard") all.push(next);
        else if (selector.kind === "filter") filters.push({ selector: selector.test, next });
        else if (selector.kind === "index") indexes.push({ selector: selector.index, next });
        else if (selector.kind === "slice") slices.push({ selector, next });
      }
    }
    const allSet = this.intern(all);
    const scan = allSet.ids.length > 0 || filters.length > 0 || slices.length > 0;
    return { all: allSet, indexes, slices, filters, scan };
  }

  /** The non-final states of a set with their segment, successor and own id. */
  private *activeSegments(set: StateSet): Generator<{ segment: Segment; next: number; self: number }> {
    for (const self of set.ids) {
      const state = this.states[self];
      if (state?.segment !== undefined) yield { segment: state.segment, next: state.next, self };
    }
  }
}

function getOrAdd(map: Map<string, number[]>, key: string): number[] {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  return list;
}

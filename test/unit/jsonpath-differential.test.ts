/**
 * Differential and robustness tests of the redaction engine: random documents and random paths,
 * compared with json-p3 (the reference implementation we parse with); deep documents; prototype
 * pollution attempts; fail-closed behaviour.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { JSONPathEnvironment } from "json-p3";
import { APIToolkitConfigError } from "../../src/registry/codes.js";
import { REDACTED } from "../../src/registry/marker.js";
import { compilePaths, MAX_DEPTH } from "../../src/jsonpath/index.js";
import { createEngine } from "../../src/jsonpath/engine.js";

const oracle = new JSONPathEnvironment();
const NUM_RUNS = 20000;

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/** Member names: plain, prototype-ish, quotes, spaces, escapes, non-ASCII, empty. */
const KEYS = [
  "a", "b", "c", "__proto__", "constructor", "toString", "prototype", "it's", 'say "hi"', "sp ace",
  "ü", "😀", "0", "", "back\\slash", "tab\tnl\n", "\u0001",
];
/**
 * Keys that are not names of Object.prototype members nor array indexes (json-p3's deepEquals
 * reads inherited keys and treats `{"0":1}` like `[1]`: see the divergence test).
 */
const PLAIN_KEYS = KEYS.filter((k) => !(k in Object.prototype) && k !== "prototype" && k !== "0");
/** Names usable in shorthand notation (`.name`). */
const isShorthand = (k: string): boolean => /^[\p{L}_\u{80}-\u{10FFFF}][\p{L}\p{N}_\u{80}-\u{10FFFF}]*$/u.test(k);

type Tree = { kind: "leaf"; json: string } | { kind: "array"; items: Tree[] } | { kind: "object"; entries: [string, Tree][] };

/** JSON text of a tree (duplicate keys allowed: JSON.parse keeps the last one, as with real bodies). */
function toJson(tree: Tree): string {
  switch (tree.kind) {
    case "leaf": return tree.json;
    case "array": return `[${tree.items.map(toJson).join(",")}]`;
    case "object": return `{${tree.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
  }
}

/**
 * Generators of documents (as JSON text, so `__proto__` becomes an own key exactly as in a parsed
 * request body) and of paths over the member names `keys`. With `structural`, filters also compare
 * two queries (`@.a == @.b`), which may compare objects and arrays.
 */
function arbitraries(keys: readonly string[], structural: boolean) {
  /** Mostly common keys, so that random paths select something. */
  const keyArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("a", "b", "c") }, { weight: 2, arbitrary: fc.constantFrom(...keys) });
  const shArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("a", "b", "c") }, { weight: 2, arbitrary: fc.constantFrom(...keys.filter(isShorthand)) });
  const leafArb: fc.Arbitrary<Tree> = fc
    .constantFrom("0", "1", "2", "-1", "1.5", '"a"', '"x"', '"xyz"', '""', "true", "false", "null", '"[CLIENT_REDACTED]"')
    .map((json) => ({ kind: "leaf", json }));
  const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree; array: Tree; object: Tree }>((tie) => ({
    tree: fc.oneof({ depthSize: "small", withCrossShrink: true }, leafArb, tie("array"), tie("object")),
    // (With `structural`, no empty arrays: json-p3 finds `[]` equal to `{}`.)
    array: fc.array(tie("tree"), { minLength: structural ? 1 : 0, maxLength: 5 }).map((items) => ({ kind: "array" as const, items })),
    object: fc.array(fc.tuple(keyArb, tie("tree")), { maxLength: 5 }).map((entries) => ({ kind: "object" as const, entries })),
  })).tree;
  const doc = fc.oneof(
    { weight: 4, arbitrary: treeArb.filter((t) => t.kind !== "leaf") },
    { weight: 1, arbitrary: treeArb },
  ).map(toJson);

  /** A name as a JSONPath string literal, single- or double-quoted. */
  const quotedNameArb = fc.tuple(keyArb, fc.boolean()).map(([name, double]) =>
    double ? JSON.stringify(name) : `'${JSON.stringify(name).slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'")}'`,
  );
  const smallInt = fc.integer({ min: -5, max: 5 });
  const sliceArb = fc
    .tuple(fc.option(smallInt), fc.option(smallInt), fc.option(fc.integer({ min: -3, max: 3 })))
    .map(([start, stop, step]) => `${start ?? ""}:${stop ?? ""}${step === null ? "" : `:${step}`}`);
  const literalArb = fc.constantFrom("1", "0", "-1", "1.5", "'a'", '"x"', "true", "false", "null", "'xyz'");
  const opArb = fc.constantFrom("==", "!=", "<", "<=", ">", ">=");
  const relSingularArb = fc.oneof(
    shArb.map((k) => `@.${k}`),
    quotedNameArb.map((q) => `@[${q}]`),
    smallInt.map((i) => `@[${i}]`),
    fc.constant("@"),
    fc.tuple(shArb, smallInt).map(([k, i]) => `@.${k}[${i}]`),
  );
  const singularArb = fc.oneof(relSingularArb, relSingularArb.map((q) => `$${q.slice(1)}`));
  /** Filters: natively compiled forms, and forms json-p3 evaluates (functions, non-singular queries). */
  const filterArb = fc.oneof(
    relSingularArb.map((q) => `?${q}`),
    fc.tuple(relSingularArb, opArb, literalArb).map(([q, op, lit]) => `?${q} ${op} ${lit}`),
    fc.tuple(literalArb, opArb, relSingularArb).map(([lit, op, q]) => `?${lit} ${op} ${q}`),
    relSingularArb.map((q) => `?!${q}`),
    fc.tuple(relSingularArb, relSingularArb, fc.constantFrom("&&", "||")).map(([a, b, op]) => `?${a} ${op} ${b}`),
    fc.tuple(relSingularArb, literalArb, relSingularArb).map(([a, lit, b]) => `?!(${a} == ${lit}) && ${b}`),
    fc.tuple(shArb, opArb, literalArb).map(([k, op, lit]) => `?$.${k} ${op} ${lit}`),
    fc.tuple(relSingularArb, opArb).map(([q, op]) => `?length(${q}) ${op} 2`),
    fc.constantFrom("?count(@.*) > 1", "?@.*", "?@..a", "?!@..b", "?match(@.a, 'x.*')", "?search(@, 'y')", "?value(@..a) == 1"),
    ...(structural ? [fc.tuple(singularArb, opArb, singularArb).map(([a, op, b]) => `?${a} ${op} ${b}`)] : []),
  );
  const bracketSelectorArb = fc.oneof(
    { weight: 3, arbitrary: quotedNameArb },
    { weight: 2, arbitrary: smallInt.map(String) },
    { weight: 2, arbitrary: sliceArb },
    { weight: 1, arbitrary: fc.constant("*") },
    { weight: structural ? 6 : 2, arbitrary: filterArb },
  );
  const bracketArb = fc.array(bracketSelectorArb, { minLength: 1, maxLength: 3 }).map((s) => `[${s.join(", ")}]`);
  const segmentArb = fc.oneof(
    { weight: 3, arbitrary: shArb.map((k) => `.${k}`) },
    { weight: 1, arbitrary: fc.constant(".*") },
    { weight: 4, arbitrary: bracketArb },
    { weight: 1, arbitrary: shArb.map((k) => `..${k}`) },
    { weight: 1, arbitrary: fc.constant("..*") },
    { weight: 1, arbitrary: bracketArb.map((b) => `..${b}`) },
  );
  const path = fc.oneof(
    { weight: 1, arbitrary: fc.constant("$") },
    { weight: 30, arbitrary: fc.array(segmentArb, { minLength: 1, maxLength: 4 }).map((segments) => `$${segments.join("")}`) },
  );
  return { doc, path, paths: fc.array(path, { minLength: 1, maxLength: 3 }) };
}

/** All member names; filters compare queries with literals only (json-p3's deepEquals reads inherited keys). */
const general = arbitraries(KEYS, false);
/** Member names that are not Object.prototype members; filters also compare two queries. */
const structural = arbitraries(PLAIN_KEYS, true);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** json-p3's normalized paths of all nodes selected by any of `paths`, or `null` if one is invalid. */
function oraclePaths(paths: readonly string[], doc: unknown): Set<string> | null {
  const out = new Set<string>();
  for (const path of paths) {
    let query;
    try {
      query = oracle.compile(path);
    } catch {
      return null;
    }
    for (const p of query.query(doc as never).paths({ form: "canonical" })) out.add(p);
  }
  return out;
}

function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return `${parent}['${JSON.stringify(key).slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'")}']`;
}

/** Nodes at `expected` (topmost) hold REDACTED; everything else is unchanged, key for key. */
function assertRedactedExactly(original: unknown, redacted: unknown, expected: ReadonlySet<string>, at = "$"): void {
  if (expected.has(at)) {
    assert.equal(redacted, REDACTED, `${at} should be redacted`);
    return;
  }
  if (typeof original !== "object" || original === null) {
    assert.equal(redacted, original, `${at} should be unchanged`);
    return;
  }
  assert.ok(typeof redacted === "object" && redacted !== null, `${at} should still be a container`);
  assert.equal(Array.isArray(redacted), Array.isArray(original), `${at} changed kind`);
  const keys = Object.keys(original);
  assert.deepEqual(Object.keys(redacted), keys, `${at} changed keys`);
  for (const key of keys) {
    const k = Array.isArray(original) ? Number(key) : key;
    assertRedactedExactly(
      (original as Record<string, unknown>)[key],
      (redacted as Record<string, unknown>)[key],
      expected,
      childPath(at, k),
    );
  }
}

const prototypeSnapshot = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();
const PROTOTYPE_KEYS = prototypeSnapshot();

function assertPrototypeClean(): void {
  assert.deepEqual(prototypeSnapshot(), PROTOTYPE_KEYS, "Object.prototype gained properties");
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
  assert.equal((({}) as Record<string, unknown>)["polluted"], undefined);
}

/** A document nested `depth` objects deep along key `a`, with `password` at every level (or only at the top and the bottom). */
function deepDocument(depth: number, everyLevel = true): string {
  const middle = everyLevel ? '{"password":"p","a":'.repeat(depth) : `{"password":"p","a":${'{"a":'.repeat(depth - 1)}`;
  return `${middle}{"password":"leaf"}${"}".repeat(depth)}`;
}

/** The nesting depth of a value (root = 0), without recursion. */
function maxDepth(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, depth] = item;
    max = Math.max(max, depth);
    if (typeof value === "object" && value !== null) {
      for (const child of Object.values(value)) stack.push([child, depth + 1]);
    }
  }
  return max;
}

/** Follow key `a` `steps` times, without recursion. */
function descend(doc: unknown, steps: number): unknown {
  let at = doc;
  for (let i = 0; i < steps; i++) at = (at as Record<string, unknown>)["a"];
  return at;
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/** locations() equals json-p3's node set; redact() replaces exactly those nodes (topmost). */
function checkAgainstOracle(text: string, paths: readonly string[]): boolean {
  const doc: unknown = JSON.parse(text);
  const snapshot = JSON.stringify(doc);
  const expected = oraclePaths(paths, doc);
  if (expected === null) {
    assert.throws(() => compilePaths(paths), APIToolkitConfigError);
    return false;
  }
  const compiled = compilePaths(paths);
  const actual = compiled.locations(doc);
  assert.equal(JSON.stringify(doc), snapshot, "locations() mutated the document");
  assert.equal(new Set(actual).size, actual.length, "duplicate locations");
  assert.deepEqual([...actual].sort(), [...expected].sort());
  const redacted = compiled.redact(JSON.parse(text));
  assertRedactedExactly(doc, redacted, expected);
  assertPrototypeClean();
  return true;
}

test("random paths on random documents: same nodes as json-p3, redacted exactly", () => {
  let compared = 0;
  fc.assert(
    fc.property(general.doc, general.paths, (text, paths) => {
      if (checkAgainstOracle(text, paths)) compared++;
    }),
    { numRuns: NUM_RUNS },
  );
  assert.ok(compared > NUM_RUNS / 2, `only ${compared} valid path lists generated`);
});

test("random filters comparing two queries (structured values): same nodes as json-p3", () => {
  fc.assert(
    fc.property(structural.doc, structural.paths, (text, paths) => {
      checkAgainstOracle(text, paths);
    }),
    { numRuns: NUM_RUNS / 2 },
  );
});

test("random paths: the native matcher and the json-p3 whole-path fallback agree", () => {
  fc.assert(
    fc.property(general.doc, general.path, (text, path) => {
      let query;
      try {
        query = oracle.compile(path);
      } catch {
        return;
      }
      const doc: unknown = JSON.parse(text);
      const native = compilePaths([path]);
      const fallback = createEngine([query], { forceFallback: true });
      assert.deepEqual([...native.locations(doc)].sort(), [...fallback.locations(doc)].sort());
      assert.deepEqual(native.redact(JSON.parse(text)), fallback.redact(JSON.parse(text)));
    }),
    { numRuns: 2000 },
  );
});

// ---------------------------------------------------------------------------------------------
// Deep documents and the depth cap
// ---------------------------------------------------------------------------------------------

test(`100,000-level document with $..password: no throw, fail closed at depth ${MAX_DEPTH}`, () => {
  const depth = 100_000;
  const compiled = compilePaths(["$..password"]);
  const doc = JSON.parse(deepDocument(depth)) as Record<string, unknown>;
  const out = compiled.redact(doc);
  assert.equal(out, doc, "the root is returned");
  // Every password above the cap is redacted individually ...
  for (const level of [0, 1, 2, MAX_DEPTH - 2, MAX_DEPTH - 1]) {
    const node = descend(doc, level) as Record<string, unknown>;
    assert.equal(node["password"], REDACTED, `password at depth ${level}`);
  }
  assert.equal(typeof descend(doc, MAX_DEPTH - 1), "object");
  // ... and the container at the cap is replaced wholesale (fail closed): nothing below it survives.
  assert.equal(descend(doc, MAX_DEPTH), REDACTED);
  assert.equal(maxDepth(out), MAX_DEPTH);

  // locations(): the top password, then the capped node (the leaf's password lies below the cap).
  const sparse = JSON.parse(deepDocument(depth, false)) as unknown;
  assert.deepEqual(compiled.locations(sparse), ["$['password']", `$${"['a']".repeat(MAX_DEPTH)}`]);
  // Paths are not built for nodes that are not reported, so this is linear.
});

test("100,000-level documents: paths that stop early never walk them; arrays too", () => {
  const doc = JSON.parse(deepDocument(100_000)) as Record<string, unknown>;
  const out = compilePaths(["$.password", "$.a.a.password"]).redact(doc) as Record<string, unknown>;
  assert.equal(out["password"], REDACTED);
  assert.equal((descend(out, 2) as Record<string, unknown>)["password"], REDACTED);
  assert.equal((descend(out, 3) as Record<string, unknown>)["password"], "p");

  const arraysText = `${"[".repeat(100_000)}1${"]".repeat(100_000)}`;
  const arrays = JSON.parse(arraysText) as unknown[];
  assert.equal(compilePaths(["$..*"]).redact(arrays), arrays);
  assert.equal(arrays[0], REDACTED); // every node is selected: the topmost one is replaced
  const none = compilePaths(["$..x"]);
  assert.deepEqual(none.locations(JSON.parse(arraysText)), [`$${"[0]".repeat(MAX_DEPTH)}`]);
  const capped = none.redact(JSON.parse(arraysText));
  let at = capped;
  for (let i = 0; i < MAX_DEPTH; i++) at = (at as unknown[])[0];
  assert.equal(at, REDACTED);
});

test("json-p3-evaluated filter hitting its recursion limit fails closed", () => {
  const text = `{"items":[${'{"a":'.repeat(2_000)}1${"}".repeat(2_000)}]}`;
  const compiled = compilePaths(["$.items[?count(@..x) > 0]"]);
  assert.equal(compiled.redact(JSON.parse(text)), REDACTED);
  assert.deepEqual(compiled.locations(JSON.parse(text)), ["$"]);
  // A shallow document works normally through the same filter.
  assert.deepEqual(compiled.locations({ items: [{ x: 1 }, { y: 1 }] }), ["$['items'][0]"]);
});

test("native comparisons of deep values do not recurse", () => {
  const deep = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
  const doc = JSON.parse(`[{"l":${deep},"r":${deep}},{"l":1,"r":2}]`) as unknown;
  assert.deepEqual(compilePaths(["$[?@.l == @.r]"]).locations(doc), ["$[0]"]);
});

// ---------------------------------------------------------------------------------------------
// Own keys only, no prototype pollution
// ---------------------------------------------------------------------------------------------

test("__proto__ and constructor are plain own keys; Object.prototype is never touched", () => {
  const text =
    '{"__proto__":{"password":"x","polluted":true},"constructor":{"prototype":{"password":"y"}},' +
    '"list":[{"__proto__":{"password":"z"}}],"toString":"s"}';
  const paths = [
    "$.__proto__.password",
    "$['constructor'].prototype",
    "$..password",
    "$.list[*].__proto__",
    "$.toString",
    "$.hasOwnProperty",
    "$.list.length",
    "$[?@.polluted == true]",
  ];
  const compiled = compilePaths(paths);
  const doc = JSON.parse(text) as Record<string, unknown>;
  const expected = oraclePaths(paths, doc);
  assert.ok(expected);
  assert.deepEqual([...compiled.locations(doc)].sort(), [...expected].sort());
  assert.ok(!compiled.locations(doc).includes("$['hasOwnProperty']"));
  const out = compiled.redact(doc) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype, "the root's prototype is unchanged");
  assert.ok(Object.hasOwn(out, "__proto__"));
  assert.equal(out["__proto__"], REDACTED); // selected by the filter on `polluted`
  assert.deepEqual(out["constructor"], { prototype: REDACTED });
  assert.deepEqual(out["list"], [{ ["__proto__"]: REDACTED }]);
  assert.equal(out["toString"], REDACTED);
  assertPrototypeClean();
});

test("a JSON.parse'd __proto__ key is read as data, and prototype members are never selected", () => {
  const doc = JSON.parse('{"a":{"b":1}}') as unknown;
  const compiled = compilePaths(["$.a.__proto__", "$.a.constructor", "$..toString", "$.a[?@.constructor]"]);
  assert.deepEqual(compiled.locations(doc), []);
  assert.deepEqual(compiled.redact(doc), { a: { b: 1 } });
  assertPrototypeClean();
});

// ---------------------------------------------------------------------------------------------
// Documented behaviour and edge cases
// ---------------------------------------------------------------------------------------------

test("root, primitives, empty configuration", () => {
  assert.equal(compilePaths(["$"]).redact({ a: 1 }), REDACTED);
  assert.equal(compilePaths(["$.a", "$"]).redact(5), REDACTED);
  assert.equal(compilePaths(["$.a"]).redact(5), 5);
  assert.equal(compilePaths(["$[0]"]).redact("str"), "str");
  assert.equal(compilePaths(["$.a"]).redact(null), null);
  assert.deepEqual(compilePaths(["$", "$.a"]).locations({ a: 1 }), ["$", "$['a']"]);
  const none = compilePaths([]);
  assert.equal(none.size, 0);
  const doc = { a: 1 };
  assert.equal(none.redact(doc), doc);
  assert.deepEqual(none.locations(doc), []);
  assert.equal(compilePaths(["$.a", "$.b", "$.a"]).size, 3);
});

test("arrays: negative indexes, slices with negative steps, overlapping paths", () => {
  const doc = [0, 1, 2, 3, 4, 5, 6];
  const compiled = compilePaths(["$[-1]", "$[-9]", "$[5:1:-2]", "$[::3]", "$[1:3]"]);
  assert.deepEqual(compiled.locations(doc), ["$[0]", "$[1]", "$[2]", "$[3]", "$[5]", "$[6]"]);
  assert.deepEqual(compiled.redact([...doc]), [REDACTED, REDACTED, REDACTED, REDACTED, 4, REDACTED, REDACTED]);
});

test("a selected parent and a selected descendant: the parent wins, no error", () => {
  const doc = { user: { card: { cvv: 1, n: 2 }, cvv: 3 } };
  const compiled = compilePaths(["$..cvv", "$.user.card", "$.user"]);
  assert.deepEqual(compiled.locations(doc), ["$['user']", "$['user']['card']", "$['user']['card']['cvv']", "$['user']['cvv']"]);
  assert.deepEqual(compiled.redact(structuredClone(doc)), { user: REDACTED });
});

test("filters see the original document, not earlier replacements", () => {
  const doc = { flag: "on", items: [{ k: "on" }, { k: "off" }] };
  const out = compilePaths(["$.flag", "$.items[?@.k == $.flag]"]).redact(structuredClone(doc));
  assert.deepEqual(out, { flag: REDACTED, items: [REDACTED, { k: "off" }] });
});

test("invalid paths: ERR_INVALID_JSONPATH naming the path and the reason", () => {
  for (const bad of ["$.a[", "a.b", "$[?@.a == ]", "$[01]", "$.a[?foo(@)]", "$[?length(@.*) > 1]"]) {
    assert.throws(
      () => compilePaths(["$.fine", bad]),
      (e: unknown) => e instanceof APIToolkitConfigError && e.code === "ERR_INVALID_JSONPATH" && e.message.includes(bad) && e.message.includes("index 1"),
    );
  }
  assert.throws(() => compilePaths([42 as unknown as string]), APIToolkitConfigError);
  assert.throws(() => compilePaths("$.a" as unknown as string[]), APIToolkitConfigError);
});

/** json-p3's deepEquals quirks: an array "equals" an object with the same index keys, and inherited keys are read. */
function json3Quirk(l: unknown, r: unknown): boolean {
  return Array.isArray(l) !== Array.isArray(r) && typeof l === "object" && typeof r === "object" && l !== null && r !== null;
}

test("comparisons of structured values agree with json-p3 (apart from its documented quirks)", () => {
  const values = ["{}", "[]", '{"a":1}', '{"a":1,"b":2}', '{"b":2,"a":1}', '{"a":[1]}', '{"a":[1,2]}', "[1]", "[1,2]",
    "[[1],{}]", '{"a":{}}', '{"b":{}}', "null", "1", "1.0", '"1"', "true", "false", '{"a":null}', '{"c":1}', '{"0":1}'];
  const pairs = values.flatMap((l) => values.map((r) => JSON.parse(`{"l":${l},"r":${r}}`) as { l: unknown; r: unknown }));
  const quirks = new Set(pairs.flatMap((p, i) => (json3Quirk(p.l, p.r) ? [`$[${i}]`] : [])));
  assert.ok(quirks.size > 0);
  for (const op of ["==", "!=", "<", "<=", ">", ">="]) {
    const path = `$[?@.l ${op} @.r]`;
    const ours = compilePaths([path]).locations(pairs).filter((p) => !quirks.has(p));
    const theirs = oracle.query(path, pairs as never).paths({ form: "canonical" }).filter((p) => !quirks.has(p));
    assert.deepEqual(ours, theirs, path);
    // On the quirky pairs, arrays never equal objects for us.
    const quirky = compilePaths([`$[?@.l == @.r]`]).locations(pairs).filter((p) => quirks.has(p));
    assert.deepEqual(quirky, []);
  }
});

test("known divergences: json-p3's structural equality reads inherited keys and mixes arrays with objects", () => {
  // json-p3's deepEquals compares a["constructor"] with b["constructor"], which for b is
  // Object.prototype.constructor; it then finds {} "equal" to the Object function. It also
  // compares an object (on the left) with an array by their keys. RFC 9535 §2.3.5.2.2 says neither is equal.
  const doc = JSON.parse('[{"a":{"constructor":{}},"b":{"x":{}}},{"a":{},"b":[]},{"a":{"0":1},"b":[1]}]') as unknown;
  assert.deepEqual(oracle.query("$[?@.a == @.b]", doc as never).paths(), ["$[0]", "$[1]", "$[2]"]);
  assert.deepEqual(compilePaths(["$[?@.a == @.b]"]).locations(doc), []);
});

test("never throws on odd inputs (frozen objects fail closed)", () => {
  const frozen = Object.freeze({ password: "x" });
  assert.equal(compilePaths(["$.password"]).redact(frozen), REDACTED);
  assert.equal(frozen.password, "x");
});

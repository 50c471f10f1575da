/**
 * The JSONPath Compliance Test Suite (RFC 9535), vendored in test/vendor/jsonpath-cts (BSD-2),
 * run against the redaction engine: invalid selectors must be rejected at construction, valid
 * ones must report exactly the expected nodes and redact exactly those.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { APIToolkitConfigError } from "../../src/registry/codes.js";
import { REDACTED } from "../../src/registry/marker.js";
import { compilePaths } from "../../src/jsonpath/index.js";
import { createEngine } from "../../src/jsonpath/engine.js";
import { JSONPathEnvironment } from "json-p3";

interface CtsCase {
  readonly name: string;
  readonly selector: string;
  readonly invalid_selector?: boolean;
  readonly document?: unknown;
  readonly result_paths?: readonly string[];
  readonly results_paths?: readonly (readonly string[])[];
}

const suite = JSON.parse(
  readFileSync(new URL("../vendor/jsonpath-cts/cts.json", import.meta.url), "utf8"),
) as { tests: CtsCase[] };
const cases = suite.tests;
const invalidCases = cases.filter((c) => c.invalid_selector === true);
const validCases = cases.filter((c) => c.invalid_selector !== true);

/** The expected node set of a valid case (the suite lists duplicates when a node is selected twice). */
function expectedPaths(c: CtsCase): string[] {
  const paths = c.result_paths ?? c.results_paths?.[0];
  assert.ok(paths, `case ${c.name} has no result paths`);
  return [...new Set(paths)];
}

/** Run `check` on every case; fail with the first few failures, report the pass count. */
function runAll(
  t: { diagnostic(message: string): void },
  label: string,
  list: readonly CtsCase[],
  check: (c: CtsCase) => void,
): void {
  const failures: string[] = [];
  for (const c of list) {
    try {
      check(c);
    } catch (error) {
      failures.push(`${c.name} (${c.selector}): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  t.diagnostic(`${label}: ${list.length - failures.length}/${list.length} CTS cases pass`);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failing cases`);
}

/** Normalized path of a child, in the same form as the suite's `result_paths`. */
function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  const body = JSON.stringify(key).slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'");
  return `${parent}['${body}']`;
}

/**
 * Compare the redacted document with the original: nodes at `expected` paths (the topmost ones)
 * hold REDACTED, everything else is unchanged, key for key.
 */
function assertRedactedExactly(original: unknown, redacted: unknown, expected: ReadonlySet<string>, at = "$"): void {
  if (expected.has(at)) {
    assert.equal(redacted, REDACTED, `${at} should be redacted`);
    return;
  }
  if (typeof original !== "object" || original === null) {
    assert.equal(redacted, original, `${at} should be unchanged`);
    return;
  }
  assert.equal(Array.isArray(redacted), Array.isArray(original), `${at} changed kind`);
  assert.ok(typeof redacted === "object" && redacted !== null, `${at} should still be a container`);
  const keys = Object.keys(original);
  assert.deepEqual(Object.keys(redacted), keys, `${at} changed keys`);
  for (const key of keys) {
    const k = Array.isArray(original) ? Number(key) : key;
    const o = (original as Record<string, unknown>)[key];
    const r = (redacted as Record<string, unknown>)[key];
    assertRedactedExactly(o, r, expected, childPath(at, k));
  }
}

test("the vendored suite is complete (703 cases)", () => {
  assert.equal(cases.length, 703);
  assert.equal(invalidCases.length + validCases.length, 703);
});

test("invalid selectors are rejected at construction with ERR_INVALID_JSONPATH", (t) => {
  runAll(t, "invalid selectors", invalidCases, (c) => {
    assert.throws(
      () => compilePaths(["$.ok", c.selector]),
      (error: unknown) =>
        error instanceof APIToolkitConfigError &&
        error.code === "ERR_INVALID_JSONPATH" &&
        error.message.includes(c.selector),
    );
  });
});

test("valid selectors: locations() reports exactly the selected nodes, once each", (t) => {
  runAll(t, "locations", validCases, (c) => {
    const compiled = compilePaths([c.selector]);
    const before = JSON.stringify(c.document);
    const actual = compiled.locations(c.document);
    assert.equal(JSON.stringify(c.document), before, "locations() mutated the document");
    assert.equal(new Set(actual).size, actual.length, "duplicate locations");
    assert.deepEqual([...actual].sort(), expectedPaths(c).sort());
  });
});

test("valid selectors: redact() replaces exactly the selected nodes", (t) => {
  runAll(t, "redact", validCases, (c) => {
    const redacted = compilePaths([c.selector]).redact(structuredClone(c.document));
    assertRedactedExactly(c.document, redacted, new Set(expectedPaths(c)));
  });
});

test("valid selectors: the json-p3 whole-path fallback agrees with the suite too", (t) => {
  const env = new JSONPathEnvironment({ maxRecursionDepth: 256 });
  runAll(t, "whole-path fallback", validCases, (c) => {
    const compiled = createEngine([env.compile(c.selector)], { forceFallback: true });
    assert.deepEqual([...compiled.locations(c.document)].sort(), expectedPaths(c).sort());
    const redacted = compiled.redact(structuredClone(c.document));
    assertRedactedExactly(c.document, redacted, new Set(expectedPaths(c)));
  });
});

test("locations() lists nodes in document order where the suite's order is document order", (t) => {
  // Informational plus a sanity check. The suite lists nodes in selection order (negative-step
  // slices run backwards, unions keep their order and duplicates); ours is document order.
  let same = 0;
  for (const c of validCases) {
    const orders = c.result_paths ? [c.result_paths] : (c.results_paths ?? []);
    const actual = compilePaths([c.selector]).locations(c.document).join("\n");
    if (orders.some((order) => [...new Set(order)].join("\n") === actual)) same++;
  }
  t.diagnostic(`${same}/${validCases.length} valid cases also match (one of) the suite's exact orders`);
  assert.ok(same > validCases.length * 0.9);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isoTimestamp } from "../../src/wire/serialize.js";

test("isoTimestamp formats epoch milliseconds exactly as Date#toISOString", () => {
  // Any instant from 1970 to 9999 (fractions of a millisecond included), in any order, so the
  // once-per-second cache is exercised across seconds, days, years and back.
  fc.assert(
    fc.property(fc.double({ min: 0, max: 253402300799999, noNaN: true }), (ms) => {
      assert.equal(isoTimestamp(ms), new Date(Math.floor(ms)).toISOString());
    }),
    { numRuns: 20000 },
  );
  for (const ms of [0, 999, 1000, 1764590400000.5, 1764590400999.999, 1764590401000, 253402300799999]) {
    assert.equal(isoTimestamp(ms), new Date(Math.floor(ms)).toISOString());
  }
});

test("isoTimestamp within one second reuses the cached second but never its milliseconds", () => {
  const base = Date.UTC(2026, 11, 1, 12, 34, 56);
  for (let i = 0; i < 1000; i++) assert.equal(isoTimestamp(base + i), new Date(base + i).toISOString());
});

// The WebAssembly splice of the JSON redaction (src/jsonpath/wasm) against the JavaScript one: the
// same bytes for any body and any cuts, and the module really loads on the Node versions we support.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { spliceJs } from "../../src/jsonpath/stream.js";
import { MAX_SPLICED, spliceWasm } from "../../src/jsonpath/wasm/module.js";
import { compilePaths } from "../../src/jsonpath/index.js";

const MARKER = Buffer.from('"[CLIENT_REDACTED]"');

function sizeOf(b: Buffer, cuts: readonly number[], marker: Buffer): number {
  let size = b.length;
  for (let k = 0; k < cuts.length; k += 2) size += marker.length - (cuts[k + 1]! - cuts[k]!);
  return size;
}

/** A body and sorted, non-overlapping [start, end) cuts within it (empty cuts and adjacent ones included). */
const caseArb = fc.uint8Array({ maxLength: 3000 }).chain((bytes) =>
  fc.array(fc.nat({ max: bytes.length }), { maxLength: 40 }).map((points) => {
    const sorted = [...points].sort((a, b) => a - b);
    if (sorted.length % 2 === 1) sorted.pop();
    return { body: Buffer.from(bytes), cuts: sorted };
  }),
);

test("the WebAssembly module loads (Node 20 and later have WebAssembly): a splice is done there", () => {
  const out = spliceWasm(Buffer.from('{"a":"x"}'), [5, 8], MARKER, 9 + MARKER.length - 3);
  assert.ok(out !== undefined, "spliceWasm returned undefined: the WebAssembly module did not load");
  assert.equal(out.toString(), '{"a":"[CLIENT_REDACTED]"}');
});

test("WebAssembly and JavaScript splices give the same bytes, whatever the body and the cuts", () => {
  fc.assert(
    fc.property(caseArb, fc.constantFrom(MARKER, Buffer.from("[X]"), Buffer.alloc(0)), ({ body, cuts }, marker) => {
      const size = sizeOf(body, cuts, marker);
      const wasm = spliceWasm(body, cuts, marker, size);
      assert.ok(wasm !== undefined);
      assert.equal(wasm.length, size);
      const js = marker === MARKER ? spliceJs(body, cuts, size) : undefined;
      if (js !== undefined) assert.deepEqual(wasm, js);
      // independent reference: slices and the marker joined
      const parts: Buffer[] = [];
      let from = 0;
      for (let k = 0; k < cuts.length; k += 2) {
        parts.push(body.subarray(from, cuts[k]), marker);
        from = cuts[k + 1]!;
      }
      parts.push(body.subarray(from));
      assert.deepEqual(wasm, Buffer.concat(parts));
    }),
    { numRuns: 300 },
  );
});

test("a result is a copy: the next splice does not change it", () => {
  const a = spliceWasm(Buffer.from("abcdef"), [1, 2], MARKER, 6 + MARKER.length - 1)!;
  const before = Buffer.from(a);
  spliceWasm(Buffer.from("zzzzzzzzzzzz"), [0, 12], Buffer.from("y"), 1);
  assert.deepEqual(a, before);
});

test("bodies above the module's limit are left to the JavaScript splice, with the same result", () => {
  const big = Buffer.alloc(MAX_SPLICED + 10, 0x20);
  big.write('{"password":"hunter2"}', MAX_SPLICED - 5);
  assert.equal(spliceWasm(big, [0, 1], MARKER, big.length - 1 + MARKER.length), undefined);
  const doc = Buffer.from(`[${'"x",'.repeat(MAX_SPLICED / 4)}{"password":"hunter2"}]`);
  const out = compilePaths(["$..password"]).redactBytes!(doc);
  assert.ok(out !== null && out !== undefined);
  assert.ok(out.subarray(out.length - 40).toString().endsWith('{"password":"[CLIENT_REDACTED]"}]'));
  assert.equal(out.length, doc.length - '"hunter2"'.length + MARKER.length);
});

test("a redacted body is the same spliced either way (many cuts: one secret per array element)", () => {
  const items = Array.from({ length: 500 }, (_, i) => ({ id: i, secret: `s-${i}`, name: "é\u2028\"x\"" }));
  const doc = Buffer.from(JSON.stringify(items));
  const out = compilePaths(["$[*].secret"]).redactBytes!(doc)!;
  assert.deepEqual(JSON.parse(out.toString()), items.map((it) => ({ ...it, secret: "[CLIENT_REDACTED]" })));
});

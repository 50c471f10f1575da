// The JSONPath redaction over bytes in WebAssembly (src/jsonpath/wasm/splice.c `redact`, reached
// through redactJsonBytesFast) against the JavaScript pass it stands in for (redactJsonBytes):
// the same bytes out (or the same null for invalid JSON) and the same spans, on generated
// documents and paths and on every case of the JSONPath compliance suite the byte path runs. The
// JavaScript pass is itself held to json-p3 by jsonpath-stream.test.ts and jsonpath-differential.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { JSONPathEnvironment } from "json-p3";
import { StateTable } from "../../src/jsonpath/automaton.js";
import { lowerQuery } from "../../src/jsonpath/program.js";
import { encodeTable, redactJsonBytes, redactJsonBytesFast, streamable } from "../../src/jsonpath/stream.js";
import { redactWasm } from "../../src/jsonpath/wasm/module.js";

const env = new JSONPathEnvironment();
const MARKER = Buffer.from('"[CLIENT_REDACTED]"');

/** The automaton of `paths` when the byte path runs them, else undefined. */
function tableOf(paths: readonly string[]): StateTable | undefined {
  try {
    const programs = paths.map((p) => {
      const q = env.compile(p);
      return lowerQuery(q, q.environment);
    });
    if (programs.some((p) => p === null)) return undefined;
    const lowered = programs as NonNullable<(typeof programs)[number]>[];
    return streamable(lowered) ? new StateTable(lowered) : undefined;
  } catch {
    return undefined;
  }
}

const counts = { wasm: 0, js: 0 };

/** Both passes on `bytes`: equal results and spans; counts which ran the fast one. */
function same(table: StateTable, bytes: Buffer, what: string): void {
  const spansJs: number[] = [];
  const js = redactJsonBytes(bytes, table, spansJs);
  const enc = encodeTable(table);
  const direct = enc === null ? undefined : redactWasm(bytes, enc, MARKER, []);
  if (direct === undefined) counts.js++;
  else counts.wasm++;
  const spans: number[] = [];
  const fast = redactJsonBytesFast(bytes, table, spans);
  assert.equal(fast === null, js === null, `${what}: valid for one pass only`);
  if (js === null || fast === null) return;
  assert.equal(Buffer.from(fast).toString("latin1"), Buffer.from(js).toString("latin1"), what);
  assert.deepEqual(spans, spansJs, `${what}: spans`);
  // the same offsets handed over at once, to a holder, by either pass
  const held = { offsets: [] as ArrayLike<number> };
  const heldJs = { offsets: [] as ArrayLike<number> };
  redactJsonBytesFast(bytes, table, held);
  redactJsonBytes(bytes, table, heldJs);
  assert.deepEqual(Array.from(held.offsets), spansJs, `${what}: spans held`);
  assert.deepEqual(Array.from(heldJs.offsets), spansJs, `${what}: spans held (JavaScript)`);
  assert.equal(fast === bytes, js === bytes, `${what}: unchanged input returned as it is`);
}

const KEYS = ["a", "b", "secret", "token", "password", "ü", "", "x y", 'q"', "back\\slash", "\u0001", "0"];
const valueArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("1", "-0.5e3", "true", "false", "null", '"s"', '"é"', '"\\u0041\\n"', '"' + "x".repeat(40) + '"',
      "0", "-0", "12345678901234567", "1.0000000000000000001", "2E+16", "7e-1234567890123456", "01", "1.", "-", "1e", "2.e3"),
    fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
    fc.array(fc.tuple(fc.constantFrom(...KEYS), tie("value")), { maxLength: 4 }).map((es) => `{${es.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(" , ")}}`),
  ),
})).value as fc.Arbitrary<string>;
const SEGMENTS = [".a", ".b", ".secret", ".token", "['password']", "['ü']", "['']", "['x y']", "[*]", ".*", "..a", "..token", "..*", "[0]", "[1:3]", "['a','b']", "[\"q\\\"\"]"];
const pathArb = fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 }).map((segs) => "$" + segs.join(""));

test("WebAssembly and JavaScript passes: same bytes and spans on generated documents, paths and broken texts", () => {
  fc.assert(
    fc.property(fc.array(pathArb, { minLength: 1, maxLength: 3 }), valueArb, fc.nat(), fc.constantFrom("none", "cut", "byte"), fc.integer({ min: 0, max: 255 }), (paths, doc, at, edit, byte) => {
      const table = tableOf(paths);
      if (table === undefined) return;
      let bytes = Buffer.from(doc);
      if (edit === "cut") bytes = bytes.subarray(0, at % (bytes.length + 1));
      if (edit === "byte" && bytes.length > 0) {
        bytes = Buffer.from(bytes);
        bytes[at % bytes.length] = byte;
      }
      same(table, bytes, `${JSON.stringify(paths)} on ${JSON.stringify(bytes.toString("latin1"))}`);
    }),
    { numRuns: 6000 },
  );
  assert.ok(counts.wasm > 3000, `the WebAssembly pass ran on only ${counts.wasm} inputs (${counts.js} left to JavaScript)`);
});

interface CtsCase { name: string; selector: string; document?: unknown; invalid_selector?: boolean }
const cts = (JSON.parse(readFileSync(new URL("../vendor/jsonpath-cts/cts.json", import.meta.url), "utf8")) as { tests: CtsCase[] }).tests;

test("WebAssembly and JavaScript passes: same bytes and spans on the compliance suite's cases", () => {
  let ran = 0;
  for (const c of cts) {
    if (c.invalid_selector === true || c.document === undefined) continue;
    const table = tableOf([c.selector]);
    if (table === undefined) continue;
    for (const text of [JSON.stringify(c.document), JSON.stringify(c.document, null, 2)]) {
      same(table, Buffer.from(text), `${c.name}: ${c.selector}`);
      ran++;
    }
  }
  assert.ok(ran > 250, `only ${ran} compliance cases ran over bytes`);
});

test("what the WebAssembly pass leaves to JavaScript: index and slice selectors, escaped or non-ASCII names where names are compared, deep nesting", () => {
  assert.equal(encodeTable(tableOf(["$[0]"])!), null);
  assert.equal(encodeTable(tableOf(["$[1:]"])!), null);
  const enc = encodeTable(tableOf(["$.a", "$..token"])!)!;
  assert.notEqual(enc, null);
  assert.equal(redactWasm(Buffer.from('{"\\u0061":1}'), enc, MARKER, []), undefined);
  assert.equal(redactWasm(Buffer.from('{"ü":1}'), enc, MARKER, []), undefined);
  assert.equal(redactWasm(Buffer.from("[".repeat(2000) + "]".repeat(2000)), enc, MARKER, []), undefined);
  assert.equal(redactWasm(Buffer.from('{"a":1,}'), enc, MARKER, []), null);
  assert.equal(Buffer.from(redactWasm(Buffer.from('{"a":{"x":[1]},"b":[{"token":"t"}]}'), enc, MARKER, [])!).toString(), '{"a":"[CLIENT_REDACTED]","b":[{"token":"[CLIENT_REDACTED]"}]}');
});

// JSON validation in WebAssembly (src/jsonpath/wasm/splice.c `validate`, isJsonWasm): what a body
// no path can match costs. It must say exactly what the JavaScript tokenizer (isJsonBytes) and
// JSON.parse say, on valid JSON, JSON with one byte changed, cut or grown, and random bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { isJsonWasm } from "../../src/jsonpath/wasm/module.js";
import { isJsonBytes } from "../../src/jsonpath/stream.js";

function parses(b: Buffer): boolean {
  try {
    JSON.parse(b.toString("utf8"));
    return true;
  } catch {
    return false;
  }
}

/** A byte that matters to the grammar, or any byte. */
const byteArb = fc.oneof(fc.constantFrom(...Buffer.from('"\\{}[],:. \t\n\r-+0123456789eEtrufalsn/bu')), fc.integer({ min: 0, max: 255 }));

const bodyArb = fc.tuple(
  fc.oneof(fc.json({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v, null, 2) ?? "null")),
  fc.array(fc.tuple(fc.nat(), fc.constantFrom("set", "insert", "delete", "cut"), byteArb), { maxLength: 3 }),
).map(([text, edits]) => {
  let b = Buffer.from(text);
  for (const [at, op, byte] of edits) {
    const k = b.length === 0 ? 0 : at % b.length;
    if (op === "set" && b.length > 0) b[k] = byte;
    else if (op === "insert") b = Buffer.concat([b.subarray(0, k), Buffer.from([byte]), b.subarray(k)]);
    else if (op === "delete") b = Buffer.concat([b.subarray(0, k), b.subarray(k + 1)]);
    else if (op === "cut") b = b.subarray(0, k);
  }
  return b;
});

test("isJsonWasm agrees with isJsonBytes and JSON.parse on valid and broken JSON", () => {
  let valid = 0;
  fc.assert(
    fc.property(bodyArb, (b) => {
      const js = isJsonBytes(b);
      assert.equal(isJsonWasm(b), js, JSON.stringify(b.toString("latin1")));
      assert.equal(js, parses(b), JSON.stringify(b.toString("latin1")));
      if (js) valid++;
    }),
    { numRuns: 5000 },
  );
  assert.ok(valid > 500, `only ${valid} valid bodies drawn`);
});

test("isJsonWasm on random bytes and on strings long enough for its 16-byte string scan", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (u) => {
      const b = Buffer.from(u);
      assert.equal(isJsonWasm(b), isJsonBytes(b));
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 80, unit: "binary" }), fc.nat(40), (s, pad) => {
      const b = Buffer.from(" ".repeat(pad) + JSON.stringify({ k: s, a: [s, s.length] }));
      assert.equal(isJsonWasm(b), true);
      const cut = b.subarray(0, b.length - 1 - (pad % 5));
      assert.equal(isJsonWasm(cut), isJsonBytes(cut));
    }),
    { numRuns: 3000 },
  );
});

test("isJsonWasm: nesting deeper than it tracks is left to JavaScript; the edges of the grammar", () => {
  assert.equal(isJsonWasm(Buffer.from("[".repeat(5000) + "]".repeat(5000))), undefined);
  assert.equal(isJsonWasm(Buffer.from("[".repeat(4000) + "]".repeat(4000))), true);
  for (const [text, ok] of [["", false], [" ", false], ["0", true], ["-", false], ["01", false], ["1.", false], ["1e", false], ["1e+5", true],
    ['"\\u12"', false], ['"\\u12aF"', true], ['"a\u0000"', false], ["tru", false], ["nul", false], ["[1,]", false], ['{"a":1,}', false], ["[1] ", true], ["[1]x", false],
    ['{"a" : [ {"b":null} , false ]}', true], [`"${"x".repeat(100)}"`, true], [`"${"x".repeat(100)}`, false]] as const) {
    assert.equal(isJsonWasm(Buffer.from(text)), ok, JSON.stringify(text));
  }
});

/** A number-like token: the grammar's parts (sign, leading zeros, fraction, exponent) and digit runs around 16 bytes long. */
const digitsArb = fc.oneof(fc.nat(40), fc.constantFrom(0, 1, 15, 16, 17, 31, 32, 33)).map((n) => "1234567890".repeat(5).slice(0, n));
const numberArb = fc.tuple(fc.constantFrom("", "-", "+", "--"), fc.constantFrom("", "0", "00", "01", "1", "9"), digitsArb,
  fc.constantFrom("", ".", "."), digitsArb, fc.constantFrom("", "e", "E", "e+", "E-", "e-+"), digitsArb, fc.boolean()).map(
  ([sign, lead, run, dot, frac, exp, expDigits, fraction]) => sign + lead + run + (fraction ? dot + frac : "") + (exp === "" ? "" : exp + expDigits));

test("isJsonWasm: numbers of every shape, digit runs across its 16-byte blocks, alone, in containers and at the end of the text", () => {
  fc.assert(
    fc.property(numberArb, fc.constantFrom("%", "[%]", "[%,1]", '{"a":%}', '{"a":%, "b":2}', "[1,% ]", "%x", " % "), (num, shape) => {
      const b = Buffer.from(shape.replace("%", num));
      const js = isJsonBytes(b);
      assert.equal(isJsonWasm(b), js, JSON.stringify(b.toString("latin1")));
      assert.equal(js, parses(b), JSON.stringify(b.toString("latin1")));
    }),
    { numRuns: 6000 },
  );
});

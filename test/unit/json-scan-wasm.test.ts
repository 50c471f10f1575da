// The JSON scan in WebAssembly (src/jsonpath/wasm/splice.c's validate, whose strings are skipped
// 16 bytes at a time) against the JavaScript tokenizer (isJsonBytes) and JSON.parse, on bodies
// built to land on the edges of any block-wise scan: escapes and backslash runs across 16- and
// 64-byte boundaries and 16 KiB windows, multi-byte UTF-8 split between blocks, invalid UTF-8,
// control characters, deep nesting, numbers and literals at the very end. (Written for, and
// passed by, the simdjson-style scan tried and not kept: bench/notes.md.) Also: the detectors'
// prefilter the redaction runs on its own output (forgetFound / foundDetectors) says what
// mayMatchDetectors says of the text that comes out, literals inside and outside replaced values.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { JSONPathEnvironment } from "json-p3";
import { StateTable } from "../../src/jsonpath/automaton.js";
import { lowerQuery } from "../../src/jsonpath/program.js";
import { encodeTable, isJsonBytes, redactJsonBytes } from "../../src/jsonpath/stream.js";
import { forgetFound, foundDetectors, isJsonWasm, mayMatchDetectors, redactWasm } from "../../src/jsonpath/wasm/module.js";

function parses(b: Buffer): boolean {
  try {
    JSON.parse(b.toString("utf8"));
    return true;
  } catch {
    return false;
  }
}

/** isJsonWasm, isJsonBytes and JSON.parse agree on `b`; returns the verdict. */
function agree(b: Buffer, what = JSON.stringify(b.toString("latin1").slice(0, 200))): boolean {
  const js = isJsonBytes(b);
  assert.equal(isJsonWasm(b), js, `wasm vs js: ${what}`);
  assert.equal(js, parses(b), `js vs JSON.parse: ${what}`);
  return js;
}

/** `s` placed so that it starts `at` bytes into a body (a string of padding before it). */
function placed(at: number, s: string): Buffer {
  // ["<pad>",<s>]: the 2 bytes `["`, the pad, the 2 bytes `",`
  const pad = Math.max(0, at - 4);
  return Buffer.from(`["${"p".repeat(pad)}",${s}]`);
}

test("backslash runs and escapes across 16- and 64-byte block boundaries and 16 KiB windows", () => {
  let valid = 0;
  for (const base of [0, 16, 48, 64, 128, 16384, 32768]) {
    for (let shift = -6; shift <= 6; shift++) {
      for (let run = 1; run <= 6; run++) {
        const at = base + shift;
        if (at < 4) continue;
        // a string whose backslash run ends right at/around `at`, then a quote: odd runs escape it
        const inner = "\\".repeat(run);
        for (const tail of ['"', 'n"', 'u00e9"', 'x"', '"]', 'u12"']) {
          const b = placed(at - run, `"${inner}${tail}`);
          if (agree(b)) valid++;
        }
      }
    }
  }
  assert.ok(valid > 100, `only ${valid} valid`);
});

test("multi-byte UTF-8 split between blocks, invalid UTF-8, control characters, bytes >= 0x80 outside strings", () => {
  const chars = ["é", "€", "😀", "\u{10ffff}"];
  for (let at = 4; at < 140; at++) {
    for (const c of chars) agree(placed(at, JSON.stringify(c + "x")));
    for (const bad of [[0xc3], [0xe2, 0x82], [0xff], [0xf0, 0x9f, 0x98], [0x80, 0x80]]) {
      const b = Buffer.concat([placed(at, '"'), Buffer.from(bad), Buffer.from('"]')]);
      // invalid UTF-8 inside a string: JSON.parse of the decoded text accepts it (U+FFFD), so do both tokenizers
      assert.equal(agree(Buffer.concat([placed(at, '"a'), Buffer.from(bad), Buffer.from('"]')])), true);
      agree(b);
      agree(Buffer.concat([placed(at, ""), Buffer.from(bad), Buffer.from("]")])); // outside a string: invalid
    }
    for (const ctl of [0, 1, 9, 10, 13, 31, 127]) agree(Buffer.concat([placed(at, '"a'), Buffer.from([ctl]), Buffer.from('"]')]));
  }
});

test("numbers, literals and strings at the very end of the text, at every length around a block", () => {
  for (const tail of ["0", "-0", "1.5e-3", "1e", "1.", "-", "01", "true", "tru", "false", "null", "nul", '"x"', '"x', '"x\\"', '"x\\\\"', "{}", "[]", "[", "{", "}"]) {
    for (let pad = 0; pad < 140; pad++) {
      agree(Buffer.from(" ".repeat(pad) + tail));
      agree(Buffer.from(" ".repeat(pad) + tail + " \n"));
      agree(Buffer.from(`[${'"a",'.repeat(pad)}${tail}]`));
    }
  }
});

test("deep nesting: within the limit checked here, deeper left to JavaScript", () => {
  for (const depth of [1, 63, 64, 65, 1000, 4095, 4096]) {
    assert.equal(isJsonWasm(Buffer.from("[".repeat(depth) + "]".repeat(depth))), true, `${depth}`);
    assert.equal(isJsonWasm(Buffer.from('{"a":'.repeat(depth) + "1" + "}".repeat(depth))), true, `${depth}`);
    assert.equal(isJsonWasm(Buffer.from("[".repeat(depth) + "]".repeat(depth - 1))), false, `${depth}`);
  }
  // (the innermost empty container takes no frame: 4,097 levels fit in 4,096 frames)
  assert.equal(isJsonWasm(Buffer.from("[".repeat(4097) + "]".repeat(4097))), true);
  assert.equal(isJsonWasm(Buffer.from("[".repeat(4098) + "]".repeat(4098))), undefined);
});

/** Strings with escapes, backslash runs and multi-byte characters, of every length around 16 and 64. */
const stringArb = fc.array(fc.oneof(fc.constantFrom("\\\\", '\\"', "\\n", "\\u00e9", "\\/", "é", "😀", "a", " ", "{", "]", ",", ":", '\\\\\\"'), fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s).slice(1, -1))), { maxLength: 40 }).map((parts) => `"${parts.join("")}"`);
const valueArb = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    stringArb,
    fc.constantFrom("0", "-1.25e+7", "true", "false", "null", "123456789012345678901234567890"),
    fc.array(tie("value"), { maxLength: 5 }).map((items) => `[${items.join(",")}]`),
    fc.array(fc.tuple(stringArb, tie("value")), { maxLength: 5 }).map((es) => `{${es.map(([k, v]) => `${k} : ${v}`).join(",\n")}}`),
  ),
})).value as fc.Arbitrary<string>;

test("generated bodies with escapes and multi-byte text, shifted over the block boundaries, edited and cut", () => {
  let valid = 0;
  fc.assert(
    fc.property(valueArb, fc.nat(70), fc.nat(), fc.constantFrom("none", "cut", "byte", "insert"), fc.integer({ min: 0, max: 255 }), (doc, pad, at, edit, byte) => {
      let b = Buffer.from(" ".repeat(pad) + doc);
      if (edit === "cut") b = b.subarray(0, at % (b.length + 1));
      if (edit === "byte" && b.length > 0) {
        b = Buffer.from(b);
        b[at % b.length] = byte;
      }
      if (edit === "insert") b = Buffer.concat([b.subarray(0, at % (b.length + 1)), Buffer.from([byte]), b.subarray(at % (b.length + 1))]);
      if (agree(b)) valid++;
    }),
    { numRuns: 4000 },
  );
  assert.ok(valid > 800, `only ${valid} valid bodies drawn`);
});

test("bodies over several 16 KiB windows: strings, escapes and numbers across the window boundaries", () => {
  // a window with no structural position at all (inside one long string)
  for (const n of [16380, 16390, 32760, 32770, 49160, 65540]) {
    for (const s of ['"\\n"', '"a"', "1", '{"k":[true]}']) agree(Buffer.from(`["${"p".repeat(n)}",${s}]`), `${n} ${s}`);
  }
  fc.assert(
    fc.property(fc.array(valueArb, { minLength: 1, maxLength: 8 }), fc.integer({ min: 16300, max: 16400 }), fc.nat(), fc.boolean(), (docs, size, at, flip) => {
      const items: string[] = [];
      let n = 2;
      for (let k = 0; n < size * 2; k++) {
        const d = docs[k % docs.length]!;
        items.push(d);
        n += d.length + 1;
      }
      let b = Buffer.from(`[${items.join(",")}]`);
      if (flip) {
        b = Buffer.from(b);
        b[16384 + (at % 200) - 100] = 0x5c; // a backslash near the first window's end
      }
      agree(b, `${b.length} bytes`);
    }),
    { numRuns: 150 },
  );
});

const env = new JSONPathEnvironment();
function tableOf(paths: readonly string[]): StateTable {
  return new StateTable(paths.map((p) => {
    const q = env.compile(p);
    return lowerQuery(q, q.environment)!;
  }));
}
const MARKER = Buffer.from('"[CLIENT_REDACTED]"');
const SECRETS = ["eyJhbGciOiJIUzI1NiJ9", "Bearer abc", "bearer\tx", "AKIAABCDEFGHIJKLMNOP", "ASIA", "A3T", "-----BEGIN RSA PRIVATE KEY-----", "50% off", "a\\\\b", "ey", "Bearerx", "AKI", "PRIVATE KE"];

test("the literals the scan finds in what it returns equal the byte prefilter's verdict, inside and outside replaced values", () => {
  const table = tableOf(["$.secret", "$[*].secret", "$..token"]);
  const enc = encodeTable(table)!;
  assert.notEqual(enc, null);
  let hits = 0;
  fc.assert(
    fc.property(
      fc.array(fc.record({ key: fc.constantFrom("secret", "token", "note", "other"), value: fc.constantFrom(...SECRETS), nested: fc.boolean() }), { maxLength: 6 }),
      fc.nat(80),
      (members, pad) => {
        const obj = `{"pad":"${"x".repeat(pad)}",${members.map((m) => `"${m.key}":${m.nested ? `{"v":${JSON.stringify(m.value)}}` : JSON.stringify(m.value)}`).concat(['"z":0']).join(",")}}`;
        const b = Buffer.from(`[${obj},${obj}]`);
        const js = redactJsonBytes(b, table);
        for (const bits of [1, 2, 4, 8, 15]) {
          forgetFound(bits);
          const out = redactWasm(b, enc, MARKER, []);
          assert.notEqual(out, undefined);
          assert.notEqual(out, null);
          assert.equal(Buffer.from(out!).toString(), js!.toString());
          const found = foundDetectors();
          assert.equal(found, mayMatchDetectors(Buffer.from(out!), bits), `${bits}: ${b.toString()}`);
          if (found === true) hits++;
          // validation alone: its input
          forgetFound(bits);
          assert.equal(isJsonWasm(b), true);
          assert.equal(foundDetectors(), mayMatchDetectors(b, bits));
        }
        // not asked: not run
        forgetFound();
        redactWasm(b, enc, MARKER, []);
        assert.equal(foundDetectors(), undefined);
      },
    ),
    { numRuns: 1500 },
  );
  assert.ok(hits > 500, `only ${hits} found`);
});

test("member names of every length around the 16-byte block the name test reads, plain, escaped, non-ASCII: the same as the JavaScript pass", () => {
  const names = ["k".repeat(15), "k".repeat(16), "k".repeat(17)];
  const table = tableOf(names.map((n) => `$..['${n}']`).concat(["$[*].secret"]));
  const enc = encodeTable(table)!;
  for (let len = 0; len <= 40; len++) {
    for (const form of ["plain", "escaped", "unicode", "control", "quote"]) {
      let name = "k".repeat(len);
      if (form === "escaped" && len > 0) name = "\\u006b" + name.slice(1);
      if (form === "unicode") name = name + "é";
      if (form === "control") name = name + "\u0001";
      if (form === "quote" && len > 0) name = name.slice(1) + '\\"';
      const b = Buffer.from(`[{"${name}":1,"secret":2}]`); // ("control": not JSON, null from both)
      const js = redactJsonBytes(b, table);
      const out = redactWasm(b, enc, MARKER, undefined);
      if (out === undefined) {
        assert.ok(form === "escaped" || form === "unicode" || form === "quote", `${form} ${len}: left to JavaScript`);
        continue;
      }
      assert.equal(out === null, js === null, `${form} ${len}`);
      if (out !== null) assert.equal(Buffer.from(out).toString(), js!.toString(), `${form} ${len}`);
    }
  }
});

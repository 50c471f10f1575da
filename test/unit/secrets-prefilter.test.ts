// The byte-level prefilter of the default value detectors (src/jsonpath/wasm, mayMatchDetectors):
// it may only say "nothing to find" when the detectors, scanning the decoded text, find nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { mayMatchDetectors, PREFILTERED } from "../../src/jsonpath/wasm/module.js";
import { compileValues, type ValueDetectorName } from "../../src/redact/values.js";
import { renderBody } from "../../src/redact/body.js";
import { compilePaths } from "../../src/jsonpath/index.js";

const NAMES = Object.keys(PREFILTERED) as ValueDetectorName[];
const FRAGMENTS = [
  "eyJhbGciOiJIUzI1NiJ9", ".eyJzdWIiOiIxIn0", ".c2lnbmF0dXJl", "ey", "J", "AKIA", "ASIA", "ABIA", "A3T", "ACCA", "0123456789ABCDEF",
  "Bearer ", "bEaReR\t", "bearer", " abcdefgh123", "-----BEGIN RSA PRIVATE KEY-----", "PRIVATE KEY", "-----END RSA PRIVATE KEY-----",
  "\\", "\\u0041KIA", "%", "%41KIA", "\"", ":", ",", " ", "é", "\u2028", "x", "{", "}",
];
const bodyArb = fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 4 })), { maxLength: 40 }).map((parts) => parts.join(""));

test("the WebAssembly prefilter loads and checks (Node 20 and later)", () => {
  assert.equal(mayMatchDetectors(Buffer.from('{"a":"plain"}'), 15), false);
  assert.equal(mayMatchDetectors(Buffer.from('{"a":"Bearer abcdefgh12"}'), 15), true);
});

test("prefilter false => no detector of the subset finds anything in the decoded text (every subset of the defaults)", () => {
  fc.assert(
    fc.property(bodyArb, fc.integer({ min: 1, max: 15 }), fc.boolean(), (text, bits, junk) => {
      const bytes = junk ? Buffer.concat([Buffer.from(text), Buffer.from([0xc3, 0xff, 0x80, 0x41])]) : Buffer.from(text);
      const names = NAMES.filter((n) => (bits & PREFILTERED[n as keyof typeof PREFILTERED]) !== 0);
      const values = compileValues(names);
      assert.equal(values.prefilter, bits);
      const decoded = bytes.toString("utf8");
      if (mayMatchDetectors(bytes, bits) === false) {
        assert.equal(values.mayMatch(decoded), false, `prefilter missed a match in ${JSON.stringify(decoded)}`);
        assert.equal(values.redact(decoded), undefined);
      }
    }),
    { numRuns: 2000 },
  );
});

test("prefilter is only used for the default detectors: any other detector turns it off", () => {
  assert.equal(compileValues(["jwt", "email"]).prefilter, 0);
  assert.equal(compileValues(["jwt", /secret-\d+/]).prefilter, 0);
  assert.equal(compileValues(["creditCard"]).prefilter, 0);
  assert.equal(compileValues(undefined).prefilter, 15);
});

test("JSON bodies: what the prefilter passes is what the detectors leave alone; secrets still redacted", () => {
  const paths = compilePaths(["$.password"]);
  const values = compileValues(undefined);
  const render = (text: string) => renderBody({ chunks: [Buffer.from(text)], keptBytes: Buffer.byteLength(text), totalBytes: Buffer.byteLength(text) }, "application/json", undefined, paths, 1 << 20, { values }).toString();
  const noPaths = (text: string) => renderBody({ chunks: [Buffer.from(text)], keptBytes: Buffer.byteLength(text), totalBytes: Buffer.byteLength(text) }, "application/json", undefined, compilePaths([]), 1 << 20, { values }).toString();
  for (const r of [render, noPaths]) {
    assert.equal(r('{"a":"plain text","n":[1,2,3]}'), '{"a":"plain text","n":[1,2,3]}');
    assert.equal(r('{"auth":"Bearer abcdefgh12345"}'), '{"auth":"[CLIENT_REDACTED]"}');
    assert.equal(r('{"key":"AKIAABCDEFGHIJKLMNOP"}'), '{"key":"[CLIENT_REDACTED]"}');
    assert.equal(r('{"t":"\\u0065yJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"}'), '{"t":"[CLIENT_REDACTED]"}');
  }
  assert.equal(render('{"password":"x","a":"plain"}'), '{"password":"[CLIENT_REDACTED]","a":"plain"}');
});

test("prefilter finds each literal at every offset, across the 16-byte blocks, in text full of the literals' first bytes", () => {
  // `b`, `e`, `y`, `J`, `A`, `P` alone everywhere: candidates for the block test, each ruled out by the scalar check.
  const filler = "byJ Aa Pb eJ yA bE AX PX ";
  const secrets: Array<[string, number]> = [
    ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", 1], ["Bearer abcdefgh12345", 2], ["bEaReR\tabcdefgh12345", 2],
    ["AKIAABCDEFGHIJKLMNOP", 4], ["ASIAABCDEFGHIJKLMNOP", 4], ["ABIAABCDEFGHIJKLMNOP", 4], ["A3TXABCDEFGHIJKLMNOP", 4],
    ["-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", 8], ["\\u0041", 15], ["%41", 15],
  ];
  for (let at = 0; at < 40; at++) {
    const head = filler.repeat(3).slice(0, at);
    assert.equal(mayMatchDetectors(Buffer.from(head + filler.repeat(4)), 15), false, `filler alone at ${at}`);
    for (const [secret, bits] of secrets) {
      const text = head + secret + filler.repeat(2);
      assert.equal(mayMatchDetectors(Buffer.from(text), bits), true, `${JSON.stringify(secret)} at ${at}`);
      if (bits !== 15) assert.equal(compileValues(NAMES.filter((n) => (bits & PREFILTERED[n as keyof typeof PREFILTERED]) !== 0)).mayMatch(text), true, "a real secret");
    }
  }
});

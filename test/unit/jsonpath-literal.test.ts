// The rare-byte literal search of the redaction's prefilter (src/jsonpath/literal.ts) says what
// Buffer#includes says, whatever the body: frequent rare bytes, overlaps, matches at either end.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { includesLiteral, literal } from "../../src/jsonpath/literal.js";

test("includesLiteral agrees with Buffer#includes on random bodies and literals", () => {
  const alphabet = fc.constantFrom(..."\"pasword:,{} wxz\\".split(""));
  const text = (max: number) => fc.array(alphabet, { maxLength: max }).map((cs) => cs.join(""));
  fc.assert(
    fc.property(text(3000), text(10).filter((t) => t.length > 0), (body, lit) => {
      const hay = Buffer.from(body);
      assert.equal(includesLiteral(hay, literal(lit)), hay.includes(Buffer.from(lit)));
    }),
    { numRuns: 500 },
  );
});

test("includesLiteral: found at the start, at the end, after many false hits of its rare byte", () => {
  const lit = literal('"password"');
  assert.equal(includesLiteral(Buffer.from('"password"'), lit), true);
  assert.equal(includesLiteral(Buffer.from('{"a":1,"password"'), lit), true);
  assert.equal(includesLiteral(Buffer.from('"passwor'), lit), false);
  const many = "w".repeat(100_000);
  assert.equal(includesLiteral(Buffer.from(many + '"password"'), lit), true);
  assert.equal(includesLiteral(Buffer.from(many + '"passwor"'), lit), false);
  assert.equal(includesLiteral(Buffer.from('"password"' + many), lit), true);
  assert.equal(includesLiteral(Buffer.from("é\"password\"é"), literal('"password"')), true);
  assert.equal(includesLiteral(Buffer.from("xé"), literal("é")), true);
});

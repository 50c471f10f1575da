/**
 * The parse-free fast path (`CompiledPaths.mayMatch`): a JSON text it clears must be one in which
 * no configured path selects anything, whatever the document and the paths. Random documents
 * (keys that collide with the paths' names, escapes, non-ASCII) against random paths.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { compilePaths } from "../../src/jsonpath/index.js";
import { renderBody } from "../../src/redact/body.js";

const NAMES = ["password", "token", "secret", "a", "pass", "passwordx", "ü", 'q"uote', "back\\slash"];
const key = fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 6 }), fc.constantFrom("pass\u0077ord", "tok\u00e9n"));
const leaf = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...NAMES), fc.integer(), fc.boolean(), fc.constant(null));
const doc = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, leaf, tie("object"), tie("array")),
  object: fc.dictionary(key, tie("value"), { maxKeys: 4 }),
  array: fc.array(tie("value"), { maxLength: 4 }),
})).value;
const path = fc.oneof(
  fc.constantFrom(...NAMES).map((n) => `$.${/^[a-z]+$/.test(n) ? n : `[${JSON.stringify(n)}]`}`.replace(".[", "[")),
  fc.constantFrom(...NAMES).map((n) => `$..${/^[a-z]+$/.test(n) ? n : `[${JSON.stringify(n)}]`}`.replace("..[", "..[")),
  fc.constantFrom("$[*].secret", "$.a.password", "$..a.token", "$.a[0]", "$..*", "$[?@.a=='x'].token", "$"),
);

test("mayMatch is false only where no path selects anything", () => {
  fc.assert(
    fc.property(doc, fc.array(path, { minLength: 1, maxLength: 3 }), fc.boolean(), (value, paths, pretty) => {
      const compiled = compilePaths(paths);
      const text = JSON.stringify(value, null, pretty ? 2 : undefined) ?? "null";
      if (!compiled.mayMatch(text)) {
        assert.deepEqual(compiled.locations(JSON.parse(text)), [], `${paths.join(" ")} on ${text}`);
      }
    }),
    { numRuns: 5000 },
  );
});

test("mayMatch lets clean bodies through unchanged and still checks every body that could match", () => {
  const paths = compilePaths(["$.password", "$[*].secret", "$..token"]);
  assert.equal(paths.mayMatch('{"ok":true}'), false);
  assert.equal(paths.mayMatch('[{"id":1,"name":"x"}]'), false);
  assert.equal(paths.mayMatch('{"password":"x"}'), true);
  assert.equal(paths.mayMatch('{"note":"my token is here"}'), false, "a bare word is not a key");
  assert.equal(paths.mayMatch('{"note":"token"}'), true, "a value equal to a name: checked (conservative)");
  assert.equal(paths.mayMatch('{"pass\\u0077ord":"x"}'), true, "an escape could spell a name");
  assert.equal(compilePaths(["$.a[0]"]).mayMatch('{"b":1}'), true, "paths not ending in names always parse");
  assert.equal(compilePaths(["$..*"]).mayMatch("{}"), true);
  // Through renderBody: a clean body is sent byte for byte (whitespace kept), a matching one redacted.
  const clean = Buffer.from('{ "ok" : true }');
  const out = renderBody({ chunks: [clean], keptBytes: clean.length, totalBytes: clean.length }, "application/json", undefined, paths, 1 << 20);
  assert.equal(out.toString(), '{ "ok" : true }');
  const secret = Buffer.from('{"token":"t-123"}');
  const red = renderBody({ chunks: [secret], keptBytes: secret.length, totalBytes: secret.length }, "application/json", undefined, paths, 1 << 20);
  assert.equal(red.toString(), '{"token":"[CLIENT_REDACTED]"}');
  // Invalid JSON fails closed, whether or not a name of the rules is in it.
  for (const text of ['{"password":"x",', "{not json", "password=hunter2"]) {
    const broken = Buffer.from(text);
    assert.equal(renderBody({ chunks: [broken], keptBytes: broken.length, totalBytes: broken.length }, "application/json", undefined, paths, 1 << 20).toString(), '"[CLIENT_REDACTED]"', text);
  }
});

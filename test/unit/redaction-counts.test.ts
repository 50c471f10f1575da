// stats().redactions for body paths: what the byte-level redaction counts (from the spans it
// replaced) equals what the parse-based report finds, for any document and mix of paths. A value
// replaced whole is counted once, for its rule: what a rule would have matched inside it (the
// report lists those too, as where each rule matched) is not counted again.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { resolveOptions } from "../../src/config/options.js";
import { renderBody } from "../../src/redact/body.js";

const NAMES = ["password", "token", "secret", "note", "id"];
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.string(), fc.integer(), fc.constant("[CLIENT_REDACTED]"), tie("object"), tie("array")),
  object: fc.dictionary(fc.constantFrom(...NAMES), tie("value"), { maxKeys: 5 }),
  array: fc.array(tie("value"), { maxLength: 4 }),
})).value;

function counts(paths: string[], text: string, report: boolean): Record<string, number> {
  const cfg = resolveOptions({ apiKey: "k", redactResponseBody: paths, redactValues: [] });
  const hits: Array<[string, number, string]> = [];
  const tally = (rule: string, n: number, where = "$"): void => void hits.push([rule, n, where]);
  const b = Buffer.from(text);
  renderBody({ chunks: [b], keptBytes: b.length, totalBytes: b.length }, "application/json", undefined, cfg.responsePaths, 1 << 20,
    { named: cfg.redaction.named?.response, tally, report });
  // The report's locations inside another match's value were replaced with it: not counted again.
  // (and a value two rules matched was replaced once: the first rule configured has it).
  const outer = report ? hits.filter(([, , w], i) => !hits.some(([, , o], j) => (o !== w && w.startsWith(o + "[")) || (o === w && j < i))) : hits;
  const out: Record<string, number> = {};
  for (const [rule, n] of outer) out[rule] = (out[rule] ?? 0) + n;
  return out;
}

test("the stream redaction counts each rule as the parse-based report does", () => {
  const pathSets = [["$.password"], ["$.password", "$..token"], ["$[*].secret", "$..token", "$.password"], ["$..password", "$..token", "$..secret"], ["$..id", "$.note[0]"]];
  fc.assert(fc.property(json, fc.constantFrom(...pathSets), fc.constantFrom(0, 2), (doc, paths, indent) => {
    const text = JSON.stringify(doc, null, indent);
    assert.deepEqual(counts(paths, text, false), counts(paths, text, true), text);
  }), { numRuns: 2000 });
});

test("a marker already in the document is not counted as a redaction", () => {
  const text = '{"note":"[CLIENT_REDACTED]","password":"x","items":[{"token":"t"},{"token":"[CLIENT_REDACTED]"}]}';
  assert.deepEqual(counts(["$.password", "$..token"], text, false), { "body:$.password": 1, "body:$..token": 2 });
  assert.deepEqual(counts(["$.password"], text, false), { "body:$.password": 1 });
});

test("a container replaced for its depth is not counted for the one rule whose name is in the body", () => {
  // `$..password` must look into every level: the stream redaction replaces the array nested past
  // MAX_DEPTH (fail closed), which is no match of `$[*].secret`, the only rule named in the body.
  const deep = "[".repeat(10_050) + "1" + "]".repeat(10_050);
  const text = `[{"secret":"x"},${deep},{"secret":"y"}]`;
  assert.deepEqual(counts(["$[*].secret", "$..password"], text, false), { "body:$[*].secret": 2 });
});

// Text bodies (not JSON, not a form) with the default detectors: the byte prefilter spares the
// decoded text, and a body cut at the limit has only its tail decoded (src/redact/body.ts,
// redactText and cutTailBytes). The result must be what the text scan gives, byte for byte: the
// same bodies rendered here and in `node --jitless`, where WebAssembly is missing and every body
// is decoded and scanned as before.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { renderBody } from "../../src/redact/body.js";
import { mayMatchDetectors } from "../../src/jsonpath/wasm/module.js";
import { compilePaths } from "../../src/jsonpath/index.js";
import { compileValues } from "../../src/redact/values.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Bodies as base64, each with its content type and whether it was cut at the limit. */
type Case = [string, string, boolean];

/** The rendered bodies (base64) of `cases` with their redaction counts, in a child process (flags as given). */
function renderIn(flags: string[], cases: readonly Case[]): { wasm: boolean; out: string[] } {
  const script = `
    const { renderBody } = await import("./src/redact/body.ts");
    const { compilePaths } = await import("./src/jsonpath/index.ts");
    const { compileValues } = await import("./src/redact/values.ts");
    const { mayMatchDetectors } = await import("./src/jsonpath/wasm/module.ts");
    const { readFileSync } = await import("node:fs");
    const values = compileValues(undefined);
    const paths = compilePaths(["$.password"]);
    const out = JSON.parse(readFileSync(0, "utf8")).map(([b64, type, cut]) => {
      const bytes = Buffer.from(b64, "base64");
      const counts = [];
      const body = renderBody({ chunks: [bytes], keptBytes: bytes.length, totalBytes: bytes.length + (cut ? 10 : 0) }, type, undefined, paths, 1 << 20, {
        values,
        tally: (rule, n) => void counts.push(rule + ":" + n),
      });
      return body.toString("base64") + " " + counts.join(",");
    });
    process.stdout.write(JSON.stringify({ wasm: mayMatchDetectors(Buffer.from("x"), 15) !== undefined, out }));
  `;
  const r = spawnSync(process.execPath, [...flags, "--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", input: JSON.stringify(cases), timeout: 120_000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { wasm: boolean; out: string[] };
}

const FRAGMENTS = [
  "streamed-bytes;", "lorem ipsum ", "b", "be", "Bear", "Bearer ", "bearer\t", "abcdefgh12345", "eyJhbGciOiJIUzI1NiJ9", ".eyJzdWIiOiIxIn0.c2ln", "ey", "J",
  "AKIA", "AKIAABCDEFGHIJKLMNOP", "A3T", "ASIAABCD", "4111", " ", "-", "1111 1111 1111", "-----BEGIN RSA PRIVATE KEY-----\n", "MIIB", "-----END RSA PRIVATE KEY-----",
  "AROA", "AGPAQ", "ACCA1234", "bearer\n", "Bearer\u00a0", "BEARER \r\n", "-----BEGIN", "PRIVATE KEY", "%", "%41KIA", "\\", "é", "\u00a0", "\u2028", "x@example.com", "\n", "<p>", "[", "{", "\"",
];
const textArb = fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 6 })), { maxLength: 30 }).map((parts) => parts.join(""));
const caseArb: fc.Arbitrary<Case> = fc.tuple(
  textArb,
  fc.constantFrom("text/plain; charset=utf-8", "text/html", "application/x-unknown", ""),
  fc.boolean(),
  fc.constantFrom(Buffer.alloc(0), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from([0xff, 0x41])),
  fc.boolean(),
).map(([text, type, cut, junk, junkFirst]) => {
  const bytes = junkFirst ? Buffer.concat([junk, Buffer.from(text)]) : Buffer.concat([Buffer.from(text), junk]);
  return [bytes.toString("base64"), type, cut];
});

test("text bodies, cut or whole: the same rendered bytes and counts with the byte prefilter as with the text scan (node --jitless)", () => {
  const cases = fc.sample(caseArb, 1500);
  // Long ones too: 64 KiB of the bench's stream, cut, ending in each fragment.
  const stream = Buffer.alloc(64 * 1024 - 40, "streamed-bytes;").toString();
  for (const f of FRAGMENTS) cases.push([Buffer.from(stream + " " + f + f).toString("base64"), "text/plain; charset=utf-8", true]);
  const here = renderIn([], cases);
  const jitless = renderIn(["--jitless"], cases);
  assert.equal(here.wasm, true, "WebAssembly did not load in a plain node");
  assert.equal(jitless.wasm, false, "--jitless should leave WebAssembly out");
  const prefiltered = cases.filter(([b64]) => mayMatchDetectors(Buffer.from(b64, "base64"), 15) === false).length;
  assert.ok(prefiltered > cases.length / 4, `the prefilter ruled out only ${prefiltered} of ${cases.length} bodies: the fast path is not exercised`);
  for (let i = 0; i < cases.length; i++) {
    assert.equal(here.out[i], jitless.out[i], `case ${i}: ${JSON.stringify(Buffer.from(cases[i]![0], "base64").toString())} (${cases[i]![1]}, cut ${cases[i]![2]})`);
  }
});

test("a text body cut at the limit: a secret's start at its end is cut off, plain text is not", () => {
  const values = compileValues(undefined);
  const paths = compilePaths([]);
  const cut = (text: string): string => {
    const b = Buffer.from(text);
    return renderBody({ chunks: [b], keptBytes: b.length, totalBytes: b.length + 1 }, "text/plain", undefined, paths, 1 << 20, { values }).toString();
  };
  const stream = "streamed-bytes;".repeat(4000);
  assert.equal(cut(stream), stream);
  assert.equal(cut(stream + "token eyJhbGciOiJIUzI1"), stream + "token [CLIENT_REDACTED]");
  assert.equal(cut(stream + "é key AKIAABCDEF"), stream + "é key [CLIENT_REDACTED]");
  assert.equal(cut(stream + "Authorization: Bearer abcd"), stream + "Authorization: Bearer [CLIENT_REDACTED]");
  assert.equal(cut(stream + " hello world"), stream + " hello world");
});

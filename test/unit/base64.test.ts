// The base64 written straight into the message (src/wire/base64.ts): the same text as
// Buffer#toString("base64"), byte for byte, whatever the length, the offset or the bytes, in
// WebAssembly and in its fallback; and the bytes around it untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { base64Length, base64Wasm, writeBase64 } from "../../src/wire/base64.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function check(src: Uint8Array, at: number): void {
  const n = base64Length(src.length);
  const out = Buffer.alloc(at + n + 3, 0x21);
  const written = writeBase64(src, out, at);
  assert.equal(written, n, `length ${src.length}`);
  assert.equal(out.toString("latin1", at, at + n), Buffer.from(src.buffer, src.byteOffset, src.byteLength).toString("base64"), `length ${src.length}, at ${at}`);
  assert.ok(out.subarray(0, at).every((b) => b === 0x21) && out.subarray(at + n).every((b) => b === 0x21), `bytes around the text changed (length ${src.length})`);
}

test("WebAssembly encoder loads in a plain node", () => {
  assert.equal(base64Wasm(), true);
});

test("every length from 0 to 2,100 bytes, random bytes, odd offsets", () => {
  for (let n = 0; n <= 2100; n++) check(randomBytes(n), n % 7);
});

test("bodies longer than one piece (48 KiB) of the encoder, and a Uint8Array view that is not a Buffer", () => {
  for (const n of [49151, 49152, 49153, 65536, 98304 + 1, 200_003]) check(randomBytes(n), 5);
  const backing = randomBytes(70_000);
  check(new Uint8Array(backing.buffer, backing.byteOffset + 11, 65_000), 2);
  check(Buffer.alloc(65536, 0xff), 0);
  check(Buffer.alloc(65536, 0), 1);
});

test("node --jitless (no WebAssembly): the same text from the fallback", () => {
  const script = `
    const { writeBase64, base64Length, base64Wasm } = await import("./src/wire/base64.ts");
    const { randomBytes } = await import("node:crypto");
    let ok = 0;
    for (const n of [0, 1, 2, 3, 700, 4096, 65537]) {
      const b = randomBytes(n); const out = Buffer.alloc(base64Length(n));
      if (writeBase64(b, out, 0) === out.length && out.toString("latin1") === b.toString("base64")) ok++;
    }
    process.stdout.write(JSON.stringify({ wasm: base64Wasm(), ok }));
  `;
  const r = spawnSync(process.execPath, ["--jitless", "--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { wasm: false, ok: 7 });
});

test("serializeExchange into the caller's memory (alloc): the same message, byte for byte, as into a new Buffer", async () => {
  const { resolveOptions } = await import("../../src/config/options.js");
  const { serializeExchange } = await import("../../src/wire/serialize.js");
  const cfg = resolveOptions({ apiKey: "k", redactHeaders: ["x-api-key"], redactRequestBody: ["$.password"], redactResponseBody: ["$.password", "$[*].secret"] });
  const body = (b: Buffer, total = b.length) => ({ chunks: b.length === 0 ? [] : [b.subarray(0, 1000), b.subarray(1000)].filter((c) => c.length > 0), keptBytes: b.length, totalBytes: total });
  const stream = Buffer.alloc(64 * 1024, "streamed-bytes;");
  const json = Buffer.from(JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, secret: `s-${i}`, name: `é ${i}` }))));
  const cases: Array<[string, Buffer, Buffer, number]> = [
    ["text/plain; charset=utf-8", Buffer.from('{"password":"hunter2","a":1}'), stream, 1024 * 1024],
    ["application/json", Buffer.alloc(0), json, json.length],
    ["application/json", Buffer.from('{"x":"\u00e9\u00e9"}'), Buffer.alloc(0), 0],
  ];
  const arena = Buffer.alloc(1024 * 1024, 0x2a);
  for (const [type, req, res, total] of cases) {
    const ex = {
      sdkType: "JsExpress" as const, msgId: "7d3c4a5e-0b1f-4e2a-9c6d-1a2b3c4d5e6f", startEpochMs: 1_765_000_000_000, durationNs: 1234, method: "POST", host: "h\u00f6st",
      rawUrl: "/s?q=\u00fc", urlPath: "/s", pathParams: {}, protoMajor: 1, protoMinor: 1, statusCode: 200,
      requestHeaders: ["content-type", "application/json", "x-api-key", "secret"], responseHeaders: { "content-type": type },
      requestBody: body(req), responseBody: body(res, total), errors: [],
    };
    const fresh = serializeExchange(ex, cfg, cfg.redaction);
    arena.fill(0x2a);
    let asked = 0;
    const into = serializeExchange(ex, cfg, cfg.redaction, undefined, undefined, (n) => ((asked = n), arena.subarray(100, 100 + n + 50)));
    assert.equal(asked, fresh.length);
    assert.equal(into.buffer, arena.buffer, "not written into the memory handed out");
    assert.ok(into.equals(fresh), `${type}: the bytes differ`);
    assert.equal(arena[100 + fresh.length], 0x2a, "wrote past the message");
    if (type.startsWith("text")) assert.ok(Buffer.from((JSON.parse(into.toString()) as { response_body: string }).response_body, "base64").equals(stream), "the stream's 64 KiB not as captured");
  }
});

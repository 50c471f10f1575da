// Without WebAssembly (`node --jitless`) the body pipeline does the same work in JavaScript: the
// same redacted bodies, byte for byte, as with it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The redacted request and response bodies of a few exchanges, in a child process (flags as given). */
function bodies(flags: string[]): string {
  const script = `
    const { resolveOptions } = await import("./src/config/options.ts");
    const { serializeExchange } = await import("./src/wire/serialize.ts");
    const { mayMatchDetectors } = await import("./src/jsonpath/wasm/module.ts");
    const cfg = resolveOptions({ apiKey: "k", redactRequestBody: ["$.password"], redactResponseBody: ["$.password", "$[*].secret"] });
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    const docs = [
      [{ password: "p", note: "plain" }, Array.from({ length: 300 }, (_, i) => ({ id: i, secret: "s" + i, name: "é " + i }))],
      [{ password: "p", auth: "Bearer abcdefgh12345" }, [{ secret: 1, k: "AKIAABCDEFGHIJKLMNOP", t: jwt }]],
      [{ note: "nothing here" }, { password: { deep: [1, 2] }, text: "\\\\u0065yJ" }],
    ];
    const out = [];
    for (const [req, res] of docs) {
      const body = (v) => { const b = Buffer.from(JSON.stringify(v)); return { chunks: [b.subarray(0, 100), b.subarray(100)].filter((c) => c.length > 0), keptBytes: b.length, totalBytes: b.length }; };
      const ex = { sdkType: "JsExpress", msgId: "m", startEpochMs: 0, durationNs: 1, method: "POST", host: "h", rawUrl: "/", urlPath: "/", pathParams: {}, protoMajor: 1, protoMinor: 1, statusCode: 200,
        requestHeaders: ["content-type", "application/json"], responseHeaders: { "content-type": "application/json" }, requestBody: body(req), responseBody: body(res), errors: [] };
      const m = JSON.parse(serializeExchange(ex, cfg, cfg.redaction).toString());
      out.push(Buffer.from(m.request_body, "base64").toString(), Buffer.from(m.response_body, "base64").toString());
    }
    process.stdout.write(JSON.stringify({ wasm: mayMatchDetectors(Buffer.from("x"), 15) !== undefined, out }));
  `;
  const r = spawnSync(process.execPath, [...flags, "--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test("node --jitless (no WebAssembly): the same redacted bodies as with WebAssembly", () => {
  const withWasm = JSON.parse(bodies([])) as { wasm: boolean; out: string[] };
  const without = JSON.parse(bodies(["--jitless"])) as { wasm: boolean; out: string[] };
  assert.equal(withWasm.wasm, true, "WebAssembly did not load in a plain node");
  assert.equal(without.wasm, false, "--jitless should leave WebAssembly out");
  assert.deepEqual(without.out, withWasm.out);
  assert.ok(withWasm.out[1]!.includes('"secret":"[CLIENT_REDACTED]"') && !withWasm.out[1]!.includes('"s1"'));
  assert.ok(!withWasm.out[2]!.includes("abcdefgh12345") && !withWasm.out[3]!.includes("AKIA") && !withWasm.out[3]!.includes("eyJ"));
});

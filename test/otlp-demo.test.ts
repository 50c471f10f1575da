// `npm run demo -- --otlp` is the README's promise for OpenTelemetry delivery: run it (OTLP/HTTP
// and OTLP/gRPC) and check it shows the spans, decoded and redacted, so it cannot rot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

for (const flag of ["--otlp", "--otlp=grpc"]) {
  test(`npm run demo -- ${flag}`, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/demo.ts", flag], { cwd: root, env: process.env, timeout: 90_000 });
    assert.match(stdout, flag === "--otlp" ? /OTLP receiver \(http\/protobuf\)/ : /OTLP receiver \(grpc\)/);
    assert.match(stdout, /6 span\(s\) received over OTLP/);
    assert.match(stdout, /monoscope\.http SERVER trace=[0-9a-f]{32} span=[0-9a-f]{16} status=ERROR/);
    assert.match(stdout, /GET \/users\/42\?fields=name&fields=email -> 200 {2}http\.route="\/users\/:id"/);
    assert.match(stdout, /redacted: http\.request\.header\.authorization, http\.request\.header\.x-api-key/);
    assert.match(stdout, /"password":"\[CLIENT_REDACTED\]"/);
    assert.match(stdout, /"at-project-key":"demo-api-key"/);
    assert.match(stdout, /No secret .* left the process/);
    assert.doesNotMatch(stdout, /correct-horse-SECRET|4242424242424242|SECRET-SESSION-TOKEN/);
  });
}

// `npm run demo` is part of the README's promise: run it (on the emulator, and with the local
// fallback) and check it shows the SDK doing its job, so it cannot rot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

for (const args of [[], ["--local"]]) {
  test(`npm run demo ${args.join(" ")}`.trim(), async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/demo.ts", ...args], {
      cwd: root,
      env: process.env,
      timeout: 90_000,
    });
    assert.match(stdout, args.length ? /6 message\(s\) published to the local sink/ : /6 message\(s\) published to the Pub\/Sub emulator/);
    assert.match(stdout, /No secret .* left the process/);
    assert.match(stdout, /^Live viewer on http:\/\/127\.0\.0\.1:\d+\/ /m, "the demo prints where its live viewer is");
    assert.match(stdout, /"password":"\[CLIENT_REDACTED\]"/);
    assert.match(stdout, /GET \/users\/42\?fields=name&fields=email -> 200 {2}url_path="\/users\/:id"/);
    assert.match(stdout, /redacted headers: authorization, x-api-key/);
    assert.doesNotMatch(stdout, /correct-horse-SECRET|4242424242424242|SECRET-SESSION-TOKEN/);
  });
}

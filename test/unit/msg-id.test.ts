import { test } from "node:test";
import assert from "node:assert/strict";
import { newMsgId } from "../../src/capture/msg-id.js";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("message ids are version-4 UUIDs, all different", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200_000; i++) {
    const id = newMsgId();
    if (i % 1000 === 0) assert.match(id, UUID_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 200_000);
});

test("two processes draw different prefixes", async () => {
  const { execFileSync } = await import("node:child_process");
  const script = 'import("./src/capture/msg-id.ts").then((m) => console.log(m.newMsgId()))';
  const run = () => execFileSync(process.execPath, ["--import", "tsx", "-e", script], { encoding: "utf8" }).trim();
  const [a, b] = [run(), run()];
  assert.match(a, UUID_V4);
  assert.notEqual(a.slice(0, 28), b.slice(0, 28));
});

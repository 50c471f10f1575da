// What a new user does: `npm run demo -- --keep`, open the printed viewer URL, watch redacted
// traffic arrive. Driven in Debian's chromium; the demo is stopped by its pid at the end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { launchBrowser, screenshot } from "./helpers/browser.js";

const root = path.resolve(import.meta.dirname, "..");
// The page global the functions evaluated in the browser touch (this project's tsconfig has no DOM lib).
declare const document: { querySelectorAll(selector: string): { length: number } };

test("npm run demo -- --keep: the printed URL shows the demo's traffic live, redacted", async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  t.after(() => browser.close());
  // --local: no emulator needed for what the page shows; PORT=0: the app on a free port.
  const demo = spawn(process.execPath, ["--import", "tsx", "examples/demo.ts", "--keep", "--local"], {
    cwd: root,
    env: { ...process.env, PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => void demo.kill("SIGTERM"));
  let out = "";
  demo.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  demo.stderr.setEncoding("utf8").on("data", (c: string) => (out += c));
  const deadline = Date.now() + 60_000;
  while (!/The app keeps running/.test(out) && Date.now() < deadline && demo.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  const url = /^Live viewer on (http:\/\/127\.0\.0\.1:\d+\/) /m.exec(out)?.[1];
  assert.ok(url, `the demo printed its viewer URL:\n${out}`);

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(url);
  // What was published before the page opened is there (the viewer's history) ...
  await page.waitForFunction(() => document.querySelectorAll("#list tbody tr.row").length >= 6, undefined, { timeout: 15_000 });
  const first = await page.locator("#list tbody tr.row").count();
  // ... and the demo's ongoing traffic arrives without a reload.
  await page.waitForFunction((n) => document.querySelectorAll("#list tbody tr.row").length > n, first, { timeout: 15_000 });
  await page.locator("#list tr.row", { hasText: "/login" }).first().click();
  await page.locator("#redactions tr.hit").first().waitFor();
  assert.match((await page.locator("#request-body pre").textContent())!, /"password": "\[CLIENT_REDACTED\]"/);
  assert.ok((await page.locator("#redactions td.rule").allTextContents()).includes("$.password"));
  assert.ok(!(await page.content()).includes("correct-horse-SECRET"));
  await screenshot(page, "viewer-demo");
});

// A real browser for the viewer's tests: Debian's chromium driven by playwright-core (browser
// downloads fail here, so Playwright's own builds are never used). Each launch gets a fresh,
// temporary user data dir (Playwright makes one per launch() and removes it on close()).
// Missing chromium: in CI a test fails with a clear message, never skips; locally it is skipped
// with the command that installs it.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { TestContext } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const INSTALL = "apt-get update && apt-get install -y --no-install-recommends chromium";

/** Where screenshots are kept (gitignored): .tmp/viewer-screenshots/. */
export const SCREENSHOTS = path.resolve(import.meta.dirname, "../../.tmp/viewer-screenshots");

/** Chromium, or undefined when the test was skipped for want of it (never in CI). */
export async function launchBrowser(t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    const why = `no browser at ${CHROMIUM}: the viewer's tests drive Debian's chromium (install it with: ${INSTALL}; .ci/run does)`;
    if (process.env.CI) throw new Error(why);
    t.skip(why);
    return undefined;
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
}

/** Save a full-page screenshot under .tmp/viewer-screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

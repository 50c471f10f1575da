// `npm run fixtures` (and `npm test`, before its tests) installs the test fixtures that pin another
// major of a framework whose packages import each other by name (NestJS 10, ...), each into its own
// node_modules. A fixture whose install matches its package.json and lockfile (a stamp of their hash
// in its node_modules) is left alone, so `npm test` after `npm install` needs no third command.
// Not a "prepare" script: installing the packed SDK must run no script.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const STAMP = ".apitoolkit-fixture-stamp";
/** The hash of what the fixture's install is made from. */
function manifestHash(dir) {
  const h = createHash("sha256");
  for (const f of ["package.json", "package-lock.json"]) {
    const p = path.join(dir, f);
    if (existsSync(p)) h.update(readFileSync(p));
  }
  return h.digest("hex");
}

const root = path.resolve(import.meta.dirname, "..");
const fixtures = path.join(root, "test/fixtures");
if (!existsSync(fixtures) || process.env.APITOOLKIT_SKIP_FIXTURES) process.exit(0);
for (const name of readdirSync(fixtures).sort()) {
  const dir = path.join(fixtures, name);
  if (!existsSync(path.join(dir, "package.json"))) continue;
  const hash = manifestHash(dir);
  const stamp = path.join(dir, "node_modules", STAMP);
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) continue;
  const hasLock = existsSync(path.join(dir, "package-lock.json"));
  console.log(`installing test fixture ${name} (${hasLock ? "npm ci" : "npm install"})`);
  execFileSync("npm", [hasLock ? "ci" : "install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, stdio: "inherit" });
  mkdirSync(path.dirname(stamp), { recursive: true });
  writeFileSync(stamp, hash);
}

// `npm run fixtures` (after `npm install`/`npm ci`; .ci/run runs it) installs the test fixtures that
// pin another major of a framework whose packages import each other by name (NestJS 10, ...), each
// into its own node_modules. Not a "prepare" script: installing the packed SDK must run no script.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const fixtures = path.join(root, "test/fixtures");
if (!existsSync(fixtures) || process.env.APITOOLKIT_SKIP_FIXTURES) process.exit(0);
for (const name of readdirSync(fixtures).sort()) {
  const dir = path.join(fixtures, name);
  if (!existsSync(path.join(dir, "package.json"))) continue;
  const hasLock = existsSync(path.join(dir, "package-lock.json"));
  console.log(`installing test fixture ${name} (${hasLock ? "npm ci" : "npm install"})`);
  execFileSync("npm", [hasLock ? "ci" : "install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, stdio: "inherit" });
}

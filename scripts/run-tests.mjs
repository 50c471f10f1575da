// npm test's runner, in two tiers, each its own `node --test` run with its own summary:
//   unit         test/unit/*.test.ts: need no Pub/Sub; run with PUBSUB_EMULATOR_HOST removed, so a
//                file there that reaches for the emulator fails instead of quietly using one
//   integration  test/*.test.ts: publish to the real Pub/Sub emulator, the one PUBSUB_EMULATOR_HOST
//                names (.ci/run starts it) or one started here and stopped at the end
//
//   node scripts/run-tests.mjs                  unit tier, then (if it passed) the integration tier
//   node scripts/run-tests.mjs --unit           unit tier only (no emulator needed)
//   node scripts/run-tests.mjs --integration    integration tier only
//   node scripts/run-tests.mjs <file>...        these files, each in its tier (an emulator only if
//                                               one of them is an integration file)
// TEST_NODE=<path to node> runs the tests on another Node (.ci/run's Node 24 pass).
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { startEmulator } from "./emulator.mjs";

const UNIT_DIR = "test/unit";
const listTests = (dir) => readdirSync(dir).filter((f) => f.endsWith(".test.ts")).sort().map((f) => `${dir}/${f}`);
const isUnit = (file) => path.relative(UNIT_DIR, file).split(path.sep)[0] !== "..";

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith("--")));
const files = args.filter((a) => !a.startsWith("--"));
for (const f of flags) {
  if (f !== "--unit" && f !== "--integration") {
    console.error(`run-tests: unknown option ${f} (use --unit, --integration or test file paths)`);
    process.exit(2);
  }
}

const tiers = [];
if (files.length) {
  const unit = files.filter(isUnit);
  const integration = files.filter((f) => !isUnit(f));
  if (unit.length) tiers.push({ name: "unit", files: unit });
  if (integration.length) tiers.push({ name: "integration", files: integration });
} else {
  if (!flags.has("--integration")) tiers.push({ name: "unit", files: listTests(UNIT_DIR) });
  if (!flags.has("--unit")) tiers.push({ name: "integration", files: listTests("test") });
}

const node = process.env.TEST_NODE || process.execPath;

/** One tier through Node's test runner; resolves with its exit code. */
function runTier(tier, env, concurrency) {
  console.log(`\n# ${tier.name} tier: ${tier.files.length} file(s)`);
  const child = spawn(node, ["--import", "tsx", "--test", ...concurrency, "--test-timeout=600000", ...tier.files], { stdio: "inherit", env });
  return new Promise((resolve) => child.on("exit", (c, sig) => resolve(c ?? (sig ? 1 : 0))));
}

let emulator;
let code = 0;
const results = [];
try {
  for (const tier of tiers) {
    if (code !== 0) {
      results.push(`${tier.name}: not run`);
      continue;
    }
    let env;
    let concurrency = [];
    if (tier.name === "unit") {
      env = { ...process.env };
      delete env.PUBSUB_EMULATOR_HOST;
    } else {
      if (!process.env.PUBSUB_EMULATOR_HOST) {
        try {
          emulator = await startEmulator();
        } catch (err) {
          console.error(`\n${err.message}\nThe integration tests publish to the real Pub/Sub emulator and cannot run without it (the unit tier can: --unit).\n`);
          process.exit(1);
        }
        process.env.PUBSUB_EMULATOR_HOST = emulator.host;
        console.log(`# started the Pub/Sub emulator on ${emulator.host}`);
      } else {
        console.log(`# using the Pub/Sub emulator at ${process.env.PUBSUB_EMULATOR_HOST}`);
      }
      env = process.env;
      concurrency = ["--test-concurrency=2"]; // the files share one emulator and start servers of their own
    }
    const tierCode = await runTier(tier, env, concurrency);
    results.push(`${tier.name}: ${tierCode === 0 ? "passed" : `failed (exit ${tierCode})`}`);
    code = tierCode;
  }
} finally {
  if (emulator) await emulator.stop();
}
if (tiers.length > 1) console.log(`\n# tiers: ${results.join("; ")}`);
process.exit(code);

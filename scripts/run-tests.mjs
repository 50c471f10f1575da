// npm test's runner: makes sure a Pub/Sub emulator is there (the one .ci/run started, through
// PUBSUB_EMULATOR_HOST, or one of its own), then runs every test file with Node's test runner.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { startEmulator } from "./emulator.mjs";

const files = (process.argv.slice(2).length ? process.argv.slice(2) : readdirSync("test").filter((f) => f.endsWith(".test.ts")).sort().map((f) => `test/${f}`));

let emulator;
if (!process.env.PUBSUB_EMULATOR_HOST) {
  try {
    emulator = await startEmulator();
  } catch (err) {
    console.error(`\n${err.message}\nThe integration tests publish to the real Pub/Sub emulator and cannot run without it.\n`);
    process.exit(1);
  }
  process.env.PUBSUB_EMULATOR_HOST = emulator.host;
  console.log(`# started the Pub/Sub emulator on ${emulator.host}`);
} else {
  console.log(`# using the Pub/Sub emulator at ${process.env.PUBSUB_EMULATOR_HOST}`);
}

const node = process.env.TEST_NODE || process.execPath;
const child = spawn(node, ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=180000", ...files], {
  stdio: "inherit",
  env: process.env,
});
const code = await new Promise((resolve) => child.on("exit", (c, sig) => resolve(c ?? (sig ? 1 : 0))));
if (emulator) await emulator.stop();
process.exit(code);

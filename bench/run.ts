// npm run bench [-- --quick] [--mode=pinned|free|both] [--routes=health,echo] [--rounds=N] [--duration=S] [--profile]
// Express 5 bare vs with the SDK, each in its own child process, driven by autocannon from this
// process; alternating variants over several rounds; medians; writes docs/benchmarks.md.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon, { type Result } from "autocannon";
import { BODIES } from "./app.js";
import {
  BENCH_KEY, Child, ROOT, buildSdk, canPin, cpuCount, createTopic, median, setAffinity, sleep, startEmulator, startMetadata, type Sample,
} from "./lib.js";

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = flag("quick");
const rounds = Number(opt("rounds") ?? (quick ? 1 : 3));
const durationS = Number(opt("duration") ?? (quick ? 3 : 10));
const warmupS = quick ? 1 : 3;
const CONNECTIONS = 20;
const profile = flag("profile");
const write = !flag("no-write");
/** Extra diagnostic variants, e.g. --extra=sdk-null (the SDK with a discarding transport). */
const extraVariants = opt("extra")?.split(",") ?? [];

interface Route {
  key: string;
  label: string;
  path: string;
  method?: string;
  body?: string;
  target: { pinned: number; free: number } | undefined;
}
const JSON_HEADERS = { "content-type": "application/json", "x-api-key": "client-secret" };
const ROUTES: Route[] = [
  { key: "health", label: "GET /health (tiny)", path: "/health", target: { pinned: 0.85, free: 0.95 } },
  { key: "echo", label: "POST /echo (1 KB JSON, echoed)", path: "/echo", method: "POST", body: BODIES.post1k, target: { pinned: 0.8, free: 0.9 } },
  { key: "items", label: "GET /items (20 KB JSON array)", path: "/items", target: { pinned: 0.6, free: 0.85 } },
  { key: "nested", label: "POST /nested (3 paths: $.password, $..token, filter)", path: "/nested", method: "POST", body: BODIES.nested, target: undefined },
  { key: "stream", label: "GET /stream (1 MB streamed)", path: "/stream", target: undefined },
];
const routeFilter = opt("routes")?.split(",");
const routes = ROUTES.filter((r) => !routeFilter || routeFilter.includes(r.key));
const pinAvailable = canPin();
const modeOpt = opt("mode") ?? "both";
const modes = (modeOpt === "both" ? ["pinned", "free"] : [modeOpt]).filter((m) => m !== "pinned" || pinAvailable) as Array<"pinned" | "free">;

interface Run { reqPerSec: number; p50: number; p99: number; cpuUsPerReq: number; serverCpuPct: number; errors: number; non2xx: number; dropped: number }
interface RouteResult { route: Route; bare: Run[]; sdk: Run[]; extra: Record<string, Run[]> }
interface ModeResult {
  mode: "pinned" | "free";
  routes: RouteResult[];
  peakRss: { bare: number; sdk: number };
  delivery: { served: number; captured: number; published: number; delivered: number; duplicates: number; dropped: Record<string, number> };
  exitedOnItsOwn: { bare: boolean; sdk: boolean };
}

async function load(port: number, route: Route, seconds: number): Promise<Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}${route.path}`,
    connections: CONNECTIONS,
    duration: seconds,
    method: route.method ?? "GET",
    body: route.body,
    headers: route.body ? JSON_HEADERS : { "x-api-key": "client-secret" },
  });
}

async function measure(child: Child, counter: Child, port: number, route: Route, seconds: number, publishes: boolean): Promise<Run> {
  await counter.ask("pause");
  const before = await child.ask<Sample>("sample");
  const r = await load(port, route, seconds);
  const loaded = await child.ask<Sample>("sample");
  const after = await child.ask<Sample>("flush"); // CPU includes the deferred delivery work
  await counter.ask("resume");
  if (publishes) await drain(counter, after.stats?.published);
  const served = after.served - before.served;
  return {
    reqPerSec: r.requests.total / (r.duration || seconds),
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuUsPerReq: served ? (after.cpuUs - before.cpuUs) / served : 0,
    serverCpuPct: (100 * (loaded.cpuUs - before.cpuUs)) / ((r.duration || seconds) * 1e6),
    dropped: sumDrops(after) - sumDrops(before),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

async function runMode(mode: "pinned" | "free", metaTopic: { id: string }, metaUrl: string): Promise<ModeResult> {
  setAffinity(process.pid, mode === "pinned" ? "0" : `0-${cpuCount() - 1}`);
  const emulator = await startEmulator(); // inherits this process's affinity
  const { topicId, subName } = await createTopic(emulator.host, `bench-${mode}`);
  metaTopic.id = topicId;
  const env = { PUBSUB_EMULATOR_HOST: emulator.host, BENCH_KEY, BENCH_SDK_DIR: sdkDir, BENCH_ROOT_URL: metaUrl, BENCH_PROJECT: "apitoolkit-bench", BENCH_SUB: subName };
  const counter = new Child("bench/counter.ts", env);
  await counter.ready;
  const pinCpu = mode === "pinned" ? "1" : undefined;
  const profDir = path.join(ROOT, ".tmp/prof", mode);
  if (profile) mkdirSync(profDir, { recursive: true });
  const nodeArgs = (v: string) => (profile ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${v}.cpuprofile`] : []);
  const bare = new Child("bench/server.ts", { ...env, VARIANT: "bare" }, { pinCpu, nodeArgs: nodeArgs("bare") });
  const sdk = new Child("bench/server.ts", { ...env, VARIANT: "sdk" }, { pinCpu, nodeArgs: nodeArgs("sdk") });
  const extras = extraVariants.map((v) => new Child("bench/server.ts", { ...env, VARIANT: v }, { pinCpu, nodeArgs: nodeArgs(v) }));
  const children: Record<string, Child> = { bare, sdk };
  extraVariants.forEach((v, i) => (children[v] = extras[i]!));
  const ports: Record<string, number> = {};
  for (const [v, c] of Object.entries(children)) ports[v] = ((await c.ready) as { port: number }).port;
  for (let i = 0; i < 100 && (await sdk.ask<Sample>("sample")).stats?.state !== "ready"; i++) await sleep(100);

  const results: RouteResult[] = [];
  for (const route of routes) {
    const rr: RouteResult = { route, bare: [], sdk: [], extra: {} };
    const names = Object.keys(children);
    for (const v of names) await load(ports[v]!, route, warmupS);
    await counter.ask("resume");
    await drain(counter, (await sdk.ask<Sample>("flush")).stats?.published);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const v of order) {
        const run = await measure(children[v]!, counter, ports[v]!, route, durationS, v === "sdk");
        if (v === "bare" || v === "sdk") rr[v].push(run);
        else (rr.extra[v] ??= []).push(run);
        log(`${mode} ${route.key} ${v} round ${round + 1}: ${run.reqPerSec.toFixed(0)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ${run.cpuUsPerReq.toFixed(0)} us CPU/req`);
      }
    }
    results.push(rr);
  }

  const final = await sdk.ask<Sample>("flush");
  await counter.ask("resume");
  const published = final.stats?.published ?? 0;
  let counted = await counter.ask<{ count: number; duplicates: number }>("count");
  for (let i = 0; i < 600 && counted.count < published; i++) {
    await sleep(100);
    counted = await counter.ask("count");
  }
  for (const c of extras) await c.closeAndWait(15_000);
  const bareFinal = await bare.closeAndWait<Sample>(15_000);
  const sdkFinal = await sdk.closeAndWait<Sample>(15_000);
  await sleep(1000);
  counted = await counter.closeAndWait<{ count: number; duplicates: number }>(15_000).then((r) => r.result);
  await emulator.stop();
  return {
    mode,
    routes: results,
    peakRss: { bare: bareFinal.result.maxRssBytes, sdk: sdkFinal.result.maxRssBytes },
    delivery: {
      served: final.served,
      captured: final.stats?.captured ?? 0,
      published,
      delivered: counted.count,
      duplicates: counted.duplicates,
      dropped: final.stats?.dropped ?? {},
    },
    exitedOnItsOwn: { bare: bareFinal.exitedOnItsOwn, sdk: sdkFinal.exitedOnItsOwn },
  };
}

function sumDrops(s: Sample): number {
  return Object.values(s.stats?.dropped ?? {}).reduce((a, b) => a + b, 0);
}

/** Let the subscriber catch up with what was published (bounded), so it never competes with a run. */
async function drain(counter: Child, published: number | undefined): Promise<void> {
  if (published === undefined) return;
  for (let i = 0; i < 1200; i++) {
    if ((await counter.ask<{ count: number }>("count")).count >= published) return;
    await sleep(100);
  }
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

function runMicro(): string {
  const args = ["--import", "tsx", path.join(ROOT, "bench/micro.ts"), "--markdown", ...(quick ? ["--quick"] : [])];
  const [cmd, full] = pinAvailable ? ["taskset", ["-c", "1", process.execPath, ...args]] : [process.execPath, args];
  return execFileSync(cmd, full as string[], { cwd: ROOT, encoding: "utf8" });
}

const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const mb = (b: number) => `${fmt(b / 1024 / 1024, 0)} MB`;

function report(all: ModeResult[], micro: string, started: Date): string {
  const lines: string[] = [];
  lines.push("# Benchmarks", "");
  lines.push("Generated by `npm run bench` (bench/run.ts); do not edit by hand. How to run and what is measured: bench/README.md.", "");
  lines.push("## Conditions", "");
  lines.push(`- Date: ${started.toISOString()}${quick ? " (**--quick run**: short, indicative only)" : ""}`);
  lines.push(`- Node ${process.version}, ${os.type()} ${os.release()}, ${cpuCount()} cores (${os.cpus()[0]?.model ?? "?"}), ${mb(os.totalmem())} RAM`);
  lines.push(`- Express 5, one server child process per variant (bare / with the SDK); autocannon, ${CONNECTIONS} connections, loopback, keep-alive`);
  lines.push(`- ${rounds} round(s) x ${durationS} s per route and variant, variants alternated (bare, sdk / sdk, bare), after ${warmupS} s warm-up each; medians`);
  lines.push("- SDK: header `x-api-key`; request paths `$.password`, `$[*].secret`, `$..token`, `$.items[?@.kind=='secret'].value`; response paths `$.password`, `$[*].secret`; default options otherwise (64 KiB body limit, 200 ms batching)");
  lines.push("- Publishing to a local Pub/Sub emulator (started by the bench) with a local client_metadata stand-in; a subscriber counts what arrived (paused during measured runs, so it takes no CPU from them; it catches up between runs)");
  lines.push("- **pinned**: server child on core 1 (`taskset -c 1`), load generator, subscriber and emulator on core 0. **free**: no pinning, everything shares the cores");
  lines.push("- SDK queue budget raised to 256 MiB for the benchmark (`maxQueueBytes`; default 32 MiB): the emulator ingests large messages far slower than Pub/Sub, and in pinned mode shares core 0 with the load generator");
  lines.push("- server CPU %: the server child's CPU time during the load run over its wall time (100% = one core busy); below ~90% in pinned mode means the load generator, not the server, was the limit");
  lines.push("- CPU us/req: the server child's `process.cpuUsage()` (user + system, every thread) from before the run to after the SDK flushed what the run captured, divided by requests served");
  lines.push("- The machine was shared with other work while this ran: read ratios, not absolute numbers", "");
  for (const m of all) {
    lines.push(`## ${m.mode === "pinned" ? "Pinned (server alone on one core)" : "Free (no pinning)"}`, "");
    lines.push("| route | bare req/s | SDK req/s | SDK/bare | target | met | p50 bare / SDK (ms) | p99 bare / SDK (ms) | CPU us/req bare / SDK | server CPU % bare / SDK |");
    lines.push("|---|---:|---:|---:|---:|:-:|---:|---:|---:|---:|");
    for (const r of m.routes) {
      const b = (k: keyof Run) => median(r.bare.map((x) => x[k]));
      const s = (k: keyof Run) => median(r.sdk.map((x) => x[k]));
      const ratio = s("reqPerSec") / b("reqPerSec");
      const target = r.route.target?.[m.mode];
      const met = target === undefined ? "-" : ratio >= target ? "yes" : "**no**";
      lines.push(`| ${r.route.label} | ${fmt(b("reqPerSec"))} | ${fmt(s("reqPerSec"))} | ${fmt(ratio, 2)} | ${target === undefined ? "-" : `>= ${fmt(target, 2)}`} | ${met} | ${fmt(b("p50"), 1)} / ${fmt(s("p50"), 1)} | ${fmt(b("p99"), 1)} / ${fmt(s("p99"), 1)} | ${fmt(b("cpuUsPerReq"))} / ${fmt(s("cpuUsPerReq"))} | ${fmt(b("serverCpuPct"))} / ${fmt(s("serverCpuPct"))} |`);
    }
    for (const v of extraVariants) {
      lines.push("", `Diagnostic variant ${v}: ${m.routes.map((r) => {
        const xs = r.extra[v] ?? [];
        return `${r.route.key} ${fmt(median(xs.map((x) => x.reqPerSec)) / median(r.bare.map((x) => x.reqPerSec)), 2)} of bare, ${fmt(median(xs.map((x) => x.cpuUsPerReq)))} us CPU/req`;
      }).join("; ")}.`);
    }
    const errs = m.routes.reduce((n, r) => n + [...r.bare, ...r.sdk].reduce((k, x) => k + x.errors + x.non2xx, 0), 0);
    lines.push("");
    lines.push(`Per-round SDK/bare ratios: ${m.routes.map((r) => `${r.route.key} ${r.sdk.map((s, i) => fmt(s.reqPerSec / r.bare[i]!.reqPerSec, 2)).join(", ")}`).join("; ")}.`);
    lines.push(`Peak RSS: bare ${mb(m.peakRss.bare)}, SDK ${mb(m.peakRss.sdk)}. Load-generator errors/non-2xx: ${errs}.`);
    const d = m.delivery;
    const drops = Object.entries(d.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
    const ok = d.delivered === d.served && d.captured === d.served;
    const dropTotal = Object.values(d.dropped).reduce((a, b) => a + b, 0);
    const accounted = d.delivered === d.published && d.published + dropTotal === d.served;
    const perRoute = m.routes.map((r) => `${r.route.key} ${fmt(r.sdk.reduce((n, x) => n + x.dropped, 0))}`).join(", ");
    lines.push(`Delivery (SDK child, whole run incl. warm-up): requests served ${fmt(d.served)}, captured ${fmt(d.captured)}, published ${fmt(d.published)}, ` +
      `arrived at the subscription ${fmt(d.delivered)} (unique msg_id; ${d.duplicates} redeliveries), dropped: ${drops} (measured runs, by route: ${perRoute}). ` +
      `**${ok ? "Every request served was delivered." : accounted
        ? `Not every request was delivered: ${fmt(dropTotal)} dropped and counted; delivered + dropped = served (nothing lost silently).`
        : "MISMATCH: delivered + dropped != served."}**`);
    lines.push(`Both server children exited on their own after close(): bare ${m.exitedOnItsOwn.bare ? "yes" : "NO"}, SDK ${m.exitedOnItsOwn.sdk ? "yes" : "NO"}.`, "");
  }
  if (!pinAvailable) lines.push("Pinned mode was skipped: it needs `taskset` and at least two cores.", "");
  lines.push("## Micro-benchmarks (bench/micro.ts)", "", micro.trim(), "");
  const notes = path.join(ROOT, "bench/notes.md");
  if (existsSync(notes)) lines.push(readFileSync(notes, "utf8").trim(), "");
  const soak = path.join(ROOT, "bench/results/soak.md");
  if (existsSync(soak)) lines.push(readFileSync(soak, "utf8").trim(), "");
  return lines.join("\n");
}

const started = new Date();
log(`bench: modes ${modes.join(", ")}; routes ${routes.map((r) => r.key).join(", ")}; ${rounds} x ${durationS} s`);
const micro = flag("no-micro") ? "(skipped)" : runMicro();
const sdkDir = buildSdk();
const metaTopic = { id: "" };
const meta = await startMetadata(() => metaTopic.id);
const all: ModeResult[] = [];
for (const mode of modes) all.push(await runMode(mode, metaTopic, meta.url));
await meta.close();
const md = report(all, micro, started);
if (write) {
  writeFileSync(path.join(ROOT, "docs/benchmarks.md"), md);
  log("wrote docs/benchmarks.md");
}
process.stdout.write(`\n${md}\n`);

// npm run soak [-- --requests=1000000]: many requests with bodies and redaction through the Express
// 5 app with the SDK at default options, publishing to the emulator; RSS sampled. Reports whether
// RSS is flat after warm-up, peak RSS against the same app bare (target: bare + 40 MB), whether
// every request was delivered, and whether the server exits on its own after close() (no leaked
// timers, listeners or sockets). Writes bench/results/soak.md. Not run in CI.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { BODIES } from "./app.js";
import { Child, PUBSUB_PROJECT, ROOT, buildSdk, createTopic, sleep, startEmulator, startMetadata, type Sample } from "./lib.js";

const total = Number(process.argv.find((a) => a.startsWith("--requests="))?.split("=")[1] ?? 1_000_000);
const log = (s: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const emulator = await startEmulator();
const { topicId, subName } = await createTopic(emulator.host, "soak");
const meta = await startMetadata();
const key = `key-${topicId}`;
meta.register(key, topicId);
// The SDK at its default options (32 MiB queue): RSS must be flat with the defaults.
const env = { PUBSUB_EMULATOR_HOST: emulator.host, BENCH_KEY: key, BENCH_SDK_DIR: buildSdk(), BENCH_ROOT_URL: meta.url, BENCH_PROJECT: PUBSUB_PROJECT, FRAMEWORK: "express5", VARIANT: "sdk" };
type Counts = Record<string, { count: number; duplicates: number }>;
const counter = new Child("bench/counter.ts", env);
await counter.ready;
await counter.ask("watch", subName);
await counter.ask("resume");
const server = new Child("bench/server.ts", env);
const { port } = (await server.ready) as { port: number };

const samples: Array<{ t: number; served: number; rss: number; heap: number }> = [];
const t0 = Date.now();
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const s = await server.ask<Sample>("sample");
    samples.push({ t: (Date.now() - t0) / 1000, served: s.served, rss: s.rss, heap: s.heapUsed });
    if (samples.length % 15 === 0) log(`served ${s.served.toLocaleString("en-US")}, RSS ${(s.rss / 1048576).toFixed(0)} MB, heap ${(s.heapUsed / 1048576).toFixed(0)} MB`);
    await sleep(2000);
  }
})();
const json = { "content-type": "application/json", "x-api-key": "client-secret" };
const cycle = (port: number, amount: number) => autocannon({
  url: `http://127.0.0.1:${port}`,
  connections: 20,
  amount,
  timeout: 30,
  requests: [
    { method: "POST", path: "/echo", body: BODIES.post1k, headers: json },
    { method: "GET", path: "/items" },
    { method: "GET", path: "/health" },
  ],
});
const result = await cycle(port, total);
sampling = false;
await sampler;
let flushed = await server.ask<Sample>("flush");
for (let i = 0; i < 10 && !flushed.flushed; i++) flushed = await server.ask<Sample>("flush"); // up to 10 more minutes of backlog
let count = (await counter.ask<Counts>("count"))[subName]?.count ?? 0;
for (let i = 0; i < 1200 && count < (flushed.stats?.published ?? 0); i++) {
  await sleep(100);
  count = (await counter.ask<Counts>("count"))[subName]?.count ?? 0;
}
const closed = await server.closeAndWait<Sample>(15_000);
// The same app bare, under the same load (at most 200k requests), for the peak RSS target.
const bareServer = new Child("bench/server.ts", { ...env, VARIANT: "bare" });
const bareRequests = Math.min(total, 200_000);
await cycle(((await bareServer.ready) as { port: number }).port, bareRequests);
const bareClosed = await bareServer.closeAndWait<Sample>(15_000);
const counted = await counter.closeAndWait<Counts>(15_000).then((c) => ({ result: c.result[subName] ?? { count: 0, duplicates: 0 } }));
await meta.close();
await emulator.stop();

// RSS after warm-up (the first 20% of requests): spread, and the trend by least squares in MB per 100k requests.
const after = samples.filter((s) => s.served >= total * 0.2);
const mbOf = (b: number) => b / 1048576;
const fit = (ys: number[], xs: number[]) => {
  const n = xs.length, mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0), den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den ? num / den : 0;
};
const rss = after.map((s) => mbOf(s.rss));
const slope = after.length > 2 ? fit(rss, after.map((s) => s.served / 100_000)) : NaN;
const heapSlope = after.length > 2 ? fit(after.map((s) => mbOf(s.heap)), after.map((s) => s.served / 100_000)) : NaN;
const min = Math.min(...rss), max = Math.max(...rss);
const flat = Math.abs(slope) < 2 && max - min < 64;
const st = flushed.stats!;
const drops = Object.entries(st.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
const dropTotal = Object.values(st.dropped).reduce((a, b) => a + b, 0);
function delivery(served: number, published: number, arrived: number, dropped: number): string {
  if (arrived === served) return "Every request served was delivered.";
  if (arrived === published && published + dropped === served) return `Not every request was delivered: ${dropped.toLocaleString("en-US")} dropped and counted; delivered + dropped = served (nothing lost silently).`;
  return "MISMATCH: delivered + dropped != served.";
}
const lines = [
  `## Soak (${new Date().toISOString()}, ${total.toLocaleString("en-US")} requests)`,
  "",
  `Generated by \`npm run soak -- --requests=${total}\` (bench/soak.ts). Express 5 with the SDK (redaction as in the benchmarks), default options (32 MiB queue), autocannon 20 connections cycling POST /echo (1 KB), GET /items (20 KB), GET /health; publishing to the local emulator. Node ${process.version}, no pinning.`,
  "",
  `- Duration ${(result.duration).toFixed(0)} s, ${(result.requests.total / result.duration).toFixed(0)} req/s average, load-generator errors ${result.errors + result.timeouts}, non-2xx ${result.non2xx}.`,
  `- RSS after warm-up (first 20% of requests): min ${min.toFixed(0)} MB, max ${max.toFixed(0)} MB, last ${rss.at(-1)?.toFixed(0)} MB; trend ${slope.toFixed(2)} MB per 100k requests (heap ${heapSlope.toFixed(2)} MB per 100k). **${flat ? "Flat" : "NOT flat"}** (criterion: |trend| < 2 MB/100k and spread < 64 MB).`,
  `- Peak RSS ${mbOf(closed.result.maxRssBytes).toFixed(0)} MB; the same app bare after ${bareRequests.toLocaleString("en-US")} requests of the same cycle: ${mbOf(bareClosed.result.maxRssBytes).toFixed(0)} MB. ` +
    `**Target (<= bare + 40 MB): ${closed.result.maxRssBytes <= bareClosed.result.maxRssBytes + 40 * 1048576 ? "met" : "missed"}.**`,
  `- Delivery: served ${flushed.served.toLocaleString("en-US")}, captured ${st.captured.toLocaleString("en-US")}, published ${st.published.toLocaleString("en-US")}, arrived ${counted.result.count.toLocaleString("en-US")} (unique msg_id, ${counted.result.duplicates} redeliveries), dropped: ${drops}. **${delivery(flushed.served, st.published, counted.result.count, dropTotal)}**`,
  `- After close() the server process exited on its own: **${closed.exitedOnItsOwn ? "yes" : "NO (leaked handle, timer or listener)"}**.`,
  "",
  `RSS samples (MB, every ~10th): ${samples.filter((_, i) => i % 10 === 0).map((s) => mbOf(s.rss).toFixed(0)).join(" ")}`,
];
mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
writeFileSync(path.join(ROOT, "bench/results/soak.md"), lines.join("\n") + "\n");
// Keep docs/benchmarks.md current: replace its soak section (bench/run.ts includes this file too).
const doc = path.join(ROOT, "docs/benchmarks.md");
if (existsSync(doc)) {
  const text = readFileSync(doc, "utf8");
  const at = text.indexOf("## Soak");
  const next = at < 0 ? -1 : text.indexOf("\n## ", at + 1);
  const section = lines.join("\n") + "\n";
  writeFileSync(doc, at < 0 ? `${text.trimEnd()}\n\n${section}` : text.slice(0, at) + section + (next < 0 ? "" : text.slice(next + 1)));
}
process.stdout.write(`\n${lines.join("\n")}\n`);
process.exit(0);

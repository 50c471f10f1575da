/**
 * The two built-in transports' whole `send` (encoding and the HTTP write of the body, answered at
 * once by a receiver in a child process, so only the sender's CPU is counted) per message, the OTLP
 * one against the Pub/Sub one, in one process, rounds alternated: what OTLP delivery costs beyond
 * Pub/Sub's per exchange, without the server bench's noise (issue 17's OTLP / Pub/Sub target).
 *
 *   node --import tsx bench/transport-ab.ts ["GET /health" | "POST /echo (1 KB in, 1 KB out)" | ...]
 */
import { fork } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_EXCHANGES } from "./exchanges.js";
import { messagesOf } from "./otlp-micro.js";
import { resolveOptions } from "../src/config/options.js";
import { createOtlpTransport } from "../src/transport/otlp/otlp.js";
import { createPubSubTransport } from "../src/transport/pubsub/pubsub.js";
const receiver = join(mkdtempSync(join(tmpdir(), "transport-ab-")), "receiver.mjs");
writeFileSync(receiver, `import http from "node:http";
const s = http.createServer((req, res) => { req.on("data", () => {}); req.on("end", () => { if (req.url.includes(":publish")) res.writeHead(200, {"content-type":"application/json"}).end('{"messageIds":["1"]}'); else res.writeHead(200, {"content-type":"application/x-protobuf","content-length":0}).end(); }); });
s.keepAliveTimeout = 60000; s.listen(0, "127.0.0.1", () => process.send(s.address().port));`);
const child = fork(receiver);
const port: number = await new Promise((r) => child.once("message", (p) => r(p as number)));
const which = process.argv[2] ?? "POST /echo (1 KB in, 1 KB out)";
const ms = messagesOf(new Map(BENCH_EXCHANGES).get(which)!, 500);
process.env.PUBSUB_EMULATOR_HOST = `127.0.0.1:${port}`;
const ps = createPubSubTransport({ project_id: "p", pubsub_project_id: "p", topic_id: "t", pubsub_push_service_account: {} } as never, 10_000);
const cfg = resolveOptions({ apiKey: "k", delivery: "otlp", otlp: { endpoint: `http://127.0.0.1:${port}`, protocol: "http/protobuf" } });
const ot = await createOtlpTransport({ otlp: cfg.otlp!, apiKey: "k", serviceVersion: undefined });
const ids = Float64Array.from(ms, (_, i) => i);
async function round(t: typeof ps, k: number): Promise<number> {
  const c = process.cpuUsage();
  for (let i = 0; i < k; i++) await t.send(ms.map((m) => m.subarray(0)), ids);
  const d = process.cpuUsage(c);
  return (d.user + d.system) / k / ms.length;
}
const a: number[] = [], b: number[] = [];
for (let r = 0; r < 4; r++) { await round(ps, 5); await round(ot as never, 5); }
for (let r = 0; r < 15; r++) {
  if (r % 2) { a.push(await round(ps, 20)); b.push(await round(ot as never, 20)); } else { b.push(await round(ot as never, 20)); a.push(await round(ps, 20)); }
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
console.log(`${process.version} ${which}: us CPU per message, medians of 15 alternated rounds x 20 batches of 500: Pub/Sub ${med(a).toFixed(2)}, OTLP ${med(b).toFixed(2)}, difference ${(med(b) - med(a)).toFixed(2)}`);
await ps.close(); await ot.close(); child.kill();

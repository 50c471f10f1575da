/**
 * gzip for OTLP, measured: for each bench route, the bytes of one span on the wire (in an export
 * request of 200 spans, and alone) without and with gzip, and the CPU gzip costs per span against
 * the CPU the OTLP path already spends on it (parse + span + encode, bench/otlp-micro.ts). The
 * exporter gzips on libuv's thread pool (zlib.gzip, default level), so this CPU is spent off the
 * main thread but on the same machine. Best of 7 trials; the table and the decision are in
 * docs/delivery.md ("OTLP compression").
 *
 *   node --import tsx bench/otlp-gzip.ts
 */
import { gzipSync } from "node:zlib";
import { spanOf, type OtlpWireMessage } from "../src/transport/otlp/span.js";
import { BENCH_EXCHANGES } from "./exchanges.js";
import { BATCH, ProtobufTraceSerializer, best, messagesOf, template } from "./otlp-micro.js";

/** The bench's routes: health, 1 KB echo, 20 KB items. */
const ROUTES = BENCH_EXCHANGES.filter(([name]) => /health|echo|items/.test(name));

console.log(`Node ${process.version}; bytes and us per span (batch of ${BATCH}, and a batch of 1)`);
console.log("| route | bytes (none) | bytes (gzip) | ratio | alone: none / gzip | OTLP CPU us (parse+span+encode) | gzip CPU us | gzip level 1 CPU us / bytes |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const [name, ex] of ROUTES) {
  const messages = messagesOf(ex, BATCH);
  const spans = messages.map((m) => spanOf(JSON.parse(m.toString("utf8")) as OtlpWireMessage, template));
  const request = ProtobufTraceSerializer.serializeRequest(spans)!;
  const zipped = gzipSync(request);
  const fast = gzipSync(request, { level: 1 });
  const one = ProtobufTraceSerializer.serializeRequest(spans.slice(0, 1))!;
  const oneZipped = gzipSync(one);
  const otlp = best(() => {
    const s = messages.map((m) => spanOf(JSON.parse(m.toString("utf8")) as OtlpWireMessage, template));
    ProtobufTraceSerializer.serializeRequest(s);
  }, BATCH);
  const gzip = best(() => gzipSync(request), BATCH);
  const gzip1 = best(() => gzipSync(request, { level: 1 }), BATCH);
  const per = (n: number) => Math.round(n / BATCH).toLocaleString("en-US");
  console.log(`| ${name} | ${per(request.byteLength)} | ${per(zipped.byteLength)} | ${(request.byteLength / zipped.byteLength).toFixed(1)}x | ` +
    `${one.byteLength.toLocaleString("en-US")} / ${oneZipped.byteLength.toLocaleString("en-US")} | ${otlp} | ${gzip} | ${gzip1} / ${per(fast.byteLength)} |`);
}

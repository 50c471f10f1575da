/**
 * What the OTLP transport costs per message, against the Pub/Sub one, off the request path, in
 * batches of 200: the transport's own encoder (src/transport/otlp/encode.ts: the message's head
 * parsed, the span built, protobuf written with the bodies copied from the message), and before it
 * the path through OpenTelemetry's serializer (each message parsed whole, turned into a span by
 * src/transport/otlp/span.ts, encoded by @opentelemetry/otlp-transformer); the Pub/Sub REST
 * transport base64-encodes the same bytes. Best of 7 trials (docs/delivery.md).
 *
 *   node --import tsx bench/otlp-micro.ts
 */
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import type { Exchange } from "../src/capture/exchange.js";
import { resolveOptions } from "../src/config/options.js";
import { serializeExchange } from "../src/wire/serialize.js";
import { fixedResource, spanOf, type OtlpSpan, type OtlpWireMessage } from "../src/transport/otlp/span.js";
import { BufferPool, encodeRequests, parseMessage, requestTemplate } from "../src/transport/otlp/encode.js";
import { REDACTION } from "./app.js";
import { BENCH_EXCHANGES } from "./exchanges.js";

export const { ProtobufTraceSerializer } = (await import("@opentelemetry/otlp-transformer")) as unknown as {
  ProtobufTraceSerializer: { serializeRequest(spans: OtlpSpan[]): Uint8Array | undefined };
};
const cfg = resolveOptions({ apiKey: "k", ...REDACTION });
export const template = { spanName: "monoscope.http", resource: fixedResource({ "service.name": "bench" }), scope: { name: "apitoolkit-node" } };
export const BATCH = 200;

/** `n` wire messages of the exchange (each its own msg_id), as the queue holds them. */
export function messagesOf(ex: Exchange, n: number): Buffer[] {
  return Array.from({ length: n }, () => serializeExchange({ ...ex, msgId: randomUUID() }, cfg, cfg.redaction));
}

/** Best per-message microseconds of 7 trials of about 150 ms, `f` handling `per` messages a call. */
export function best(f: () => void, per: number): string {
  for (let i = 0; i < 10; i++) f();
  let min = Infinity;
  for (let t = 0; t < 7; t++) {
    const start = process.hrtime.bigint();
    let n = 0;
    while (Number(process.hrtime.bigint() - start) < 150e6) {
      f();
      n++;
    }
    min = Math.min(min, Number(process.hrtime.bigint() - start) / n / per);
  }
  return (min / 1000).toFixed(1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();

function main(): void {
  const ours = requestTemplate(template);
  console.log(`Node ${process.version}, us per message`);
  console.log("| exchange | message bytes | OpenTelemetry path: parse | span | encode | total | head parsed: parse head | span | encode | total | **head scanned: total** | Pub/Sub base64 |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const [name, ex] of BENCH_EXCHANGES) {
    const messages = messagesOf(ex, BATCH);
    const parsed = messages.map((m) => JSON.parse(m.toString("utf8")) as OtlpWireMessage);
    const spans = parsed.map((p) => spanOf(p, template));
    const parse = best(() => messages.forEach((m) => JSON.parse(m.toString("utf8"))), BATCH);
    const span = best(() => parsed.forEach((p) => spanOf(p, template)), BATCH);
    const encode = best(() => ProtobufTraceSerializer.serializeRequest(spans), BATCH);
    const base64 = best(() => messages.forEach((m) => m.toString("base64")), BATCH);
    const total = (Number(parse) + Number(span) + Number(encode)).toFixed(1);
    const heads = messages.map(parseMessage);
    const head = best(() => messages.forEach(parseMessage), BATCH);
    const headSpan = best(() => heads.forEach((p) => spanOf(p, template)), BATCH);
    // As the transport does: each request's memory back to the pool once it is sent.
    const pool = new BufferPool();
    const all = best(() => encodeRequests(messages, ours, 4 << 20, [], pool).forEach((p) => pool.give(p.memory)), BATCH);
    const parsedAll = best(() => encodeRequests(messages, ours, 4 << 20, [], pool, false).forEach((p) => pool.give(p.memory)), BATCH);
    const write = Math.max(0, Number(parsedAll) - Number(head) - Number(headSpan)).toFixed(1);
    console.log(`| ${name} | ${messages[0]!.length.toLocaleString("en-US")} | ${parse} | ${span} | ${encode} | ${total} | ${head} | ${headSpan} | ${write} | ${parsedAll} | **${all}** | ${base64} |`);
  }
}

// OTLP receiver child, for the `sdk-otlp` variant: an OTLP/HTTP trace endpoint on loopback. Each
// server child exports to a path of its own (`POST /<key>/v1/traces`, application/x-protobuf,
// registered with `watch`). Every export is answered at once with 200 and an empty
// ExportTraceServiceResponse and its body kept as it came; bodies are decoded only when the parent
// asks for the `count` (between measured runs, as bench/counter.ts pulls only then), with the
// tests' decoder (test/helpers/otlp-receiver.ts: protobufjs and the official opentelemetry-proto
// definitions; a gzipped body, the SDK's default, is gunzipped first). Counts unique span ids per key (the SDK derives a span's id from its msg_id, so a
// span exported twice counts once, as a duplicate). Started by bench/run.ts on core 0 when pinned.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { decodeExport } from "../test/helpers/otlp-receiver.js";
import { answer } from "./lib.js";

interface Watched { pending: Array<{ body: Buffer; gzip: boolean }>; ids: Set<string>; duplicates: number }
const watched = new Map<string, Watched>();
const TRACES = /^\/([^/]+)\/v1\/traces$/;
/** An ExportTraceServiceResponse with no field set (no partial_success) encodes to zero bytes. */
const EMPTY_RESPONSE = Buffer.alloc(0);
let undecodable = 0;
decodeExport(new Uint8Array(0)); // load the definitions now: fail at start, not at the first count

const server = http.createServer((req, res) => {
  const w = watched.get(TRACES.exec(req.url ?? "")?.[1] ?? "");
  if (req.method !== "POST" || !w) {
    req.resume();
    return res.writeHead(404).end();
  }
  if (req.headers["content-type"] !== "application/x-protobuf") {
    req.resume();
    return res.writeHead(415).end("protobuf only");
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    w.pending.push({ body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), gzip: req.headers["content-encoding"] === "gzip" });
    res.writeHead(200, { "content-type": "application/x-protobuf", "content-length": 0 }).end(EMPTY_RESPONSE);
  });
});
server.keepAliveTimeout = 60_000;

/** Decode what arrived since the last count. An export that does not decode is counted apart (its spans never arrive). */
function decodePending(w: Watched): void {
  for (const { body, gzip } of w.pending.splice(0)) {
    try {
      for (const span of decodeExport(gzip ? gunzipSync(body) : body)) {
        if (w.ids.has(span.spanId)) w.duplicates++;
        else w.ids.add(span.spanId);
      }
    } catch (err) {
      if (undecodable++ === 0) process.stderr.write(`otlp receiver: an export does not decode: ${(err as Error).message}\n`);
    }
  }
}

function counts(): Record<string, { count: number; duplicates: number }> {
  return Object.fromEntries([...watched].map(([key, w]) => {
    decodePending(w);
    return [key, { count: w.ids.size, duplicates: w.duplicates }];
  }));
}

answer(async (op, arg) => {
  if (op === "watch") watched.set(String(arg), { pending: [], ids: new Set(), duplicates: 0 });
  else if (op === "unwatch") watched.delete(String(arg));
  else if (op === "close") {
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
    setImmediate(() => process.disconnect?.());
    return {};
  }
  return counts();
});

await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
process.send?.({ id: 0, result: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } });

// Receiver child: loopback stand-ins that answer every delivery at once, for the variants that do
// not publish to the emulator. Each server child delivers to a key of its own (registered with
// `watch`); `count` says what arrived per key. Started by bench/run.ts on core 0 when pinned.
// - OTLP/HTTP traces (`sdk-otlp`, `otel`): `POST /<key>/v1/traces`, application/x-protobuf. Every
//   export is answered at once with 200 and an empty ExportTraceServiceResponse and its body kept
//   as it came; bodies are decoded only when the parent asks for the `count` (between measured
//   runs, as bench/counter.ts pulls only then), with the tests' decoder (test/helpers/otlp-receiver.ts:
//   protobufjs and the official opentelemetry-proto definitions; a gzipped body is gunzipped first). Counts unique span ids per key (the
//   SDK derives a span's id from its msg_id, so a span exported twice counts once, as a duplicate).
// - Pub/Sub REST `topics.publish` (`sdk-standin`): `POST /v1/projects/<project>/topics/<key>:publish`
//   (the SDK pointed here by PUBSUB_EMULATOR_HOST), answered at once with one message id per message;
//   the messages are counted by their `{"data":"` openings (Buffer.indexOf: native, no parse), not
//   decoded: the figure beside the emulator run, with nothing ingested slower than it is made.
// - moesif's collector API (`moesif`, its `baseUri` = `http://.../<key>`): `POST /<key>/v1/events/batch`
//   (gzipped JSON array of events) answered 201 at once, events counted by their `"response":{`
//   keys after gunzip; `GET /<key>/v1/config` and `/v1/rules` answered `{}` / `[]`.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { decodeExport } from "../test/helpers/otlp-receiver.js";
import { answer } from "./lib.js";

interface Watched { pending: Array<{ body: Buffer; gzip: boolean }>; ids: Set<string>; duplicates: number; /** Counted without ids (publish stand-in, moesif). */ plain: number }
const watched = new Map<string, Watched>();
const TRACES = /^\/([^/]+)\/v1\/traces$/;
const PUBLISH = /^\/v1\/projects\/[^/]+\/topics\/([^/:]+):publish$/;
const MOESIF = /^\/([^/]+)\/v1\/(events\/batch|events|config|rules)$/;
const DATA_OPEN = Buffer.from('{"data":"');
const MOESIF_EVENT = Buffer.from('"response":{');

function occurrences(body: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = body.indexOf(needle); at >= 0; at = body.indexOf(needle, at + needle.length)) n++;
  return n;
}

function readBody(req: http.IncomingMessage, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => then(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

/** The stand-ins that are not OTLP; false when the request is none of theirs. */
function standIn(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const url = req.url ?? "";
  const publish = PUBLISH.exec(url);
  if (publish && req.method === "POST") {
    const w = watched.get(publish[1]!);
    readBody(req, (body) => {
      const n = occurrences(body, DATA_OPEN);
      if (w) w.plain += n;
      res.writeHead(w ? 200 : 404, { "content-type": "application/json" });
      res.end(w ? JSON.stringify({ messageIds: Array.from({ length: n }, (_, i) => String(i + 1)) }) : "{}");
    });
    return true;
  }
  const moesif = MOESIF.exec(url);
  if (moesif) {
    const w = watched.get(moesif[1]!);
    readBody(req, (body) => {
      if (w && req.method === "POST" && moesif[2]!.startsWith("events")) {
        try {
          const plain = req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
          w.plain += moesif[2] === "events" ? 1 : occurrences(plain, MOESIF_EVENT);
        } catch {
          undecodable++;
        }
        return res.writeHead(201, { "content-type": "application/json" }).end("{}");
      }
      res.writeHead(w ? 200 : 404, { "content-type": "application/json" }).end(moesif[2] === "rules" ? "[]" : "{}");
    });
    return true;
  }
  return false;
}
/** An ExportTraceServiceResponse with no field set (no partial_success) encodes to zero bytes. */
const EMPTY_RESPONSE = Buffer.alloc(0);
let undecodable = 0;
decodeExport(new Uint8Array(0)); // load the definitions now: fail at start, not at the first count

const server = http.createServer((req, res) => {
  if (standIn(req, res)) return;
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
    return [key, { count: w.ids.size + w.plain, duplicates: w.duplicates }];
  }));
}

answer(async (op, arg) => {
  if (op === "watch") watched.set(String(arg), { pending: [], ids: new Set(), duplicates: 0, plain: 0 });
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

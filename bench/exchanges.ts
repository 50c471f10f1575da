/**
 * The bench routes' exchanges as the SDK captures them (headers, bodies kept in 16 KiB chunks up to
 * the default maxBodyBytes), for the micro-benchmarks that run the per-exchange work outside a server.
 */
import { randomUUID } from "node:crypto";
import type { CapturedBody, Exchange } from "../src/capture/exchange.js";
import { resolveOptions } from "../src/config/options.js";
import { BODIES } from "./app.js";

const MAX_BODY_BYTES = resolveOptions({ apiKey: "k" }).maxBodyBytes;

function body(text: string | Buffer, chunkBytes = 16 * 1024): CapturedBody {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const b: CapturedBody = { chunks: [], keptBytes: 0, totalBytes: buf.length };
  for (let i = 0; i < buf.length && b.keptBytes < MAX_BODY_BYTES; i += chunkBytes) {
    const c = buf.subarray(i, Math.min(i + chunkBytes, buf.length, i + MAX_BODY_BYTES - b.keptBytes));
    b.chunks.push(c);
    b.keptBytes += c.length;
  }
  return b;
}

const REQ_HEADERS = ["Host", "127.0.0.1:3000", "Connection", "keep-alive", "x-api-key", "client-secret", "User-Agent", "autocannon"];

/** One captured exchange (a new msg_id each call). */
export function benchExchange(method: string, url: string, reqCt: string | undefined, reqBody: string | Buffer, resCt: string, resBody: string | Buffer): Exchange {
  return {
    sdkType: "JsExpress", msgId: randomUUID(), startEpochMs: Date.now(), durationNs: 123456, method, host: "127.0.0.1:3000",
    rawUrl: url, urlPath: url, pathParams: {}, protoMajor: 1, protoMinor: 1, statusCode: 200,
    requestHeaders: reqCt ? [...REQ_HEADERS, "Content-Type", reqCt, "Content-Length", String(reqBody.length)] : REQ_HEADERS,
    responseHeaders: { "content-type": `${resCt}; charset=utf-8`, "content-length": String(resBody.length) },
    requestBody: body(reqBody), responseBody: body(resBody), errors: [],
  };
}

const STREAM = Buffer.alloc(1024 * 1024, "streamed-bytes;");
/** [name, exchange] of each bench route (and a nested-token body). */
export const BENCH_EXCHANGES: Array<[string, Exchange]> = [
  ["GET /health", benchExchange("GET", "/health", undefined, "", "application/json", '{"ok":true}')],
  ["POST /echo (1 KB in, 1 KB out)", benchExchange("POST", "/echo", "application/json", BODIES.post1k, "application/json", BODIES.post1k)],
  ["GET /items (20 KB array out)", benchExchange("GET", "/items", undefined, "", "application/json", BODIES.array20k)],
  ["POST /nested (tokens at several depths)", benchExchange("POST", "/nested", "application/json", BODIES.nested, "application/json", '{"ok":true,"items":12}')],
  ["GET /stream (1 MB, 64 KiB kept)", benchExchange("GET", "/stream", undefined, "", "text/plain", STREAM)],
];

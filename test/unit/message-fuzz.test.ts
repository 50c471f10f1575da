// Bad input without Pub/Sub. By volume: random exchanges (hostile headers, bodies, encodings, parsed
// values) through serializeExchange directly: every message passes the wire-format validator
// (test/helpers/wire.ts), says exactly what the readable reference (test/helpers/reference-message.ts)
// says, leaks no planted secret and leaves the exchange untouched. And one
// regression the HTTP fuzz (test/fuzz.test.ts) found, replayed on an in-memory transport.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import express5 from "express5";
import { APIToolkit, type WireMessage } from "../../src/index.js";
import { expressMiddleware } from "../../src/integrations/express/index.js";
import { serializeExchange, stampProjectId } from "../../src/wire/serialize.js";
import { buildMessage } from "../helpers/reference-message.js";
import { type RuleSet } from "../../src/redact/rules.js";
import { resolveOptions } from "../../src/config/options.js";
import type { Exchange } from "../../src/capture/exchange.js";
import { listen, b64text } from "../helpers/server.js";
import { assertWireBytes, assertWireMessage } from "../helpers/wire.js";
import { quietLogger } from "../helpers/logger.js";
import { PATHS, MAX_BODY, plantedDoc, queryArb, looseDeepEqual } from "../helpers/fuzz.js";

// Found by the HTTP fuzz (test/fuzz.test.ts): when an Express 5 handler throws a stack-overflow
// RangeError (echoing a 100,000-level body with res.json), the router leaves a non-string
// req.baseUrl behind; the captured url_path must still be a template.
test("url_path stays a template when the handler overflows the stack", async () => {
  const msgs: Record<string, unknown>[] = [];
  const apitoolkit = new APIToolkit({
    transport: () => ({ send: async (batch: Buffer[]) => void msgs.push(...batch.map((b) => JSON.parse(b.toString()) as Record<string, unknown>)), close: async () => undefined }),
    publishIntervalMs: 5, logger: quietLogger, monitorOutgoing: false,
  });
  const app = express5();
  app.set("env", "production");
  app.use(expressMiddleware(apitoolkit));
  app.use(express5.json({ limit: "1mb" }));
  app.post("/echo", (req, res) => void res.json(req.body));
  const s = await listen(http.createServer(app));
  const body = "[".repeat(100_000) + "]".repeat(100_000);
  const r = await fetch(`${s.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body });
  assert.equal(r.status, 500);
  await apitoolkit.flush(2000);
  await apitoolkit.close(100);
  await s.close();
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]!.url_path, "/echo");
  assertWireMessage(msgs[0]);
});

describe("fuzz: serializeExchange by volume, against the reference", () => {
  const cfg = resolveOptions({ apiKey: "k", redactRequestBody: PATHS, redactResponseBody: PATHS, redactHeaders: ["x-api-key"], maxBodyBytes: MAX_BODY, serviceVersion: "1", tags: ["t"] });
  const rules: RuleSet = { headers: cfg.redactHeaders, request: cfg.requestPaths, response: cfg.responsePaths };
  const anyString = fc.string({ unit: "binary", maxLength: 20 });
  const rawHeadersArb = fc.array(fc.tuple(fc.oneof(anyString, fc.constantFrom("__proto__", "constructor", "Content-Type", "x-api-key", "X-API-KEY", "referer", "content-encoding")), anyString), { maxLength: 12 }).map((pairs) => pairs.flat());
  const objHeadersArb = fc.dictionary(fc.oneof(anyString, fc.constantFrom("__proto__", "content-type", "set-cookie", "x-api-key")), fc.oneof(anyString, fc.array(anyString, { maxLength: 3 }), fc.integer()), { maxKeys: 8 });
  const bodyArb = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    plantedDoc.map(({ doc }) => Buffer.from(JSON.stringify(doc))),
    fc.string({ unit: "binary", maxLength: 200 }).map((s) => Buffer.from(s)),
  );
  const parsedArb = fc.oneof(fc.constant(undefined), fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withBoxedValues: true, maxDepth: 3 }), plantedDoc.map(({ doc }) => doc));
  const contentType = fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xx", "image/png", "", "application/json; charset=latin1");
  const encoding = fc.constantFrom(undefined, "gzip", "br", "deflate", "identity", "bogus");

  function capturedBody(chunks: Buffer[], total: number, parsed: unknown) {
    let kept = 0;
    const out: Buffer[] = [];
    for (const c of chunks) {
      const room = MAX_BODY - kept;
      if (room <= 0) break;
      const k = c.subarray(0, room);
      out.push(k);
      kept += k.length;
    }
    return { chunks: out, keptBytes: kept, totalBytes: Math.max(total, kept), ...(kept === 0 && parsed !== undefined ? { parsed } : {}) };
  }

  const exchangeArb = fc.record({
    method: fc.constantFrom("get", "POST", "put", "DELETE", "weird-Method"),
    rawUrl: fc.oneof(fc.webPath(), fc.string({ unit: "binary", maxLength: 40 }).map((s) => `/${s}`), queryArb.map((q) => `/p?${q}`)),
    host: anyString,
    reqHeaders: fc.oneof(rawHeadersArb, objHeadersArb),
    resHeaders: fc.oneof(rawHeadersArb, objHeadersArb),
    reqCt: contentType,
    resCt: contentType,
    enc: encoding,
    reqBody: fc.array(bodyArb, { maxLength: 3 }),
    resBody: fc.array(bodyArb, { maxLength: 3 }),
    extraTotal: fc.nat(1_000_000),
    parsed: parsedArb,
    status: fc.integer({ min: 100, max: 599 }),
    durationNs: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e12, noNaN: true })),
    start: fc.integer({ min: 0, max: 4102444800000 }),
    pathParams: fc.dictionary(anyString, anyString, { maxKeys: 3 }),
    urlPath: fc.option(fc.constantFrom("", "/users/:id"), { nil: undefined }),
  });

  test("every built message passes the wire validator, leaks no planted secret and leaves the exchange untouched", () => {
    fc.assert(
      fc.property(exchangeArb, (g) => {
        const withCt = (h: unknown[] | Record<string, unknown>, ct: string, enc: string | undefined) =>
          Array.isArray(h) ? [...h, "Content-Type", ct, ...(enc ? ["Content-Encoding", enc] : [])] : { ...h, "content-type": ct, ...(enc ? { "content-encoding": enc } : {}) };
        const reqTotal = g.reqBody.reduce((n, b) => n + b.length, 0);
        const ex: Exchange = {
          sdkType: "JsExpress",
          msgId: randomUUID(),
          startEpochMs: g.start,
          durationNs: g.durationNs,
          method: g.method,
          host: g.host,
          rawUrl: g.rawUrl,
          urlPath: g.urlPath,
          pathParams: g.pathParams,
          protoMajor: 1,
          protoMinor: 1,
          statusCode: g.status,
          requestHeaders: withCt(g.reqHeaders, g.reqCt, g.enc) as Exchange["requestHeaders"],
          responseHeaders: withCt(g.resHeaders, g.resCt, undefined) as Exchange["responseHeaders"],
          requestBody: capturedBody(g.reqBody, reqTotal + (g.extraTotal % 3 === 0 ? g.extraTotal : 0), g.parsed),
          responseBody: capturedBody(g.resBody, g.resBody.reduce((n, b) => n + b.length, 0), undefined),
          errors: [],
        };
        const parsedBefore = g.parsed;
        const snapshot = { ...ex, requestBody: { ...ex.requestBody, chunks: ex.requestBody.chunks.map((c) => Buffer.from(c)) }, responseBody: { ...ex.responseBody, chunks: ex.responseBody.chunks.map((c) => Buffer.from(c)) } };
        const parsedClone = isCloneable(parsedBefore) ? structuredClone(parsedBefore) : undefined;
        const bytes = serializeExchange(ex, cfg, rules);
        stampProjectId(bytes, "00000000-0000-4000-8000-000000000000");
        const msg = assertWireBytes(bytes) as unknown as WireMessage;
        const reference = JSON.parse(JSON.stringify(buildMessage(ex, cfg, "00000000-0000-4000-8000-000000000000", rules))) as unknown;
        assert.deepEqual(JSON.parse(bytes.toString("utf8")), reference, "the one-pass serializer says what the reference says");
        assert.ok(bytes.length < 64 * 1024);
        assert.deepEqual({ ...ex, requestBody: { ...ex.requestBody, parsed: undefined }, responseBody: ex.responseBody }, { ...snapshot, requestBody: { ...snapshot.requestBody, parsed: undefined } });
        if (parsedClone !== undefined) looseDeepEqual(parsedBefore, parsedClone, "the parsed body the app owns is not mutated");
        for (const [name, values] of Object.entries(msg.request_headers)) {
          if (name === "x-api-key") assert.deepEqual(values, ["[CLIENT_REDACTED]"]);
        }
        const planted = ex.requestBody.keptBytes === 0 && isPlanted(g.parsed);
        for (const [side, ct, body] of [["request", g.reqCt, msg.request_body], ["response", g.resCt, msg.response_body]] as const) {
          const text = b64text(body);
          if (!text.includes("S3CR3T-")) continue;
          assert.ok(!(side === "request" && planted && ct !== "image/png"), `a parsed body (${ct}) leaked a secret: ${text.slice(0, 200)}`);
          assert.ok(!(isJson(text) && /json|^$|^text\/plain$/.test(ct)), `a JSON body (${ct}) leaked a secret: ${text.slice(0, 200)}`);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

function isPlanted(v: unknown): boolean {
  return typeof v === "object" && v !== null && typeof (v as { password?: unknown }).password === "string" && (v as { password: string }).password.startsWith("S3CR3T-");
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function isCloneable(v: unknown): boolean {
  try {
    structuredClone(v);
    return true;
  } catch {
    return false;
  }
}

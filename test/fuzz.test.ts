// Bad input, end to end. Random and hostile bodies, headers and query strings go through a real
// Express 5 app with the SDK, publishing to the real emulator (by volume, through buildMessage
// directly: test/unit/message-fuzz.test.ts). Properties: the SDK never throws into the app
// (responses equal the bare app's), never mutates what the app owns, never lets a value at a
// configured redaction path out, and every message it publishes passes the wire-format validator
// (test/helpers/wire.ts).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import fc from "fast-check";
import "./helpers/fast-check-seed.js";
import express5 from "express5";
import { APIToolkit, type WireMessage } from "../src/index.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, type MetadataServer } from "./helpers/metadata.js";
import { listen, b64text, type Listening } from "./helpers/server.js";
import { assertWireMessage } from "./helpers/wire.js";
import { quietLogger } from "./helpers/logger.js";
import { PATHS, MAX_BODY, secretArb, plantedDoc, queryArb, looseDeepEqual } from "./helpers/fuzz.js";

const contentTypeArb = fc.constantFrom("application/json", "application/json; charset=utf-8", "application/vnd.api+json", "text/plain", undefined);
const headerNameArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((n) => !["content-length", "transfer-encoding", "host", "connection", "content-type", "expect", "content-encoding", "x-api-key", "authorization", "upgrade", "te", "trailer"].includes(n));
const headerValueArb = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,30}$/);

interface Owned { body: unknown; clone: unknown }

function buildApp(apitoolkit: APIToolkit | undefined, parserFirst: boolean, owned: Owned[]) {
  const app = express5();
  app.set("env", "production");
  // /upload reads the stream itself: the parsers leave it alone.
  const type = (t: string) => (req: http.IncomingMessage) => !req.url?.startsWith("/upload") && (req.headers["content-type"] ?? "").includes(t);
  const parsers = [express5.json({ limit: "60mb", type: type("json") }), express5.urlencoded({ extended: false, type: type("urlencoded") }), express5.text({ type: type("text/") })];
  if (parserFirst) app.use(...parsers);
  if (apitoolkit) app.use(expressMiddleware(apitoolkit));
  if (!parserFirst) app.use(...parsers);
  app.post("/echo", (req, res) => {
    if (req.body && typeof req.body === "object") owned.push({ body: req.body, clone: structuredClone(req.body) });
    res.setHeader("x-api-key", "server-secret");
    res.append("set-cookie", ["a=1", "b=2"]);
    // Echo objects (redacted by the response rules); a string body is echoed as its length only.
    res.json(typeof req.body === "string" ? { length: req.body.length } : req.body ?? null);
  });
  app.post("/deep", (req, res) => {
    res.json({ type: typeof req.body });
  });
  app.post("/upload", (req, res) => {
    let n = 0;
    req.on("data", (c: Buffer) => (n += c.length));
    req.on("end", () => res.json({ bytes: n }));
  });
  app.get("/q", (req, res) => {
    res.json({ n: Object.keys(req.query).length, headers: req.rawHeaders.length / 2 });
  });
  return app;
}

interface RawResponse { status: number; headers: Record<string, string>; body: Buffer }

/** One HTTP/1.1 request written byte for byte (duplicate headers, obs-text, huge counts), Connection: close. */
function rawRequest(url: string, head: string, body: Buffer = Buffer.alloc(0)): Promise<RawResponse> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), "127.0.0.1");
    const chunks: Buffer[] = [];
    sock.on("data", (c) => chunks.push(c));
    sock.on("error", reject);
    sock.on("end", () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf("\r\n\r\n");
      const lines = all.subarray(0, split).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        const k = l.slice(0, i).toLowerCase();
        headers[k] = headers[k] === undefined ? l.slice(i + 1).trim() : `${headers[k]}, ${l.slice(i + 1).trim()}`;
      }
      let rest = all.subarray(split + 4);
      if (headers["transfer-encoding"] === "chunked") {
        const parts: Buffer[] = [];
        for (;;) {
          const eol = rest.indexOf("\r\n");
          const size = parseInt(rest.subarray(0, eol).toString("latin1"), 16);
          if (!size) break;
          parts.push(rest.subarray(eol + 2, eol + 2 + size));
          rest = rest.subarray(eol + 2 + size + 2);
        }
        rest = Buffer.concat(parts);
      }
      resolve({ status: Number(lines[0]!.split(" ")[1]), headers, body: rest });
    });
    sock.write(Buffer.concat([Buffer.from(`${head}\r\nConnection: close\r\n\r\n`, "latin1"), body]));
  });
}

function comparable(r: RawResponse) {
  const { date: _d, ...headers } = r.headers;
  return { status: r.status, headers, body: r.body.toString("latin1") };
}

/** Every published value, bodies decoded, as one string (to search for secrets). */
/** What the app's data could have reached, decoded. The SDK's own ids are left out: fast-check's
 *  edge-case uuids (all zeros) would otherwise "find" a secret inside project_id. */
function published(msgs: WireMessage[]): string {
  return JSON.stringify(
    msgs.map(({ project_id: _p, msg_id: _m, parent_id: _parent, ...m }) => ({ ...m, request_body: b64text(m.request_body), response_body: b64text(m.response_body) })),
  );
}

describe("fuzz: hostile input through Express 5 with the SDK", () => {
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let bare: Listening;
  const sdk: Listening[] = [];
  const owned: Owned[] = [];
  let sent = 0;
  const log: string[] = [];

  before(async () => {
    topic = await createTestTopic("fuzz");
    meta = await startMetadataServer(topic.topicId);
    apitoolkit = new APIToolkit({
      apiKey: GOOD_KEY,
      rootURL: meta.url,
      logger: quietLogger,
      redactHeaders: ["x-api-key"],
      redactRequestBody: PATHS,
      redactResponseBody: PATHS,
      maxBodyBytes: MAX_BODY,
      publishIntervalMs: 20,
      monitorOutgoing: false,
    });
    bare = await listen(http.createServer(buildApp(undefined, true, [])));
    sdk.push(await listen(http.createServer(buildApp(apitoolkit, true, owned))));
    sdk.push(await listen(http.createServer(buildApp(apitoolkit, false, owned))));
  });

  after(async () => {
    await apitoolkit.close(3000);
    for (const s of [bare, ...sdk]) await s.close();
    await meta.close();
    await topic.close();
  });

  /**
   * Send the same request to the bare app and both SDK apps; responses must be identical. Counts the
   * messages expected: the app with the parsers mounted BEFORE the SDK never reaches the SDK's
   * middleware when a parser rejects the body (Express skips to the error handler), so those are not captured.
   */
  async function same(head: (host: string) => string, body?: Buffer): Promise<RawResponse> {
    const want = await rawRequest(bare.url, head(new URL(bare.url).host), body);
    for (const [i, s] of sdk.entries()) {
      const got = await rawRequest(s.url, head(new URL(bare.url).host), body);
      const parserRejected = i === 0 && got.status >= 400 && head("").startsWith("POST /echo");
      if (!parserRejected) {
        sent++;
        log.push(`${i} ${got.status} ${head("h").split("\r\n")[0]}`);
      }
      assert.deepEqual(comparable(got), comparable(want));
    }
    return want;
  }

  test("random JSON bodies, headers and query strings: same responses, nothing secret out, valid messages", async () => {
    sent = 0;
    const secrets: string[] = [];
    await fc.assert(
      fc.asyncProperty(plantedDoc, contentTypeArb, fc.array(fc.tuple(headerNameArb, headerValueArb), { maxLength: 8 }), queryArb, secretArb, async ({ doc, secrets: s }, ct, headers, query, apiKey) => {
        secrets.push(...s, apiKey);
        const body = Buffer.from(JSON.stringify(doc));
        const extra = headers.map(([k, v]) => `${k}: ${v}\r\n`).join("");
        await same((host) => `POST /echo?${query} HTTP/1.1\r\nHost: ${host}\r\n${ct ? `Content-Type: ${ct}\r\n` : ""}X-Api-Key: ${apiKey}\r\nx-API-key: ${apiKey}\r\n${extra}Content-Length: ${body.length}`, body);
      }),
      { numRuns: 40 },
    );
    const msgs = await topic.pull(sent, 20_000);
    if (msgs.length !== sent) {
      const seen = msgs.map((m) => `${m.method} ${m.raw_url}`);
      console.log(log.filter((l) => !seen.includes(l.split(" ").slice(2, 4).join(" "))));
    }
    assert.equal(msgs.length, sent, `one message per request; stats ${JSON.stringify(apitoolkit.stats())}`);
    for (const m of msgs) assertWireMessage(m);
    const text = published(msgs);
    for (const s of secrets) {
      const leak = msgs.find((m) => published([m]).includes(s));
      assert.ok(!leak, `secret ${s} must not be published: ${published(leak ? [leak] : []).slice(0, 1500)}`);
    }
    assert.ok(!text.includes("server-secret"));
    assert.ok(msgs.every((m) => m.request_headers["x-api-key"]?.length === 1 && m.request_headers["x-api-key"][0] === "[CLIENT_REDACTED]"));
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");
    assert.equal(await apitoolkit.flush(5000), true);
    // Loose: structuredClone drops null prototypes (urlencoded bodies); values must be unchanged.
    for (const o of owned) looseDeepEqual(o.body, o.clone, "req.body is not mutated by the SDK");
    owned.length = 0;
    sent = 0;
  });

  test("invalid JSON, invalid UTF-8 and form bodies carrying secrets: no leak, same responses", async () => {
    sent = 0;
    const secrets: string[] = [];
    const bodyArb = fc.oneof(
      secretArb.chain((s) => fc.constantFrom(`{"password":"${s}",`, `{"password":"${s}"}}`, `[{"secret":"${s}"`, `{"a":{"secret":"${s}"}, trailing}`).map((t) => ({ s, ct: "application/json", body: Buffer.from(t) }))),
      secretArb.map((s) => ({ s, ct: "application/x-www-form-urlencoded", body: Buffer.from(`user=ann&password=${s}&password=${s}x`) })),
      fc.tuple(secretArb, fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([s, bytes]) => ({ s, ct: "application/json", body: Buffer.concat([Buffer.from(`{"password":"${s}","x":"`), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(bytes), Buffer.from('"}')]) })),
    );
    await fc.assert(
      fc.asyncProperty(bodyArb, async ({ s, ct, body }) => {
        secrets.push(s);
        await same((host) => `POST /echo HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${ct}\r\nContent-Length: ${body.length}`, body);
      }),
      { numRuns: 30 },
    );
    const msgs = await topic.pull(sent, 20_000);
    assert.equal(msgs.length, sent, `stats ${JSON.stringify(apitoolkit.stats())}`);
    for (const m of msgs) assertWireMessage(m);
    const text = published(msgs);
    for (const s of secrets) assert.ok(!text.includes(s.slice(7)), `secret ${s} must not be published`);
    sent = 0;
  });

  test("100,000-level nesting, __proto__ keys, duplicate and 800 headers, odd query strings", async () => {
    sent = 0;
    const deepArr = Buffer.from("[".repeat(100_000) + "]".repeat(100_000));
    const deepObj = Buffer.from('{"a":'.repeat(100_000) + '{"password":"DEEP-SECRET"}' + "}".repeat(100_000));
    for (const body of [deepArr, deepObj]) {
      const r = await same((host) => `POST /deep HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}`, body);
      assert.equal(r.status, 200);
    }
    const proto = Buffer.from('{"__proto__":{"secret":"PROTO-SECRET","polluted":1},"constructor":{"prototype":{"polluted":1}},"password":"TOP-SECRET"}');
    await same((host) => `POST /echo HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${proto.length}`, proto);
    const many = Array.from({ length: 800 }, (_, i) => `h${i}: ${i % 7}`).join("\r\n"); // Node 24 answers 431 from about 1,000 headers
    const r = await same((host) => `GET /q?a=1&a=2&%zz=%ff&b=%ED%A0%80&=&c HTTP/1.1\r\nHost: ${host}\r\nX-Dup: one\r\nx-dup: two\r\nX-Obs: caf\xe9\r\n${many}`);
    assert.equal(r.status, 200);
    const seenByApp = (JSON.parse(r.body.toString()) as { headers: number }).headers; // every header node passed to the app
    const msgs = await topic.pull(sent, 20_000);
    assert.equal(msgs.length, sent);
    for (const m of msgs) assertWireMessage(m);
    const text = published(msgs);
    for (const s of ["DEEP-SECRET", "PROTO-SECRET", "TOP-SECRET"]) assert.ok(!text.includes(s), `${s} must not be published`);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const q = msgs.filter((m) => m.raw_url.startsWith("/q?"));
    assert.equal(q.length, 2);
    for (const m of q) {
      assert.deepEqual(m.request_headers["x-dup"], ["one", "two"]);
      assert.deepEqual(m.request_headers["x-obs"], ["caf\xe9"]);
      assert.deepEqual(m.query_params.a, ["1", "2"]);
      assert.deepEqual(m.query_params["%zz"], ["\ufffd"]);
      assert.equal(Object.values(m.request_headers).flat().length, seenByApp, "every header the app saw");
    }
    sent = 0;
  });

  test("a 50 MB body: the body limit keeps the message small, the app reads it all", async () => {
    sent = 0;
    const big = Buffer.alloc(50 * 1024 * 1024, '{"password":"x"}');
    const r = await same((host) => `POST /upload HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${big.length}`, big);
    assert.deepEqual(JSON.parse(r.body.toString()), { bytes: big.length });
    const msgs = await topic.pull(sent, 20_000);
    assert.equal(msgs.length, sent);
    for (const m of msgs) {
      assertWireMessage(m);
      assert.ok(JSON.stringify(m).length < 64 * 1024, "message stays small");
      assert.ok(b64text(m.request_body).length <= MAX_BODY);
      assert.ok(!b64text(m.request_body).includes('"x"'), "a cut JSON body with rules is not sent");
    }
    sent = 0;
  });
});

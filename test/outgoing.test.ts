// Outgoing calls (fetch/undici, node:http, node:https) end to end: real upstream servers on
// loopback, an Express 5 (and Fastify 5) app making the calls, bootstrap through a local
// client_metadata stand-in, publishing to the real Pub/Sub emulator; messages checked field by field.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import dc from "node:diagnostics_channel";
import http from "node:http";
import https from "node:https";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import express5 from "express5";
import Fastify5 from "fastify5";
import { request as gaxiosRequest } from "gaxios";
import { APIToolkit, type WireMessage } from "../src/index.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { fastifyPlugin } from "../src/integrations/fastify/index.js";
import { runSuppressed } from "../src/capture/context.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { listen, b64json, b64text, withoutHost, type Listening } from "./helpers/server.js";
import { one } from "./helpers/messages.js";
import { quietLogger } from "./helpers/logger.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const R = "[CLIENT_REDACTED]";

/** Upstream: echoes what it received, with a secret response header and a token in the body. */
function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (req.url?.startsWith("/never-read")) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("x".repeat(1024));
      return; // never ends: the caller gives up
    }
    const body = Buffer.concat(chunks).toString("utf8");
    res.setHeader("content-type", "application/json");
    res.setHeader("x-upstream-secret", "up-secret-1");
    res.setHeader("set-cookie", ["sid=up-cookie"]);
    res.statusCode = req.url?.startsWith("/missing") ? 404 : 200;
    res.end(JSON.stringify({ method: req.method, url: req.url, got: body ? JSON.parse(body) : null, token: "tok-SECRET" }));
  });
}

function makeCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "apitoolkit-tls-"));
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function httpCall(url: string, opts: https.RequestOptions & { body?: string[] }, mod: typeof http | typeof https = http): Promise<{ status: number; body: string; writes: unknown[] }> {
  return new Promise((resolve, reject) => {
    const req = mod.request(url, opts, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body, writes }));
    });
    req.on("error", reject);
    const writes: unknown[] = [];
    const parts = opts.body ?? [];
    parts.slice(0, -1).forEach((p) => writes.push(req.write(p)));
    writes.push(req.end(parts[parts.length - 1]) === req);
  });
}

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** The one message for `raw`; most here are outgoing calls. */
const byUrl = (msgs: WireMessage[], raw: string, sdkType = "JsOutgoing"): WireMessage => one(msgs, raw, { sdkType });

function assertCommon(m: WireMessage): void {
  assert.equal(m.project_id, PROJECT_ID);
  assert.match(m.msg_id, UUID);
  assert.ok(Number.isInteger(m.duration) && m.duration > 0);
  assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(m.proto_major, 1);
  assert.equal(m.proto_minor, 1);
  assert.deepEqual(m.tags, ["env:test"]);
  for (const v of Object.values(m.request_headers)) assert.ok(Array.isArray(v));
  for (const v of Object.values(m.response_headers)) assert.ok(Array.isArray(v));
}

describe("outgoing calls", () => {
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let up: Listening;
  let up2: Listening;
  let tls: https.Server;
  let tlsUrl: string;
  let app: Listening;
  let upHost: string;

  before(async () => {
    topic = await createTestTopic("outgoing");
    meta = await startMetadataServer(topic.topicId);
    up = await listen(http.createServer(upstreamHandler));
    up2 = await listen(http.createServer(upstreamHandler));
    tls = https.createServer(makeCert(), upstreamHandler);
    await new Promise<void>((r) => tls.listen(0, "127.0.0.1", r));
    tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    upHost = new URL(up.url).host;
    apitoolkit = new APIToolkit({
      apiKey: GOOD_KEY,
      rootURL: meta.url,
      redactHeaders: ["x-upstream-secret"],
      redactRequestBody: ["$.password"],
      redactResponseBody: ["$.token"],
      tags: ["env:test"],
      publishIntervalMs: 20,
      logger: quietLogger,
      outgoing: {
        redactHeaders: ["x-out-key"],
        redactRequestBody: ["$.card"],
        redactResponseBody: ["$.got.password", "$.got.card"],
        urlTemplates: ["/v1/customers/:id", { host: new URL(up2.url).host, template: "/v2/things/:thing/parts/:part" }],
        destinations: [{ host: new URL(up2.url).host, redactResponseBody: ["$.got.name"], redactHeaders: ["content-type"] }],
        ignorePaths: ["/ignored"],
        ignoreHosts: [/^localhost:/],
      },
    });

    const e = express5();
    e.use(expressMiddleware(apitoolkit));
    e.use(express5.json());
    e.post("/orders/:id", async (req, res) => {
      const viaFetch = await fetch(`${up.url}/v1/customers/${req.params.id}?expand=1`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-out-key": "out-secret", authorization: "Bearer up-token" },
        body: JSON.stringify({ name: "ann", password: "hunter2", card: { number: "4111" } }),
      });
      const fetched = (await viaFetch.json()) as { got: unknown };
      const plain = await httpCall(`${up2.url}/v2/things/a%20b/parts/9`, {
        method: "PUT", headers: { "content-type": "application/json", "x-out-key": "k2" }, body: ['{"name":"bob",', '"password":"p2"}'],
      });
      const secure = await httpCall(`${tlsUrl}/secure?x=1`, { method: "POST", rejectUnauthorized: false, headers: { "content-type": "application/json" }, body: ['{"card":"5500"}'] }, https);
      await fetch(`${up.url}/ignored`).then((r) => r.text());
      // The upstream got the real body (compared here, so the incoming message does not carry it).
      const realBody = JSON.stringify(fetched.got) === JSON.stringify({ name: "ann", password: "hunter2", card: { number: "4111" } });
      res.status(201).json({ realBody, plainWrites: plain.writes, secure: JSON.parse(secure.body).url });
    });
    e.get("/fail", async (_req, res) => {
      const port = await closedPort();
      const out: Record<string, unknown> = {};
      try {
        await fetch(`http://127.0.0.1:${port}/refused-fetch`);
      } catch (err) {
        const er = err as Error & { cause?: { code?: string } };
        out.fetch = [er.constructor.name, er.message, er.cause?.code];
      }
      try {
        await httpCall(`http://127.0.0.1:${port}/refused-http`, { method: "GET" });
      } catch (err) {
        out.http = [(err as Error).constructor.name, (err as { code?: string }).code];
      }
      try {
        await fetch(`${up.url}/never-read/abort`, { signal: AbortSignal.timeout(300) }).then((r) => r.text());
      } catch (err) {
        out.timeout = (err as Error).name;
      }
      res.json(out);
    });
    app = await listen(http.createServer(e));
  });

  after(async () => {
    await apitoolkit.close(3000);
    await app.close();
    await up.close();
    await up2.close();
    tls.closeAllConnections();
    await new Promise((r) => tls.close(r));
    await meta.close();
    await topic.close();
  });

  test("fetch, node:http and https calls in an Express handler: one message each, linked and redacted", async () => {
    const res = await runSuppressed(() => fetch(`${app.url}/orders/7`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ q: 1 }),
    }));
    assert.equal(res.status, 201);
    const answer = (await res.json()) as { realBody: boolean; plainWrites: unknown[]; secure: string };
    assert.equal(answer.realBody, true, "the upstream got the real body");
    assert.deepEqual(answer.plainWrites, [true, true], "write() and end() return what node returns");
    assert.equal(answer.secure, "/secure?x=1");

    const msgs = await topic.pull(4);
    assert.equal(msgs.length, 4);
    for (const m of msgs) assertCommon(m);
    const incoming = byUrl(msgs, "/orders/7", "JsExpress");
    assert.equal(incoming.url_path, "/orders/:id");
    assert.equal(incoming.parent_id, undefined);

    const f = byUrl(msgs, "/v1/customers/7?expand=1");
    assert.equal(f.parent_id, incoming.msg_id);
    assert.equal(f.host, upHost);
    assert.equal(f.method, "POST");
    assert.equal(f.status_code, 200);
    assert.equal(f.url_path, "/v1/customers/:id");
    assert.deepEqual(f.path_params, { id: "7" });
    assert.deepEqual(f.query_params, { expand: ["1"] });
    assert.deepEqual(b64json(f.request_body), { name: "ann", password: R, card: R });
    assert.deepEqual(f.request_headers["x-out-key"], [R]);
    assert.deepEqual(f.request_headers.authorization, [R]);
    assert.deepEqual(f.request_headers["content-type"], ["application/json"]);
    assert.deepEqual(f.response_headers["x-upstream-secret"], [R]);
    assert.deepEqual(f.response_headers["set-cookie"], [R]);
    assert.deepEqual(b64json(f.response_body), { method: "POST", url: "/v1/customers/7?expand=1", got: { name: "ann", password: R, card: R }, token: R },
      "top-level $.token and outgoing $.got.* response rules");
    assert.deepEqual(f.errors, []);

    const p = byUrl(msgs, "/v2/things/a%20b/parts/9");
    assert.equal(p.parent_id, incoming.msg_id);
    assert.equal(p.host, new URL(up2.url).host);
    assert.equal(p.method, "PUT");
    assert.equal(p.url_path, "/v2/things/:thing/parts/:part", "host-specific template");
    assert.deepEqual(p.path_params, { thing: "a b", part: "9" });
    assert.deepEqual(p.request_headers.host, [new URL(up2.url).host]);
    assert.deepEqual(p.request_headers["x-out-key"], [R]);
    assert.deepEqual(p.request_headers["content-type"], [R], "per-destination header rule");
    assert.deepEqual(b64json(p.request_body), { name: "bob", password: R }, "body written in two chunks");
    assert.deepEqual(b64json(p.response_body), { method: "PUT", url: "/v2/things/a%20b/parts/9", got: { name: R, password: R }, token: R },
      "per-destination response rule on top of the top-level one");

    const s = byUrl(msgs, "/secure?x=1");
    assert.equal(s.parent_id, incoming.msg_id);
    assert.equal(s.host, new URL(tlsUrl).host);
    assert.equal(s.url_path, "/secure", "no template matches: the path");
    assert.deepEqual(s.path_params, {});
    assert.deepEqual(b64json(s.request_body), { card: R });
    assert.equal(s.status_code, 200);

    assert.equal(new Set(msgs.map((m) => m.msg_id)).size, 4);
    // The host header carries the upstream's random port (34111, 55001, ...): a port is not a secret.
    const all = JSON.stringify(msgs.map((m) => [b64text(m.request_body), b64text(m.response_body), withoutHost(m.request_headers), m.response_headers]));
    for (const secret of ["hunter2", "4111", "5500", "out-secret", "up-token", "up-secret-1", "up-cookie", "tok-SECRET", '"p2"']) {
      assert.ok(!all.includes(secret), `secret ${secret} must not be published`);
    }
    assert.ok(!msgs.some((m) => m.raw_url === "/ignored"), "outgoing.ignorePaths");
    assert.deepEqual(await topic.drain(800), [], "nothing else: no /ignored call, no SDK traffic");
  });

  test("failures: connection refused and timeouts are reported with status 0; the caller's error is unchanged", async () => {
    const res = await runSuppressed(() => fetch(`${app.url}/fail`));
    const seen = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(seen.fetch, ["TypeError", "fetch failed", "ECONNREFUSED"]);
    assert.deepEqual(seen.http, ["Error", "ECONNREFUSED"]);
    assert.equal(seen.timeout, "TimeoutError");

    const msgs = await topic.pull(4);
    const incoming = byUrl(msgs, "/fail", "JsExpress");
    const f = byUrl(msgs, "/refused-fetch");
    const h = byUrl(msgs, "/refused-http");
    for (const m of [f, h]) {
      assertCommon(m);
      assert.equal(m.status_code, 0);
      assert.equal(m.parent_id, incoming.msg_id);
      assert.equal(m.response_body, "");
      assert.equal(m.errors.length, 1);
      assert.match(m.errors[0]!.root_error_message, /ECONNREFUSED/);
    }
    const t = byUrl(msgs, "/never-read/abort");
    assert.equal(t.parent_id, incoming.msg_id);
    assert.equal(t.status_code, 200, "headers arrived before the timeout");
    assert.equal(b64text(t.response_body), "x".repeat(1024), "what was seen");
    assert.equal(t.errors.length, 1);
    assert.equal(t.errors[0]!.error_type, "DOMException");
    assert.deepEqual(await topic.drain(800), []);
  });

  test("a response body the caller never reads is not read by the SDK", async () => {
    let res: http.IncomingMessage | undefined;
    await new Promise<void>((resolve, reject) => {
      http.get(`${up.url}/never-read/http`, (r) => {
        res = r;
        resolve();
      }).on("error", reject);
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(res!.readableFlowing, null, "still paused: the SDK added no 'data' listener");
    assert.ok(res!.readableLength > 0, "the bytes wait in the stream's buffer, unread");
    res!.destroy();
    const [m] = await topic.pull(1);
    assert.equal(m!.raw_url, "/never-read/http");
    assert.equal(m!.status_code, 200);
    assert.equal(m!.response_body, "", "nothing was read, so nothing was captured");
    assert.equal(m!.parent_id, undefined);
  });

  test("a call from a background timer has no parent_id", async () => {
    await new Promise<void>((resolve) => {
      setTimeout(() => void fetch(`${up.url}/background?n=1`).then((r) => r.text()).then(() => resolve()), 1);
    });
    const [m] = await topic.pull(1);
    assertCommon(m!);
    assert.equal(m!.raw_url, "/background?n=1");
    assert.equal(m!.method, "GET");
    assert.equal(m!.parent_id, undefined);
    assert.ok(!("parent_id" in m!));
    assert.equal(m!.url_path, "/background");
    assert.equal(m!.status_code, 200);
    assert.equal(m!.request_body, "");
  });

  test("the SDK's own traffic is never captured (bootstrap, Pub/Sub, google-auth's gaxios when suppressed)", async () => {
    assert.ok(meta.calls.length >= 1, "bootstrap happened");
    assert.equal(apitoolkit.stats().state, "ready");
    await runSuppressed(async () => {
      await gaxiosRequest({ url: `${up.url}/gaxios/suppressed`, method: "POST", data: { a: 1 } });
      await new Promise<void>((resolve) => setTimeout(() => void gaxiosRequest({ url: `${up.url}/gaxios/suppressed-later` }).then(() => resolve()), 1));
    });
    await gaxiosRequest({ url: `${up.url}/gaxios/visible`, method: "POST", data: { password: "pw" } });
    const msgs = await topic.pull(1);
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0]!.raw_url, "/gaxios/visible", "the same library outside runSuppressed is captured");
    assert.deepEqual(b64json(msgs[0]!.request_body), { password: R });
    const emulator = process.env.PUBSUB_EMULATOR_HOST!;
    const rest = await topic.drain(800);
    for (const m of [...msgs, ...rest]) {
      assert.notEqual(m.host, new URL(meta.url).host);
      assert.notEqual(m.host, emulator);
    }
    assert.deepEqual(rest, []);
  });

  test("Fastify 5: calls in a handler carry the request's msg_id", async () => {
    const f = Fastify5();
    await f.register(fastifyPlugin(apitoolkit));
    f.get("/fx/:id", async (req) => {
      const r = await fetch(`${up.url}/v1/customers/${(req.params as { id: string }).id}`);
      return { upstream: r.status };
    });
    await f.listen({ port: 0, host: "127.0.0.1" });
    try {
      const port = (f.server.address() as AddressInfo).port;
      const res = await runSuppressed(() => fetch(`http://127.0.0.1:${port}/fx/5`));
      assert.deepEqual(await res.json(), { upstream: 200 });
      const msgs = await topic.pull(2);
      const incoming = byUrl(msgs, "/fx/5", "JsFastify");
      const out = byUrl(msgs, "/v1/customers/5");
      assert.equal(out.parent_id, incoming.msg_id);
      assert.equal(out.url_path, "/v1/customers/:id");
      assert.deepEqual(out.path_params, { id: "5" });
    } finally {
      await f.close();
    }
  });
});

describe("outgoing options", () => {
  test("close() unsubscribes every channel (and restores ClientRequest on Node 20)", async () => {
    const channels = ["undici:request:create", "undici:request:headers", "undici:request:trailers", "undici:request:error",
      "http.client.response.finish", "http.client.request.error"];
    const originalWrite = http.ClientRequest.prototype.write;
    assert.ok(channels.every((n) => !dc.channel(n).hasSubscribers), "the suite above closed its client");
    const tk = new APIToolkit({ transport: () => ({ send: async () => undefined, close: async () => undefined }), logger: quietLogger });
    assert.ok(channels.every((n) => dc.channel(n).hasSubscribers));
    await tk.close(100);
    assert.ok(channels.every((n) => !dc.channel(n).hasSubscribers));
    assert.equal(http.ClientRequest.prototype.write, originalWrite);
    assert.equal(Object.prototype.hasOwnProperty.call(http.ClientRequest.prototype, "write"), false, "no pass-through left on the prototype");
  });

  test("monitorOutgoing: false captures no outgoing call, even one made while serving a request", async () => {
    const topic = await createTestTopic("outgoing-off");
    const meta = await startMetadataServer(topic.topicId);
    const up = await listen(http.createServer(upstreamHandler));
    const tk = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false });
    const e = express5();
    e.use(expressMiddleware(tk));
    e.get("/calls", async (_req, res) => {
      await fetch(`${up.url}/from-handler`).then((r) => r.text());
      await httpCall(`${up.url}/from-handler-http`, { method: "GET" });
      res.send("ok");
    });
    const app = await listen(http.createServer(e));
    try {
      await fetch(`${up.url}/from-test`).then((r) => r.text());
      assert.equal(await (await runSuppressed(() => fetch(`${app.url}/calls`))).text(), "ok");
      const msgs = await topic.pull(1);
      assert.equal(msgs[0]!.raw_url, "/calls");
      assert.equal(msgs[0]!.sdk_type, "JsExpress");
      assert.deepEqual(await topic.drain(800), []);
    } finally {
      await tk.close(2000);
      await app.close();
      await up.close();
      await meta.close();
      await topic.close();
    }
  });

  test("two clients (as two SDK copies would): each call is captured once, by the client serving the request", async () => {
    const [topicA, topicB] = await Promise.all([createTestTopic("outgoing-a"), createTestTopic("outgoing-b")]);
    const [metaA, metaB] = await Promise.all([startMetadataServer(topicA.topicId), startMetadataServer(topicB.topicId)]);
    const up = await listen(http.createServer(upstreamHandler));
    const a = new APIToolkit({ apiKey: GOOD_KEY, rootURL: metaA.url, publishIntervalMs: 20, logger: quietLogger });
    const b = new APIToolkit({ apiKey: GOOD_KEY, rootURL: metaB.url, publishIntervalMs: 20, logger: quietLogger });
    const e = express5();
    e.use(expressMiddleware(b));
    e.get("/b", async (_req, res) => {
      await fetch(`${up.url}/from-b-fetch`).then((r) => r.text());
      await httpCall(`${up.url}/from-b-http`, { method: "GET" });
      res.send("ok");
    });
    const app = await listen(http.createServer(e));
    try {
      await fetch(`${up.url}/outside`).then((r) => r.text());
      await httpCall(`${up.url}/outside-http`, { method: "GET" });
      assert.equal(await (await runSuppressed(() => fetch(`${app.url}/b`))).text(), "ok");
      const fromB = await topicB.pull(3);
      const incoming = byUrl(fromB, "/b", "JsExpress");
      assert.equal(byUrl(fromB, "/from-b-fetch").parent_id, incoming.msg_id);
      assert.equal(byUrl(fromB, "/from-b-http").parent_id, incoming.msg_id);
      const fromA = await topicA.pull(2); // outside any request: the first client started takes the call
      byUrl(fromA, "/outside");
      byUrl(fromA, "/outside-http");
      assert.deepEqual([...(await topicA.drain(800)), ...(await topicB.drain(200))], [], "no call captured twice");
    } finally {
      await Promise.all([a.close(2000), b.close(2000)]);
      await app.close();
      await up.close();
      await Promise.all([metaA.close(), metaB.close(), topicA.close(), topicB.close()]);
    }
  });
});

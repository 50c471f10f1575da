// Hono 4 on Node (@hono/node-server), end to end: real HTTP on loopback, bootstrap through a local
// client_metadata stand-in, publishing to the real Pub/Sub emulator; messages checked field by field.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { APIToolkit } from "../src/index.js";
import { createHonoApp } from "../examples/hono/app.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { b64json, b64text } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets, one } from "./helpers/messages.js";
import { quietLogger } from "./helpers/logger.js";

const MAX_BODY = 4096;

interface Served { url: string; close(): Promise<void> }

async function serveApp(fetchFn: (req: Request, env?: unknown) => Response | Promise<Response>): Promise<Served> {
  const server = await new Promise<http.Server>((resolve) => {
    const s = serve({ fetch: fetchFn, port: 0, hostname: "127.0.0.1" }, () => resolve(s as http.Server));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

// On @hono/node-server the adapter captures on node's request/response; on other runtimes (Bun,
// Deno, workers) only the Web Request/Response exist. The second run serves the same app without
// handing it node's objects, so the Web path is exercised end to end too.
for (const runtime of ["node objects", "Web Request/Response only"] as const) describe(`Hono 4 on @hono/node-server (${runtime})`, () => {
  const webOnly = runtime !== "node objects";
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let srv: Served;
  let bare: Served;
  let releaseSse: () => void = () => undefined;
  let secondEventProduced = false;

  before(async () => {
    topic = await createTestTopic("hono");
    meta = await startMetadataServer(topic.topicId, { delayMs: 500 });
    apitoolkit = new APIToolkit({
      apiKey: GOOD_KEY,
      rootURL: meta.url,
      redactHeaders: ["X-Api-Key"],
      redactRequestBody: ["$.user.password", "$..cvv"],
      redactResponseBody: ["$.token"],
      serviceVersion: "2.0.0",
      tags: ["env:test"],
      maxBodyBytes: MAX_BODY,
      monitorOutgoing: false, // the test's own fetch calls share this process; they are not the app's
      publishIntervalMs: 20,
      logger: quietLogger,
    });
    const hooks = {
      // Released by the test once the first event arrived; released anyway after 5 s, so a proxy that
      // held the first event back fails the assertion below instead of hanging the test.
      sseGate: () => new Promise<void>((r) => {
        releaseSse = r;
        setTimeout(r, 5000).unref();
      }),
      onSecondEvent: () => (secondEventProduced = true),
    };
    const app = createHonoApp(apitoolkit, hooks);
    srv = await serveApp(webOnly ? (req) => app.fetch(req) : app.fetch);
    bare = await serveApp(createHonoApp(undefined, { sseGate: () => Promise.resolve() }).fetch);
  });

  after(async () => {
    await apitoolkit.close(3000);
    await srv.close();
    await bare.close();
    await meta.close();
    await topic.close();
  });

  test("every exchange is published once, decodable, redacted, with route templates", async () => {
    assert.equal(apitoolkit.stats().state, "pending", "requests below are made before bootstrap finished");
    const loginBody = JSON.stringify({ user: { name: "ann", password: "hunter2" }, payment: { card: { number: "4111", cvv: "123" } } });
    const sent: Array<Promise<Response>> = [
      fetch(`${srv.url}/api/shops/42/orders/7?x=1`, { headers: { authorization: "Bearer user-secret", "x-api-key": "client-secret", cookie: "sid=abc" } }),
      fetch(`${srv.url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: loginBody }),
      fetch(`${srv.url}/api/search?q=a&q=b&empty=`),
      fetch(`${srv.url}/api/stream`),
      fetch(`${srv.url}/api/boom`),
      fetch(`${srv.url}/api/report`),
      fetch(`${srv.url}/api/ignore-body`, { method: "POST", headers: { "content-type": "text/plain" }, body: "never read" }),
      fetch(`${srv.url}/no/such/route/99`),
      fetch(`${srv.url}/api/shops/42/orders/not-a-number`),
      fetch(`${srv.url}/api/search?q=head`, { method: "HEAD" }),
    ];
    const responses = await Promise.all(sent);
    const texts = await Promise.all(responses.map((r) => r.text()));
    assert.equal(responses[0]!.status, 200);
    assert.deepEqual(JSON.parse(texts[0]!), { shop: "42", order: "7" });
    assert.equal(responses[1]!.status, 201);
    assert.deepEqual(responses[1]!.headers.getSetCookie(), ["sid=SECRET-SID; HttpOnly", "theme=dark"]);
    assert.deepEqual(JSON.parse(texts[1]!), { token: "tok-SECRET-123", user: "ann" }, "the handler read the JSON body through the SDK");
    assert.equal(texts[3], "alpha,beta,gamma");
    assert.equal(responses[4]!.status, 500);
    assert.equal(responses[6]!.status, 202);
    assert.equal(responses[7]!.status, 404);
    assert.equal(responses[8]!.status, 404, "the regex constraint does not match");
    assert.equal(responses[9]!.status, 200);
    assert.equal(texts[9], "");

    const msgs = await topic.pull(sent.length);
    assert.equal(msgs.length, sent.length, "one message per request");
    const by = (raw: string, method = "GET") => one(msgs, raw, { method });
    for (const m of msgs) {
      assertCommonFields(m, { projectId: PROJECT_ID, sdkType: "JsExpress", serviceVersion: "2.0.0", host: srv.url.slice("http://".length) });
      assert.equal(m.referer, "");
    }
    assertNoSecrets(msgs, ["hunter2", "user-secret", "client-secret", "server-secret", "sid=abc", "SECRET-SID", "tok-SECRET-123", '"123"']);

    const order = by("/api/shops/42/orders/7?x=1");
    assert.equal(order.url_path, "/api/shops/:shopId/orders/:orderId", "basePath + route() prefix + regex constraint stripped");
    assert.deepEqual(order.path_params, { shopId: "42", orderId: "7" });
    assert.equal(order.status_code, 200);
    assert.deepEqual(order.query_params, { x: ["1"] });
    assert.deepEqual(order.request_headers.authorization, ["[CLIENT_REDACTED]"]);
    assert.deepEqual(order.request_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
    assert.deepEqual(order.request_headers.cookie, ["[CLIENT_REDACTED]"]);
    assert.deepEqual(order.response_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
    assert.deepEqual(order.response_headers["content-type"], ["application/json"]);
    assert.deepEqual(b64json(order.response_body), { shop: "42", order: "7" });
    assert.equal(order.request_body, "");

    const login = by("/api/login", "POST");
    assert.equal(login.url_path, "/api/login");
    assert.equal(login.status_code, 201);
    assert.deepEqual(login.path_params, {});
    assert.deepEqual(login.request_headers["content-type"], ["application/json"]);
    assert.deepEqual(b64json(login.request_body), {
      user: { name: "ann", password: "[CLIENT_REDACTED]" },
      payment: { card: { number: "4111", cvv: "[CLIENT_REDACTED]" } },
    });
    assert.deepEqual(b64json(login.response_body), { token: "[CLIENT_REDACTED]", user: "ann" });
    assert.deepEqual(login.response_headers["set-cookie"], ["[CLIENT_REDACTED]"]);

    const search = by("/api/search?q=a&q=b&empty=");
    assert.equal(search.url_path, "/api/search");
    assert.deepEqual(search.query_params, { q: ["a", "b"], empty: [""] });
    assert.deepEqual(b64json(search.response_body), { q: ["a", "b"] });
    assert.equal(b64text(by("/api/stream").response_body), "alpha,beta,gamma");

    const boom = by("/api/boom");
    assert.equal(boom.status_code, 500);
    assert.equal(boom.url_path, "/api/boom");
    assert.equal(boom.errors.length, 1);
    assert.equal(boom.errors[0]!.error_type, "Error");
    assert.equal(boom.errors[0]!.message, "outer failure");
    assert.equal(boom.errors[0]!.root_error_type, "TypeError");
    assert.equal(boom.errors[0]!.root_error_message, "inner cause");
    assert.match(boom.errors[0]!.stack_trace, /outer failure/);

    const report = by("/api/report");
    assert.equal(report.status_code, 200);
    assert.equal(report.errors.length, 1);
    assert.equal(report.errors[0]!.error_type, "RangeError");
    assert.equal(report.errors[0]!.message, "reported in handler");

    const ignored = by("/api/ignore-body", "POST");
    assert.equal(ignored.status_code, 202);
    assert.equal(ignored.request_body, "", "a body nobody read is not read by the SDK");
    assert.equal(b64text(ignored.response_body), "not read");

    for (const raw of ["/no/such/route/99", "/api/shops/42/orders/not-a-number"]) {
      const missing = by(raw);
      assert.equal(missing.status_code, 404);
      assert.equal(missing.url_path, "", `no route matched ${raw}`);
      assert.deepEqual(missing.path_params, {});
      assert.equal(missing.errors.length, 0);
    }

    const head = by("/api/search?q=head", "HEAD");
    assert.equal(head.status_code, 200);
    assert.equal(head.url_path, "/api/search");
    assert.equal(head.response_body, "");

    assert.deepEqual(await topic.drain(1000), [], "nothing extra published");
  });

  test("server-sent events pass through without delay", async () => {
    secondEventProduced = false;
    const res = await fetch(`${srv.url}/api/sse`);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("data: one\n\n")) {
      const { done, value } = await reader.read();
      assert.equal(done, false, "the first event arrives before the stream ends");
      text += decoder.decode(value, { stream: true });
    }
    assert.equal(secondEventProduced, false, "the client got the first event before the second was produced");
    releaseSse();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    assert.equal(secondEventProduced, true);
    assert.equal(text, "event: tick\ndata: one\n\nevent: tick\ndata: two\n\n");
    const [m] = await topic.pull(1);
    assert.equal(m!.url_path, "/api/sse");
    assert.equal(m!.status_code, 200);
    assert.equal(b64text(m!.response_body), text);
  });

  test("responses are unchanged and bodies over maxBodyBytes are cut in the message only", async () => {
    const paths = ["/api/shops/1/orders/2", "/api/search?q=z", "/api/stream", "/api/big", "/api/boom", "/nope"];
    for (const path of paths) {
      const [a, b] = await Promise.all([fetch(srv.url + path), fetch(bare.url + path)]);
      assert.equal(a.status, b.status, path);
      assert.deepEqual(headersOf(a), headersOf(b), path);
      assert.equal(await a.text(), await b.text(), path);
    }
    const post = (url: string) => fetch(url + "/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: '{"user":{"name":"x","password":"p"}}' });
    const [a, b] = await Promise.all([post(srv.url), post(bare.url)]);
    assert.deepEqual(headersOf(a), headersOf(b));
    assert.equal(await a.text(), await b.text());

    const msgs = await topic.pull(paths.length + 1);
    assert.equal(msgs.length, paths.length + 1);
    const big = msgs.find((m) => m.raw_url === "/api/big")!;
    assert.equal(b64text(big.response_body), "x".repeat(MAX_BODY));
  });

  test("25 concurrent requests yield exactly 25 messages", async () => {
    const n = 25;
    await Promise.all(Array.from({ length: n }, (_, i) =>
      fetch(`${srv.url}/api/shops/s${i}/orders/${i * 2}`).then((r) => r.text()),
    ));
    const msgs = await topic.pull(n);
    assert.equal(msgs.length, n);
    assert.equal(new Set(msgs.map((m) => m.raw_url)).size, n, "no duplicates");
    assert.equal(new Set(msgs.map((m) => m.msg_id)).size, n);
    for (const m of msgs) {
      assert.equal(m.url_path, "/api/shops/:shopId/orders/:orderId");
      const [, , shop, , order] = m.raw_url.split("/").slice(1);
      assert.deepEqual(m.path_params, { shopId: shop, orderId: order });
    }
    assert.deepEqual(await topic.drain(800), []);
  });

  test("a request the client aborts is still reported", async () => {
    await new Promise<void>((resolve) => {
      const req = http.get(`${srv.url}/api/slow`);
      req.on("error", () => resolve());
      setTimeout(() => req.destroy(), 100);
    });
    const [m] = await topic.pull(1, 5000);
    assert.ok(m, "aborted request published");
    assert.equal(m.raw_url, "/api/slow");
    assert.equal(m.status_code, 499);
    assert.equal(m.url_path, "/api/slow");
  });

  test("without a Node server (app.fetch, as on Workers, Bun or Deno) the Request alone is enough", async () => {
    const app = createHonoApp(apitoolkit);
    const res = await app.request("http://api.example.com/api/login?via=fetch", {
      method: "POST",
      headers: { "content-type": "application/json", host: "api.example.com" },
      body: JSON.stringify({ user: { name: "eve", password: "pw" } }),
    });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), { token: "tok-SECRET-123", user: "eve" });
    const [m] = await topic.pull(1);
    assert.equal(m!.raw_url, "/api/login?via=fetch");
    assert.equal(m!.host, "api.example.com");
    assert.equal(m!.url_path, "/api/login");
    assert.deepEqual([m!.proto_major, m!.proto_minor], [1, 1]);
    assert.deepEqual(b64json(m!.request_body), { user: { name: "eve", password: "[CLIENT_REDACTED]" } });
    assert.deepEqual(b64json(m!.response_body), { token: "[CLIENT_REDACTED]", user: "eve" });
  });

  test("stats count what was captured and published", async () => {
    assert.equal(await apitoolkit.flush(5000), true);
    const s = apitoolkit.stats();
    assert.equal(s.state, "ready");
    assert.equal(s.captured, s.published);
    assert.equal(Object.values(s.dropped).reduce((x, y) => x + y, 0), 0);
  });
});

function headersOf(r: Response): Record<string, string> {
  const out: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (k !== "date") out[k] = v;
  });
  return out;
}

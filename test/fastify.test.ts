// Fastify 4 and 5, end to end: the example app (examples/fastify/app.ts) over real HTTP on
// loopback, bootstrap through a local client_metadata stand-in, publishing to the real Pub/Sub
// emulator; messages decoded and checked field by field.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Fastify4 from "fastify4";
import Fastify5 from "fastify5";
import { APIToolkit } from "../src/index.js";
import { fastifyPlugin } from "../src/integrations/fastify/index.js";
import { createApp, exampleOptions } from "../examples/fastify/app.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { b64json, b64text } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets } from "./helpers/messages.js";

const quietLogger = { info() {}, warn() {}, error() {} };
type App = ReturnType<typeof createApp>;

async function start(app: App): Promise<string> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function waitReady(tk: APIToolkit): Promise<void> {
  for (let i = 0; i < 200 && tk.stats().state !== "ready"; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(tk.stats().state, "ready");
}

const versions = [
  ["Fastify 4", Fastify4 as unknown as typeof Fastify5],
  ["Fastify 5", Fastify5],
] as const;

for (const [name, fastify] of versions) {
  describe(name, () => {
    let topic: TestTopic;
    let meta: MetadataServer;
    let apitoolkit: APIToolkit;
    let app: App;
    let url: string;

    before(async () => {
      topic = await createTestTopic("fastify");
      // Slow first answers, so the first requests are made before bootstrap finished.
      meta = await startMetadataServer(topic.topicId, { delayMs: 800 });
      apitoolkit = new APIToolkit({ ...exampleOptions, apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false });
      app = createApp(apitoolkit, fastify);
      url = await start(app);
    });

    after(async () => {
      await app.close();
      await apitoolkit.close(3000);
      await meta.close();
      await topic.close();
    });

    test("every exchange is published once, decodable, redacted, with route templates and errors", async () => {
      assert.equal(apitoolkit.stats().state, "pending", "requests below are made before bootstrap finished");
      const loginBody = JSON.stringify({ user: { name: "ann", password: "hunter2" }, payment: { card: { number: "4111", cvv: "123" } } });
      const json = { "content-type": "application/json" };
      const sent: Array<Promise<Response>> = [
        fetch(`${url}/api/shops/42/orders/7?x=1`, { headers: { authorization: "Bearer user-secret", "x-api-key": "client-secret", cookie: "sid=abc" } }),
        fetch(`${url}/login`, { method: "POST", headers: json, body: loginBody }),
        fetch(`${url}/search?q=a&q=b&empty=`),
        fetch(`${url}/stream`),
        fetch(`${url}/boom`),
        fetch(`${url}/teapot`),
        fetch(`${url}/v2/pay`),
        fetch(`${url}/report`),
        fetch(`${url}/report?post=1`, { method: "POST", headers: json, body: '{"n":5}' }),
        fetch(`${url}/no/such/route/99`),
      ];
      // A body that arrives in two packets: the handler runs in a later socket callback.
      const split = slowPost(`${url}/report?split=1`, ['{"n":', "6}"]);
      const responses = await Promise.all(sent);
      const texts = await Promise.all(responses.map((r) => r.text()));
      assert.equal((await split).status, 200);
      assert.equal(responses[0]!.status, 200);
      assert.equal(responses[1]!.status, 201);
      assert.equal(texts[3], "one two three");
      assert.equal(responses[4]!.status, 500);
      assert.equal(responses[5]!.status, 418);
      assert.equal(responses[6]!.status, 503);
      assert.equal(responses[9]!.status, 404);

      const msgs = await topic.pull(sent.length + 1);
      assert.equal(msgs.length, sent.length + 1, "one message per request");
      const by = (raw: string) => {
        const found = msgs.filter((m) => m.raw_url === raw);
        assert.equal(found.length, 1, `exactly one message for ${raw}`);
        return found[0]!;
      };
      for (const m of msgs) {
        assertCommonFields(m, { projectId: PROJECT_ID, sdkType: "JsFastify", serviceVersion: "1.4.0", host: /^127\.0\.0\.1:\d+$/ });
      }
      assertNoSecrets(msgs, ["hunter2", "user-secret", "client-secret", "server-secret", "sid=abc", "tok-SECRET-123", '"123"']);

      const order = by("/api/shops/42/orders/7?x=1");
      assert.equal(order.url_path, "/api/shops/:shopId/orders/:orderId");
      assert.deepEqual(order.path_params, { shopId: "42", orderId: "7" });
      assert.equal(order.method, "GET");
      assert.equal(order.status_code, 200);
      assert.deepEqual(order.query_params, { x: ["1"] });
      assert.deepEqual(order.request_headers.authorization, ["[CLIENT_REDACTED]"]);
      assert.deepEqual(order.request_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
      assert.deepEqual(order.request_headers.cookie, ["[CLIENT_REDACTED]"]);
      assert.deepEqual(order.response_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
      assert.deepEqual(b64json(order.response_body), { shop: "42", order: "7" });
      assert.equal(order.request_body, "");
      assert.deepEqual(order.errors, []);

      const login = by("/login");
      assert.equal(login.url_path, "/login");
      assert.equal(login.method, "POST");
      assert.equal(login.status_code, 201);
      assert.deepEqual(b64json(login.request_body), {
        user: { name: "ann", password: "[CLIENT_REDACTED]" },
        payment: { card: { number: "4111", cvv: "[CLIENT_REDACTED]" } },
      });
      assert.deepEqual(b64json(login.response_body), { token: "[CLIENT_REDACTED]", user: "ann", cardEcho: "4111" });

      assert.deepEqual(by("/search?q=a&q=b&empty=").query_params, { q: ["a", "b"], empty: [""] });
      assert.equal(b64text(by("/stream").response_body), "one two three");

      const boom = by("/boom");
      assert.equal(boom.status_code, 500);
      assert.equal(boom.url_path, "/boom");
      assert.equal(boom.errors.length, 1);
      assert.equal(boom.errors[0]!.error_type, "Error");
      assert.equal(boom.errors[0]!.message, "payment provider unreachable");
      assert.equal(boom.errors[0]!.root_error_type, "TypeError");
      assert.equal(boom.errors[0]!.root_error_message, "ECONNREFUSED 10.0.0.7:443");
      assert.match(boom.errors[0]!.stack_trace, /payment provider unreachable/);

      const teapot = by("/teapot");
      assert.equal(teapot.status_code, 418, "the status the client got");
      assert.equal(teapot.errors.length, 1);
      assert.equal(teapot.errors[0]!.message, "no coffee here");

      const pay = by("/v2/pay");
      assert.equal(pay.url_path, "/v2/pay");
      assert.equal(pay.status_code, 503, "the status the custom error handler sent");
      assert.deepEqual(b64json(pay.response_body), { error: "try again later" });
      assert.equal(pay.errors.length, 1);
      assert.equal(pay.errors[0]!.message, "charge failed");
      assert.equal(pay.errors[0]!.root_error_message, "card processor timeout");

      const report = by("/report");
      assert.equal(report.errors.length, 1);
      assert.equal(report.errors[0]!.error_type, "RangeError");
      assert.equal(report.status_code, 200);
      const reportPost = by("/report?post=1");
      assert.equal(reportPost.errors.length, 1, "reportError works after fastify parsed the body");
      assert.equal(reportPost.errors[0]!.message, "reported after parsing 5");
      assert.deepEqual(b64json(reportPost.request_body), { n: 5 });
      const reportSplit = by("/report?split=1");
      assert.equal(reportSplit.errors.length, 1, "reportError works when the body came in late packets");
      assert.equal(reportSplit.errors[0]!.message, "reported after parsing 6");
      assert.deepEqual(b64json(reportSplit.request_body), { n: 6 });

      const missing = by("/no/such/route/99");
      assert.equal(missing.status_code, 404);
      assert.equal(missing.url_path, "");
      assert.deepEqual(missing.path_params, {});
      assert.deepEqual(missing.errors, []);

      assert.deepEqual(await topic.drain(1000), [], "nothing extra published");
    });

    test("responses are byte-for-byte the same with and without the SDK", async () => {
      const bare = createApp(undefined, fastify);
      const bareUrl = await start(bare);
      try {
        const paths = ["/api/shops/1/orders/2", "/search?q=z&q=y", "/stream", "/boom", "/teapot", "/v2/pay", "/nope"];
        for (const path of paths) {
          const [a, b] = await Promise.all([rawRequest(url + path), rawRequest(bareUrl + path)]);
          assert.equal(a.status, b.status, path);
          assert.deepEqual(stripDate(a.headers), stripDate(b.headers), path);
          assert.equal(a.body, b.body, path);
        }
        const body = '{"user":{"name":"x","password":"p"}}';
        const [a, b] = await Promise.all([rawRequest(url + "/login", "POST", body), rawRequest(bareUrl + "/login", "POST", body)]);
        assert.equal(a.status, b.status);
        assert.deepEqual(stripDate(a.headers), stripDate(b.headers));
        assert.equal(a.body, b.body);
        const msgs = await topic.pull(paths.length + 1);
        assert.equal(msgs.length, paths.length + 1, "only the captured app published");
      } finally {
        await bare.close();
      }
      assert.deepEqual(await topic.drain(800), []);
    });

    test("40 concurrent requests yield exactly 40 messages", async () => {
      const n = 40;
      await Promise.all(Array.from({ length: n }, (_, i) => fetch(`${url}/api/shops/${i}/orders/${i * 2}`).then((r) => r.text())));
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
        const req = http.get(`${url}/slow`);
        req.on("error", () => resolve());
        setTimeout(() => req.destroy(), 100);
      });
      const [m] = await topic.pull(1, 5000);
      assert.ok(m, "aborted request published");
      assert.equal(m.raw_url, "/slow");
      assert.equal(m.status_code, 499);
      assert.equal(m.url_path, "/slow");
    });

    test("app.close() flushes the client through the onClose hook", async () => {
      const meta2 = await startMetadataServer(topic.topicId);
      // A long publish interval: without the onClose flush, nothing would be published for a minute.
      const tk = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta2.url, publishIntervalMs: 60_000, logger: quietLogger, monitorOutgoing: false });
      try {
        await waitReady(tk);
        const a = fastify();
        a.register(fastifyPlugin(tk));
        a.get("/bye", async () => "bye");
        const u = await start(a);
        assert.equal(await (await fetch(`${u}/bye`)).text(), "bye");
        for (let i = 0; i < 200 && tk.stats().captured < 1; i++) await new Promise((r) => setTimeout(r, 5));
        assert.equal(tk.stats().captured, 1);
        assert.equal(tk.stats().published, 0, "still queued");
        await a.close();
        assert.equal(tk.stats().published, 1, "published by app.close()");
        assert.equal(tk.stats().queueItems, 0);
        const [m] = await topic.pull(1, 5000);
        assert.equal(m?.raw_url, "/bye");
        assert.equal(m?.sdk_type, "JsFastify");
      } finally {
        await tk.close(1000);
        await meta2.close();
      }
    });

    test("stats count what was captured and published", async () => {
      assert.equal(await apitoolkit.flush(5000), true);
      const s = apitoolkit.stats();
      assert.equal(s.state, "ready");
      assert.equal(s.captured, s.published);
      assert.equal(Object.values(s.dropped).reduce((a, b) => a + b, 0), 0);
      assert.equal(s.errorsOutsideRequest, 0, "every reportError call found its request");
    });
  });
}

function stripDate(h: http.IncomingHttpHeaders) {
  const { date: _date, ...rest } = h;
  return rest;
}

/** POST a JSON body in parts, one packet each, with a pause between them. */
function slowPost(url: string, parts: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.flushHeaders();
    const rest = [...parts];
    const next = (): void => {
      const part = rest.shift();
      if (part === undefined) return void req.end();
      req.write(part);
      setTimeout(next, 30);
    };
    setTimeout(next, 30);
  });
}

function rawRequest(url: string, method = "GET", body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body ? { "content-type": "application/json" } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString("latin1") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

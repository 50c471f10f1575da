// Koa 2 and 3 with @koa/router, end to end: the example app (examples/koa/app.ts) over real HTTP on
// loopback, bootstrap through a local client_metadata stand-in, publishing to the real Pub/Sub
// emulator; messages decoded and checked field by field.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import Koa2 from "koa2";
import Koa3 from "koa3";
import { APIToolkit } from "../src/index.js";
import { koaMiddleware } from "../src/integrations/koa/index.js";
import { createApp, exampleOptions } from "../examples/koa/app.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { listen, b64json, b64text, type Listening } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets } from "./helpers/messages.js";

const quietLogger = { info() {}, warn() {}, error() {} };
type App = ReturnType<typeof createApp>;

function start(app: App): Promise<Listening> {
  app.silent = true; // Koa would log the expected 500s to stderr; errors are checked in the messages
  return listen(http.createServer(app.callback()));
}

const versions = [
  ["Koa 2", Koa2],
  ["Koa 3", Koa3],
] as const;

for (const [name, Koa] of versions) {
  describe(name, () => {
    let topic: TestTopic;
    let meta: MetadataServer;
    let apitoolkit: APIToolkit;
    let srv: Listening;
    let url: string;

    before(async () => {
      topic = await createTestTopic("koa");
      // Slow first answers, so the first requests are made before bootstrap finished.
      meta = await startMetadataServer(topic.topicId, { delayMs: 800 });
      apitoolkit = new APIToolkit({ ...exampleOptions, apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false });
      srv = await start(createApp(apitoolkit, Koa));
      url = srv.url;
    });

    after(async () => {
      await srv.close();
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
      assert.equal(responses[8]!.status, 404);

      const msgs = await topic.pull(sent.length + 1);
      assert.equal(msgs.length, sent.length + 1, "one message per request");
      const by = (raw: string) => {
        const found = msgs.filter((m) => m.raw_url === raw);
        assert.equal(found.length, 1, `exactly one message for ${raw}`);
        return found[0]!;
      };
      for (const m of msgs) {
        assertCommonFields(m, { projectId: PROJECT_ID, sdkType: "JsExpress", serviceVersion: "1.4.0", host: /^127\.0\.0\.1:\d+$/ });
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

      const report = by("/report");
      assert.equal(report.errors.length, 1);
      assert.equal(report.errors[0]!.error_type, "RangeError");
      assert.equal(report.status_code, 200);
      const reportPost = by("/report?post=1");
      assert.equal(reportPost.errors.length, 1, "reportError works after the body parser read the body");
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
      const bare = await start(createApp(undefined, Koa));
      const bareUrl = bare.url;
      try {
        const paths = ["/api/shops/1/orders/2", "/search?q=z&q=y", "/stream", "/boom", "/teapot", "/nope"];
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

    test("errors are rethrown: Koa's error event and response are unchanged", async () => {
      const app = createApp(apitoolkit, Koa);
      const seen: unknown[] = [];
      app.on("error", (err: unknown) => seen.push(err));
      const s = await listen(http.createServer(app.callback()));
      try {
        const r = await fetch(`${s.url}/boom?event=1`);
        assert.equal(r.status, 500);
        assert.equal(await r.text(), "Internal Server Error");
      } finally {
        await s.close();
      }
      assert.equal(seen.length, 1, "Koa emitted its error event once");
      assert.equal((seen[0] as Error).message, "payment provider unreachable");
      const [m] = await topic.pull(1, 5000);
      assert.equal(m?.raw_url, "/boom?event=1");
      assert.equal(m?.status_code, 500);
      assert.equal(m?.errors.length, 1);
      assert.equal(m?.errors[0]!.root_error_message, "ECONNREFUSED 10.0.0.7:443");
    });

    test("a disabled client passes through; an app without @koa/router gets url_path ''", async () => {
      const off = new APIToolkit({ apiKey: "", logger: quietLogger, monitorOutgoing: false });
      const s = await listen(http.createServer(createApp(off, Koa).callback()));
      try {
        const r = await fetch(`${s.url}/api/shops/1/orders/2`);
        assert.deepEqual(await r.json(), { shop: "1", order: "2" });
      } finally {
        await s.close();
        await off.close(100);
      }
      const app = new Koa();
      app.use(koaMiddleware(apitoolkit));
      app.use((ctx) => {
        ctx.body = "no router";
      });
      const s2 = await listen(http.createServer(app.callback()));
      try {
        assert.equal(await (await fetch(`${s2.url}/plain/1`)).text(), "no router");
      } finally {
        await s2.close();
      }
      const [m] = await topic.pull(1, 5000);
      assert.equal(m?.raw_url, "/plain/1");
      assert.equal(m?.url_path, "", "no @koa/router route matched");
      assert.equal(m?.status_code, 200);
    });

    test("a body parsed before the middleware ran is taken from ctx.request.body", async () => {
      const app = new Koa();
      app.use(async function parseFirst(ctx, next) {
        const chunks: Buffer[] = [];
        for await (const c of ctx.req) chunks.push(c as Buffer);
        (ctx.request as { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString());
        await next();
      });
      app.use(koaMiddleware(apitoolkit));
      app.use((ctx) => {
        ctx.body = { got: (ctx.request as { body?: { user?: { name?: string } } }).body?.user?.name };
      });
      const s = await listen(http.createServer(app.callback()));
      try {
        const r = await fetch(`${s.url}/parsed-first`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"user":{"name":"bo","password":"pw-secret"}}' });
        assert.deepEqual(await r.json(), { got: "bo" });
      } finally {
        await s.close();
      }
      const [m] = await topic.pull(1, 5000);
      assert.equal(m?.raw_url, "/parsed-first");
      assert.deepEqual(b64json(m!.request_body), { user: { name: "bo", password: "[CLIENT_REDACTED]" } });
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

// Koa 2 and 3 with @koa/router, what is Koa's own: the example app (examples/koa/app.ts) over real
// HTTP on loopback, bootstrap through a local client_metadata stand-in, publishing to the real
// Pub/Sub emulator. Templates through nested routers, ctx.throw statuses, errors rethrown to Koa's
// error event, apps without @koa/router or with only other methods, bodies parsed before the
// middleware. What every integration shares (redaction, query and body fields, streaming,
// reportError after body parsing, 404s, concurrency, aborted requests, unchanged answers, stats) is
// checked for Koa 2 and 3 by test/conformance.test.ts.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import Koa2 from "koa2";
import Koa3 from "koa3";
import Router from "@koa/router";
import { APIToolkit } from "../src/index.js";
import { koaMiddleware } from "../src/integrations/koa/index.js";
import { createApp, exampleOptions } from "../examples/koa/app.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { listen, b64json, rawRequest, stripDate, type Listening } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets, one } from "./helpers/messages.js";
import { quietLogger } from "./helpers/logger.js";

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
      meta = await startMetadataServer(topic.topicId);
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

    test("nested routers and ctx.throw: the whole template; the status the client got, with the error", async () => {
      const answers = await Promise.all([
        rawRequest(`${url}/api/shops/42/orders/7?x=1`, "GET", undefined, { "x-api-key": "client-secret" }),
        rawRequest(`${url}/teapot`),
      ]);
      assert.deepEqual(answers.map((a) => a.status), [200, 418]);
      const msgs = await topic.pull(answers.length);
      assert.equal(msgs.length, answers.length, "one message per request");
      for (const m of msgs) {
        assertCommonFields(m, { projectId: PROJECT_ID, sdkType: "JsExpress", serviceVersion: "1.4.0", host: /^127\.0\.0\.1:\d+$/ });
      }
      assertNoSecrets(msgs, ["client-secret", "server-secret"]);

      const order = one(msgs, "/api/shops/42/orders/7?x=1");
      assert.equal(order.url_path, "/api/shops/:shopId/orders/:orderId", "prefix and both routers' paths in the template");
      assert.deepEqual(order.path_params, { shopId: "42", orderId: "7" });
      assert.deepEqual(order.request_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
      assert.deepEqual(order.response_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
      assert.deepEqual(b64json(order.response_body), { shop: "42", order: "7" });
      assert.deepEqual(order.errors, []);

      const teapot = one(msgs, "/teapot");
      assert.equal(teapot.status_code, 418, "the status the client got");
      assert.equal(teapot.url_path, "/teapot");
      assert.equal(teapot.errors.length, 1);
      assert.equal(teapot.errors[0]!.message, "no coffee here");

      assert.deepEqual(await topic.drain(1000), [], "nothing extra published");
    });

    test("those answers are byte-for-byte the same with and without the SDK", async () => {
      const bare = await start(createApp(undefined, Koa));
      const paths = ["/api/shops/1/orders/2", "/teapot"];
      try {
        for (const path of paths) {
          const [a, b] = await Promise.all([rawRequest(url + path), rawRequest(bare.url + path)]);
          assert.equal(a.status, b.status, path);
          assert.deepEqual(stripDate(a.headers), stripDate(b.headers), path);
          assert.equal(a.body, b.body, path);
        }
      } finally {
        await bare.close();
      }
      assert.equal((await topic.pull(paths.length)).length, paths.length, "only the captured app published");
      assert.deepEqual(await topic.drain(800), []);
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

    test("a path whose route has other methods only (405, or 404 without allowedMethods) gets url_path ''", async () => {
      const bare = new Koa();
      bare.use(koaMiddleware(apitoolkit));
      const router = new Router();
      router.get("/things/:id", (ctx) => {
        ctx.body = { id: ctx.params.id };
      });
      bare.use(router.routes()); // no allowedMethods(): Koa answers 404
      const s = await listen(http.createServer(bare.callback()));
      try {
        const [wrongApi, wrongRoot, wrongBare, right] = await Promise.all([
          fetch(`${url}/api/shops/1/orders/2`, { method: "DELETE" }),
          fetch(`${url}/report`, { method: "PUT" }),
          fetch(`${s.url}/things/5`, { method: "DELETE" }),
          fetch(`${s.url}/things/6`),
        ]);
        await Promise.all([wrongApi, wrongRoot, wrongBare, right].map((r) => r.arrayBuffer()));
        assert.deepEqual([wrongApi.status, wrongRoot.status, wrongBare.status, right.status], [405, 405, 404, 200]);
      } finally {
        await s.close();
      }
      const msgs = await topic.pull(4, 5000);
      assert.equal(msgs.length, 4);
      for (const [raw, method] of [["/api/shops/1/orders/2", "DELETE"], ["/report", "PUT"], ["/things/5", "DELETE"]] as const) {
        const m = one(msgs, raw, { method });
        assert.equal(m.url_path, "", `${method} ${raw}: no route handled it`);
        assert.deepEqual(m.path_params, {});
      }
      assert.equal(one(msgs, "/things/6", { method: "GET" }).url_path, "/things/:id");
      assert.deepEqual(one(msgs, "/things/6", { method: "GET" }).path_params, { id: "6" });
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
  });
}

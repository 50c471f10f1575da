// Fastify 4 and 5, what is Fastify's own: the example app (examples/fastify/app.ts) over real HTTP on
// loopback, bootstrap through a local client_metadata stand-in, publishing to the real Pub/Sub
// emulator. Route templates through nested prefixed plugins, errors that carry a statusCode, an
// encapsulated error handler, rewriteUrl, and app.close() flushing the client. What every
// integration shares (redaction, query and body fields, streaming, reportError after body parsing,
// 404s, concurrency, aborted requests, unchanged answers, stats) is checked for Fastify 4 and 5 by
// test/conformance.test.ts.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import Fastify4 from "fastify4";
import Fastify5 from "fastify5";
import { APIToolkit } from "../src/index.js";
import { fastifyPlugin } from "../src/integrations/fastify/index.js";
import { createApp, exampleOptions } from "../examples/fastify/app.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { b64json, rawRequest, stripDate } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets, one } from "./helpers/messages.js";
import { quietLogger } from "./helpers/logger.js";

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
      meta = await startMetadataServer(topic.topicId);
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

    test("nested prefixed plugins, a statusCode on the error, an encapsulated error handler", async () => {
      const answers = await Promise.all([
        rawRequest(`${url}/api/shops/42/orders/7?x=1`, "GET", undefined, { "x-api-key": "client-secret" }),
        rawRequest(`${url}/teapot`),
        rawRequest(`${url}/v2/pay`),
      ]);
      assert.deepEqual(answers.map((a) => a.status), [200, 418, 503]);
      const msgs = await topic.pull(answers.length);
      assert.equal(msgs.length, answers.length, "one message per request");
      for (const m of msgs) {
        assertCommonFields(m, { projectId: PROJECT_ID, sdkType: "JsFastify", serviceVersion: "1.4.0", host: /^127\.0\.0\.1:\d+$/ });
      }
      assertNoSecrets(msgs, ["client-secret", "server-secret"]);

      const order = one(msgs, "/api/shops/42/orders/7?x=1");
      assert.equal(order.url_path, "/api/shops/:shopId/orders/:orderId", "both plugins' prefixes in the template");
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

      const pay = one(msgs, "/v2/pay");
      assert.equal(pay.url_path, "/v2/pay");
      assert.equal(pay.status_code, 503, "the status the custom error handler sent");
      assert.deepEqual(b64json(pay.response_body), { error: "try again later" });
      assert.equal(pay.errors.length, 1);
      assert.equal(pay.errors[0]!.message, "charge failed");
      assert.equal(pay.errors[0]!.root_error_message, "card processor timeout");

      assert.deepEqual(await topic.drain(1000), [], "nothing extra published");
    });

    test("those answers are byte-for-byte the same with and without the SDK", async () => {
      const bare = createApp(undefined, fastify);
      const bareUrl = await start(bare);
      const paths = ["/api/shops/1/orders/2", "/teapot", "/v2/pay"];
      try {
        for (const path of paths) {
          const [a, b] = await Promise.all([rawRequest(url + path), rawRequest(bareUrl + path)]);
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

    test("with rewriteUrl, raw_url is the URL the client sent; url_path is the route that answered", async () => {
      const a = fastify({ rewriteUrl: (req) => (req.url!.startsWith("/v1/") ? req.url!.slice(3) : req.url!) });
      await a.register(fastifyPlugin(apitoolkit));
      a.get("/users/:id", async (req) => ({ id: (req.params as { id: string }).id }));
      try {
        const u = await start(a);
        assert.deepEqual(await (await fetch(`${u}/v1/users/5?y=2`)).json(), { id: "5" });
      } finally {
        await a.close();
      }
      const [m] = await topic.pull(1, 5000);
      assert.equal(m?.raw_url, "/v1/users/5?y=2");
      assert.deepEqual(m?.query_params, { y: ["2"] });
      assert.equal(m?.url_path, "/users/:id");
      assert.deepEqual(m?.path_params, { id: "5" });
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
  });
}

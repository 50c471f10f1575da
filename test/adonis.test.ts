// AdonisJS 6, what is Adonis's own: the example app (examples/adonis/app.ts, a real Adonis application
// with its router, bodyparser and exception handler) over real HTTP on loopback, bootstrap through a
// local client_metadata stand-in, publishing to the real Pub/Sub emulator. Route patterns through
// group prefixes, wildcard/optional/cast params, bodies read by Adonis's bodyparser (after the SDK's
// middleware or before it), errors from the exception handler's report(), response.abort, streamed
// and large responses. What every integration shares (query and body fields, reportError after body
// parsing, concurrency, aborted requests, stats) is checked for Adonis by test/conformance.test.ts.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import type { HttpContext, Router } from "@adonisjs/core/http";
import { APIToolkit } from "../src/index.js";
import type { AdonisContextLike } from "../src/integrations/adonis/index.js";
import { exampleOptions, exampleRoutes, startAdonisApp, type RunningAdonisApp } from "../examples/adonis/app.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { assertSameAnswers, b64json, b64text, rawRequest } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets, one } from "./helpers/messages.js";
import { assertWireMessage } from "./helpers/wire.js";
import { quietLogger } from "./helpers/logger.js";

// The SDK's structural type accepts Adonis's real HttpContext (checked by `npm run typecheck`).
const contextFits = (ctx: HttpContext): AdonisContextLike => ctx;
void contextFits;

const MAX_BODY = 64 * 1024;
const BIG_PARTS = 40; // 40 x 8 KiB streamed: 320 KiB, five times maxBodyBytes
const R = "[CLIENT_REDACTED]";

/** The example's routes, and a few that show Adonis's own route syntax. */
function routes(router: Router): void {
  exampleRoutes(router);
  router.get("/files/*", ({ params }) => ({ path: params["*"] }));
  router.get("/posts/:slug?", ({ params }) => ({ slug: params.slug ?? null }));
  router.get("/items/:id", ({ params }) => ({ id: params.id, type: typeof params.id })).where("id", router.matchers.number());
  router.get("/big", ({ response }) => {
    response.header("content-type", "text/plain");
    response.stream(Readable.from(Array.from({ length: BIG_PARTS }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(8192))));
  });
  router.post("/echo", ({ request }) => ({ got: request.body() }));
}

describe("AdonisJS 6", () => {
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let app: RunningAdonisApp;
  let url: string;

  before(async () => {
    topic = await createTestTopic("adonis");
    meta = await startMetadataServer(topic.topicId);
    apitoolkit = new APIToolkit({ ...exampleOptions, apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, maxBodyBytes: MAX_BODY, logger: quietLogger, monitorOutgoing: false });
    app = await startAdonisApp(apitoolkit, { routes });
    url = app.url;
  });

  after(async () => {
    await app?.close();
    await apitoolkit?.close(3000);
    await meta?.close();
    await topic?.close();
  });

  test("route patterns through a group prefix, params, redaction; response.abort's status with its error", async () => {
    const answers = await Promise.all([
      rawRequest(`${url}/api/shops/42/orders/7?x=1`, "GET", undefined, { "x-api-key": "client-secret" }),
      rawRequest(`${url}/teapot`),
      rawRequest(`${url}/search?q=ada`),
    ]);
    assert.deepEqual(answers.map((a) => a.status), [200, 418, 200]);
    const msgs = await topic.pull(answers.length);
    assert.equal(msgs.length, answers.length, "one message per request");
    for (const m of msgs) {
      assertWireMessage(m);
      assertCommonFields(m, { projectId: PROJECT_ID, sdkType: "JsAdonis", serviceVersion: "1.4.0", host: url.slice("http://".length) });
    }
    assertNoSecrets(msgs, ["client-secret", "server-secret"]);

    const order = one(msgs, "/api/shops/42/orders/7?x=1");
    assert.equal(order.url_path, "/api/shops/:shopId/orders/:orderId", "the group prefix is in the pattern");
    assert.deepEqual(order.path_params, { shopId: "42", orderId: "7" });
    assert.deepEqual(order.query_params, { x: ["1"] });
    assert.deepEqual(order.request_headers["x-api-key"], [R]);
    assert.deepEqual(order.response_headers["x-api-key"], [R]);
    assert.deepEqual(b64json(order.response_body), { shop: "42", order: "7" });
    assert.deepEqual(order.errors, []);

    const teapot = one(msgs, "/teapot");
    assert.equal(teapot.status_code, 418, "the status the client got");
    assert.equal(teapot.url_path, "/teapot");
    assert.equal(teapot.errors.length, 1, "response.abort() throws through the exception handler");
    assert.deepEqual(b64json(teapot.response_body), { message: "no coffee here" });

    assert.deepEqual(b64json(one(msgs, "/search?q=ada").response_body), { q: "ada" });
    assert.deepEqual(await topic.drain(800), [], "nothing extra published");
  });

  test("wildcard, optional and cast params arrive as strings, under Adonis's own pattern", async () => {
    const answers = await Promise.all([
      rawRequest(`${url}/files/docs/guide/intro.md`),
      rawRequest(`${url}/posts/hello`),
      rawRequest(`${url}/posts`),
      rawRequest(`${url}/items/17`),
      rawRequest(`${url}/items/not-a-number`),
    ]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 404]);
    assert.deepEqual(JSON.parse(answers[3]!.body), { id: 17, type: "number" }, "the matcher cast it for the app");
    const msgs = await topic.pull(answers.length);
    const files = one(msgs, "/files/docs/guide/intro.md");
    assert.equal(files.url_path, "/files/*");
    assert.deepEqual(files.path_params, { "*": "docs/guide/intro.md" });
    assert.equal(one(msgs, "/posts/hello").url_path, "/posts/:slug?");
    assert.deepEqual(one(msgs, "/posts/hello").path_params, { slug: "hello" });
    assert.equal(one(msgs, "/posts").url_path, "/posts/:slug?");
    assert.deepEqual(one(msgs, "/posts").path_params, {});
    assert.equal(one(msgs, "/items/17").url_path, "/items/:id");
    assert.deepEqual(one(msgs, "/items/17").path_params, { id: "17" });
    const notANumber = one(msgs, "/items/not-a-number");
    assert.equal(notANumber.url_path, "", "the matcher refused it: no route matched");
    assert.deepEqual(notANumber.errors, [], "Adonis's E_ROUTE_NOT_FOUND is a 404, not an error");
  });

  test("a JSON body read by Adonis's bodyparser: redacted by the request rules, the answer by the response rules", async () => {
    const body = { user: { name: "ann", password: "hunter2" }, payment: { card: { number: "4111", cvv: "123" } } };
    const r = await fetch(`${url}/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.equal(r.status, 201);
    assert.deepEqual(await r.json(), { token: "tok-SECRET-123", user: "ann", cardEcho: "4111" }, "the app's own answer is not redacted");
    const [m] = await topic.pull(1, 5000);
    assert.equal(m?.raw_url, "/login");
    assert.equal(m.url_path, "/login");
    assert.deepEqual(b64json(m.request_body), { user: { name: "ann", password: R }, payment: { card: { number: "4111", cvv: R } } });
    assert.deepEqual(b64json(m.response_body), { token: R, user: "ann", cardEcho: "4111" });
    assertNoSecrets([m], ["hunter2", "tok-SECRET-123"]);
  });

  test("bodies the bodyparser refuses: invalid JSON fails closed, a body over its limit is not made up; both with their error", async () => {
    const post = (body: string) => fetch(`${url}/login`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const [invalid, tooLarge] = await Promise.all([
      post('{"user":{"password":"hunter2"'),
      post(JSON.stringify({ user: { password: "hunter2" }, pad: "x".repeat(2 * 1024 * 1024) })), // over the bodyparser's 1 MB
    ]);
    await Promise.all([invalid.text(), tooLarge.text()]);
    assert.deepEqual([invalid.status, tooLarge.status], [400, 413]);
    const msgs = await topic.pull(2);
    assertNoSecrets(msgs, ["hunter2"]);
    const byStatus = (s: number) => msgs.find((m) => m.status_code === s)!;
    assert.equal(b64json(byStatus(400).request_body), R, "a body the rules apply to that does not parse is replaced by the marker");
    assert.equal(byStatus(400).errors[0]?.error_type, "SyntaxError");
    assert.equal(byStatus(413).request_body, "", "refused before a byte was read: no body, not Adonis's empty {}");
    assert.equal(byStatus(413).errors[0]?.message, "request entity too large");
  });

  test("errors thrown in a handler reach the message through the exception handler, with the status it answered", async () => {
    const [boom, report, missing] = await Promise.all([rawRequest(`${url}/boom`), rawRequest(`${url}/report`), rawRequest(`${url}/no/such/route`)]);
    assert.deepEqual([boom.status, report.status, missing.status], [500, 200, 404]);
    const msgs = await topic.pull(3);
    const b = one(msgs, "/boom");
    assert.equal(b.status_code, 500);
    assert.equal(b.url_path, "/boom");
    assert.equal(b.errors.length, 1);
    assert.equal(b.errors[0]!.error_type, "Error");
    assert.equal(b.errors[0]!.message, "payment provider unreachable");
    assert.equal(b.errors[0]!.root_error_type, "TypeError");
    assert.equal(b.errors[0]!.root_error_message, "ECONNREFUSED 10.0.0.7:443");
    assert.equal(b64text(b.response_body), "<p> payment provider unreachable </p>", "the exception handler's own answer");
    const rep = one(msgs, "/report");
    assert.equal(rep.errors.length, 1, "reportError() inside an Adonis handler");
    assert.equal(rep.errors[0]!.message, "cache miss (reported, not thrown)");
    const miss = one(msgs, "/no/such/route");
    assert.equal(miss.url_path, "");
    assert.deepEqual(miss.errors, []);
  });

  test("streamed responses: the client gets every byte, the message every part up to maxBodyBytes", async () => {
    const [stream, big] = await Promise.all([fetch(`${url}/stream`), fetch(`${url}/big`)]);
    assert.equal(await stream.text(), "one two three");
    const bigText = await big.text();
    assert.equal(bigText.length, BIG_PARTS * 8192);
    const msgs = await topic.pull(2);
    assert.equal(b64text(one(msgs, "/stream").response_body), "one two three");
    const m = one(msgs, "/big");
    assert.equal(m.status_code, 200);
    assert.match(m.response_headers["content-type"]![0]!, /^text\/plain/);
    assert.equal(b64text(m.response_body), bigText.slice(0, MAX_BODY), "cut at maxBodyBytes in the message only");
  });

  test("answers are byte-for-byte the same with and without the SDK", async () => {
    const bare = await startAdonisApp(undefined, { routes });
    const requests: Array<[path: string, method?: string, body?: string]> = [
      ["/api/shops/1/orders/2"], ["/login", "POST", '{"user":{"name":"x","password":"p"}}'], ["/stream"], ["/big"], ["/boom"], ["/teapot"], ["/nope"],
    ];
    await assertSameAnswers(url, bare, requests);
    assert.equal((await topic.pull(requests.length)).length, requests.length, "only the app with the SDK published");
    assert.deepEqual(await topic.drain(800), []);
  });

  test("a body the bodyparser read before the SDK's middleware is taken from the text it read, and redacted", async () => {
    const first = await startAdonisApp(apitoolkit, { routes, bodyparserFirst: true });
    try {
      const r = await fetch(`${first.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"user":{"name":"bo","password":"pw-secret"}}' });
      assert.deepEqual(await r.json(), { got: { user: { name: "bo", password: "pw-secret" } } });
    } finally {
      await first.close();
    }
    const [m] = await topic.pull(1, 5000);
    assert.equal(m?.raw_url, "/echo");
    assert.equal(m.url_path, "/echo");
    assert.deepEqual(b64json(m.request_body), { user: { name: "bo", password: R } });
  });

  test("registered as router middleware instead, it misses the requests no route matched (why the README says server.use)", async () => {
    const routed = await startAdonisApp(apitoolkit, { routes, sdkAsRouterMiddleware: true });
    try {
      const [hit, miss] = await Promise.all([fetch(`${routed.url}/posts/x?via=router`), fetch(`${routed.url}/nope?via=router`)]);
      await Promise.all([hit.text(), miss.text()]);
      assert.deepEqual([hit.status, miss.status], [200, 404]);
    } finally {
      await routed.close();
    }
    const msgs = await topic.pull(2, 3000);
    assert.deepEqual(msgs.map((m) => m.raw_url), ["/posts/x?via=router"], "only the request a route matched");
    assert.equal(msgs[0]!.url_path, "/posts/:slug?");
  });

  test("the README's shutdown: a client closed from app.terminating() publishes what is still queued", async () => {
    const own = new APIToolkit({ ...exampleOptions, apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 60_000, logger: quietLogger, monitorOutgoing: false });
    const s = await startAdonisApp(own, { routes });
    s.app.terminating(() => own.close(3000));
    assert.equal((await fetch(`${s.url}/search?q=last`)).status, 200);
    assert.equal(own.stats().published, 0, "still queued: the next publish is a minute away");
    await s.close(); // app.terminate(), what bin/server.ts runs on SIGTERM
    assert.equal(own.stats().published, 1);
    const [m] = await topic.pull(1, 5000);
    assert.equal(m?.raw_url, "/search?q=last");
  });

  test("app.terminate() flushes the client by itself (like Fastify's onClose), leaving it open", async () => {
    const own = new APIToolkit({ ...exampleOptions, apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 60_000, logger: quietLogger, monitorOutgoing: false });
    try {
      const s = await startAdonisApp(own, { routes });
      assert.equal((await fetch(`${s.url}/search?q=flushed`)).status, 200);
      assert.equal(own.stats().published, 0, "still queued: the next publish is a minute away");
      await s.close();
      assert.equal(own.stats().published, 1, "published while the app terminated");
      assert.equal(own.stats().state, "ready", "flushed, not closed: closing stays the app's call");
      const [m] = await topic.pull(1, 5000);
      assert.equal(m?.raw_url, "/search?q=flushed");
    } finally {
      await own.close(1000);
    }
  });

  test("a disabled client passes through", async () => {
    const off = new APIToolkit({ apiKey: "", logger: quietLogger, monitorOutgoing: false });
    const s = await startAdonisApp(off, { routes });
    try {
      const r = await fetch(`${s.url}/api/shops/1/orders/2`);
      assert.deepEqual(await r.json(), { shop: "1", order: "2" });
      assert.equal((await fetch(`${s.url}/boom`)).status, 500);
    } finally {
      await s.close();
      await off.close(100);
    }
    assert.equal(off.stats().captured, 0);
    assert.deepEqual(await topic.drain(500), []);
  });
});

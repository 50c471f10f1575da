// Express 4 and 5, end to end: real HTTP on loopback, bootstrap through a local client_metadata
// stand-in, publishing to the real Pub/Sub emulator; messages decoded and checked field by field.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Readable } from "node:stream";
import express4 from "express4";
import express5 from "express5";
import { APIToolkit, reportError, type WireMessage } from "../src/index.js";
import { expressMiddleware, expressErrorHandler } from "../src/integrations/express/index.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { listen, b64json, b64text, type Listening } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets, one } from "./helpers/messages.js";
import { quietLogger } from "./helpers/logger.js";

type ExpressLike = typeof express4;

function buildApp(express: ExpressLike, apitoolkit: APIToolkit | undefined, parserFirst: boolean) {
  const app = express();
  app.set("env", "production"); // error pages without stack traces, so bare and captured apps compare byte for byte
  if (parserFirst) app.use(express.json());
  if (apitoolkit) app.use(expressMiddleware(apitoolkit));
  if (!parserFirst) app.use(express.json());
  app.use(express.urlencoded({ extended: false }));

  const orders = express.Router({ mergeParams: true });
  orders.get("/orders/:orderId", (req, res) => {
    res.set("X-Api-Key", "server-secret").json({ shop: (req.params as Record<string, string>).shopId, order: req.params.orderId });
  });
  const shops = express.Router();
  shops.use("/:shopId", orders);
  app.use("/shops", shops);

  app.post("/login", (req, res) => {
    res.status(201).json({ token: "tok-SECRET-123", user: req.body?.user?.name, cardEcho: req.body?.payment?.card?.number });
  });
  app.get("/search", (req, res) => res.json({ q: req.query.q }));
  app.get("/stream", (_req, res) => {
    res.setHeader("content-type", "text/plain");
    const results: unknown[] = [];
    results.push(res.write("alpha,"));
    results.push(res.write(Buffer.from("beta,")));
    res.end("gamma", () => undefined);
    res.locals.writeResults = results;
  });
  app.get("/pipe", (_req, res) => {
    res.type("text/plain");
    Readable.from(["one ", "two ", "three"]).pipe(res);
  });
  app.get("/boom", () => {
    throw new Error("outer failure", { cause: new TypeError("inner cause") });
  });
  app.get("/report", async (_req, res) => {
    await new Promise((r) => setTimeout(r, 5));
    reportError(new RangeError("reported in handler"));
    res.send("ok");
  });
  app.get("/slow", (_req, res) => {
    setTimeout(() => res.send("late"), 400);
  });
  if (apitoolkit) app.use(expressErrorHandler(apitoolkit));
  return app;
}

for (const [name, express] of [["Express 4", express4], ["Express 5", express5]] as const) {
  describe(name, () => {
    let topic: TestTopic;
    let meta: MetadataServer;
    let apitoolkit: APIToolkit;
    let srv: Listening;
    let srvParserAfter: Listening;

    before(async () => {
      topic = await createTestTopic("express");
      // The first answer is slow, so requests made before bootstrap finished are covered.
      meta = await startMetadataServer(topic.topicId, { delayMs: 800 });
      apitoolkit = new APIToolkit({
        apiKey: GOOD_KEY,
        rootURL: meta.url,
        redactHeaders: ["X-Api-Key"],
        redactRequestBody: ["$.user.password", "$..cvv"],
        redactResponseBody: ["$.token"],
        serviceVersion: "1.4.0",
        tags: ["env:test"],
        publishIntervalMs: 20,
        logger: quietLogger,
        monitorOutgoing: false, // this file is about incoming requests; the test's own fetch calls are not the app's
      });
      srv = await listen(http.createServer(buildApp(express, apitoolkit, true)));
      srvParserAfter = await listen(http.createServer(buildApp(express, apitoolkit, false)));
    });

    after(async () => {
      await apitoolkit.close(3000);
      await srv.close();
      await srvParserAfter.close();
      await meta.close();
      await topic.close();
    });

    test("every exchange is published once, decodable, redacted, with route templates", async () => {
      assert.equal(apitoolkit.stats().state, "pending", "requests below are made before bootstrap finished");
      const loginBody = JSON.stringify({ user: { name: "ann", password: "hunter2" }, payment: { card: { number: "4111", cvv: "123" } } });
      const sent: Array<Promise<Response>> = [
        fetch(`${srv.url}/shops/42/orders/7?x=1`, { headers: { authorization: "Bearer user-secret", "x-api-key": "client-secret", cookie: "sid=abc" } }),
        fetch(`${srv.url}/login`, { method: "POST", headers: { "content-type": "application/json" }, body: loginBody }),
        fetch(`${srvParserAfter.url}/login?via=after`, { method: "POST", headers: { "content-type": "application/json" }, body: loginBody }),
        fetch(`${srv.url}/search?q=a&q=b&empty=`),
        // The parser ran first (the SDK saw no bytes): an empty JSON object sent as JSON is a body.
        fetch(`${srv.url}/login?empty=1`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
        fetch(`${srv.url}/stream`),
        fetch(`${srv.url}/pipe`),
        fetch(`${srv.url}/boom`),
        fetch(`${srv.url}/report`),
        fetch(`${srv.url}/no/such/route/99`),
      ];
      const responses = await Promise.all(sent);
      const texts = await Promise.all(responses.map((r) => r.text()));
      assert.equal(responses[0]!.status, 200);
      assert.equal(texts[5], "alpha,beta,gamma");
      assert.equal(texts[6], "one two three");
      assert.equal(responses[7]!.status, 500);
      assert.equal(responses[9]!.status, 404);

      const msgs = await topic.pull(sent.length);
      assert.equal(msgs.length, sent.length, "one message per request");
      const by = (raw: string) => one(msgs, raw);
      for (const m of msgs) {
        assertCommonFields(m, { projectId: PROJECT_ID, sdkType: "JsExpress", serviceVersion: "1.4.0", host: /^127\.0\.0\.1:\d+$/ });
      }
      assertNoSecrets(msgs, ["hunter2", "user-secret", "client-secret", "server-secret", "sid=abc", "tok-SECRET-123", '"123"']);

      const order = by("/shops/42/orders/7?x=1");
      assert.equal(order.url_path, "/shops/:shopId/orders/:orderId");
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

      for (const raw of ["/login", "/login?via=after"]) {
        const login = by(raw);
        assert.equal(login.url_path, "/login");
        assert.equal(login.status_code, 201);
        assert.deepEqual(b64json(login.request_body), {
          user: { name: "ann", password: "[CLIENT_REDACTED]" },
          payment: { card: { number: "4111", cvv: "[CLIENT_REDACTED]" } },
        });
        assert.deepEqual(b64json(login.response_body), { token: "[CLIENT_REDACTED]", user: "ann", cardEcho: "4111" });
      }

      assert.deepEqual(b64json(by("/login?empty=1").request_body), {}, "the parser's {} of a JSON body is sent");

      const search = by("/search?q=a&q=b&empty=");
      assert.deepEqual(search.query_params, { q: ["a", "b"], empty: [""] });
      assert.equal(b64text(by("/stream").response_body), "alpha,beta,gamma");
      assert.equal(b64text(by("/pipe").response_body), "one two three");

      const boom = by("/boom");
      assert.equal(boom.status_code, 500);
      assert.equal(boom.url_path, "/boom");
      assert.equal(boom.errors.length, 1);
      assert.equal(boom.errors[0]!.error_type, "Error");
      assert.equal(boom.errors[0]!.message, "outer failure");
      assert.equal(boom.errors[0]!.root_error_type, "TypeError");
      assert.equal(boom.errors[0]!.root_error_message, "inner cause");
      assert.match(boom.errors[0]!.stack_trace, /outer failure/);

      const report = by("/report");
      assert.equal(report.errors.length, 1);
      assert.equal(report.errors[0]!.error_type, "RangeError");

      const missing = by("/no/such/route/99");
      assert.equal(missing.status_code, 404);
      assert.equal(missing.url_path, "");
      assert.deepEqual(missing.path_params, {});

      assert.deepEqual(await topic.drain(1000), [], "nothing extra published");
    });

    test("res.write keeps its return value (backpressure) and responses are byte-for-byte unchanged", async () => {
      const bare = await listen(http.createServer(buildApp(express, undefined, true)));
      try {
        for (const path of ["/shops/1/orders/2", "/search?q=z", "/stream", "/pipe", "/boom", "/nope"]) {
          const [a, b] = await Promise.all([rawGet(srv.url + path), rawGet(bare.url + path)]);
          assert.equal(a.status, b.status, path);
          assert.deepEqual(stripDate(a.headers), stripDate(b.headers), path);
          assert.equal(a.body, b.body, path);
        }
        const post = (url: string) => fetch(url + "/login", { method: "POST", headers: { "content-type": "application/json" }, body: '{"user":{"name":"x","password":"p"}}' });
        const [a, b] = await Promise.all([post(srv.url), post(bare.url)]);
        assert.equal(await a.text(), await b.text());
      } finally {
        await bare.close();
      }
      await topic.pull(7);
      // The write() results the handler observed were real booleans from node, not swallowed.
      const app = express();
      app.use(expressMiddleware(apitoolkit));
      let results: unknown[] = [];
      app.get("/w", (_req, res) => {
        results = [res.write("x"), res.write(Buffer.alloc(4 * 1024 * 1024))];
        res.end();
      });
      const s = await listen(http.createServer(app));
      const r = await fetch(s.url + "/w");
      await r.arrayBuffer();
      await s.close();
      assert.equal(results[0], true);
      assert.equal(results[1], false, "a 4 MiB write reports backpressure");
      const [w] = await topic.pull(1);
      assert.equal(w!.raw_url, "/w");
    });

    test("40 concurrent requests yield exactly 40 messages", async () => {
      const n = 40;
      await Promise.all(Array.from({ length: n }, (_, i) => fetch(`${srv.url}/shops/${i}/orders/${i * 2}`).then((r) => r.text())));
      const msgs = await topic.pull(n);
      assert.equal(msgs.length, n);
      const raws = new Set(msgs.map((m) => m.raw_url));
      assert.equal(raws.size, n, "no duplicates");
      for (const m of msgs) {
        assert.equal(m.url_path, "/shops/:shopId/orders/:orderId");
        const [, shop, , order] = m.raw_url.split("/").slice(1);
        assert.deepEqual(m.path_params, { shopId: shop, orderId: order });
      }
      assert.equal(new Set(msgs.map((m) => m.msg_id)).size, n);
      assert.deepEqual(await topic.drain(800), []);
    });

    test("a request the client aborts is still reported", async () => {
      await new Promise<void>((resolve) => {
        const req = http.get(`${srv.url}/slow`);
        req.on("error", () => resolve());
        setTimeout(() => req.destroy(), 100);
      });
      const [m] = await topic.pull(1, 5000);
      assert.ok(m, "aborted request published");
      assert.equal(m.raw_url, "/slow");
      assert.equal(m.status_code, 499);
      assert.equal(m.url_path, "/slow");
    });

    test("mounted before the body parser, a request the parser rejects is still captured (fail closed)", async () => {
      const r = await fetch(`${srvParserAfter.url}/login?bad=json`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"user":{"password":"hunter2"' });
      assert.equal(r.status, 400);
      await r.text();
      const [m] = await topic.pull(1, 5000);
      assert.ok(m, "published");
      assert.equal(m.raw_url, "/login?bad=json");
      assert.equal(m.status_code, 400);
      assert.equal(m.url_path, "", "no route handled it");
      assert.equal(b64text(m.request_body), '"[CLIENT_REDACTED]"', "an unparseable body under rules is replaced by the marker");
      assert.equal(m.errors.length, 1, "the parser's error went through the error handler");
    });

    test("stats count what was captured and published", async () => {
      assert.equal(await apitoolkit.flush(5000), true);
      const s = apitoolkit.stats();
      assert.equal(s.state, "ready");
      assert.equal(s.captured, s.published);
      assert.equal(Object.values(s.dropped).reduce((a, b) => a + b, 0), 0);
      assert.equal(s.queueItems, 0);
    });
  });
}

function stripDate(h: http.IncomingHttpHeaders) {
  const { date: _date, ...rest } = h;
  return rest;
}

function rawGet(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString("latin1") }));
    }).on("error", reject);
  });
}

export type { WireMessage };

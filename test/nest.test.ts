// NestJS 11 (top-level install) and NestJS 10 (test/fixtures/nest10), each on the Express and the
// Fastify platform, end to end: real HTTP on loopback, bootstrap through a local client_metadata
// stand-in, publishing to the real Pub/Sub emulator; messages decoded and checked field by field.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import * as common11 from "@nestjs/common";
import * as core11 from "@nestjs/core";
import * as express11 from "@nestjs/platform-express";
import * as fastify11 from "@nestjs/platform-fastify";
import type { INestApplication } from "@nestjs/common";
import { APIToolkit, APIToolkitConfigError, type WireMessage } from "../src/index.js";
import { APIToolkitModule } from "../src/integrations/nest/index.js";
import { defineNestModule } from "../src/integrations/nest/module.js";
import { createNestExampleApp, nestExampleOptions, type NestPackages } from "../examples/nest/app.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { b64json, b64text } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets, one } from "./helpers/messages.js";
import { quietLogger } from "./helpers/logger.js";

const nest11: NestPackages = { common: common11, core: core11, express: express11, fastify: fastify11 };

const FIXTURE = new URL("./fixtures/nest10/", import.meta.url);
function loadNest10(): NestPackages {
  if (!existsSync(new URL("node_modules/@nestjs/core/package.json", FIXTURE))) {
    throw new Error("NestJS 10 fixture not installed: run `npm run fixtures` (or `npm install --prefix test/fixtures/nest10 --no-audit --no-fund`)");
  }
  const req = createRequire(new URL("package.json", FIXTURE));
  const version = (req("@nestjs/core/package.json") as { version: string }).version;
  assert.match(version, /^10\./, "the fixture holds NestJS 10");
  return {
    common: req("@nestjs/common") as NestPackages["common"],
    core: req("@nestjs/core") as NestPackages["core"],
    express: req("@nestjs/platform-express") as NestPackages["express"],
    fastify: req("@nestjs/platform-fastify") as NestPackages["fastify"],
  };
}

async function listenNest(app: INestApplication): Promise<string> {
  await app.listen(0, "127.0.0.1");
  const { port } = (app.getHttpServer() as http.Server).address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

const json = { "content-type": "application/json" };
const loginBody = JSON.stringify({ user: { name: "ann", password: "hunter2" }, payment: { card: { number: "4111", cvv: "123" } } });

const majors: Array<[string, () => NestPackages, 10 | 11]> = [
  ["NestJS 11", () => nest11, 11],
  ["NestJS 10", loadNest10, 10],
];

for (const [major, load, majorNumber] of majors) {
  for (const platform of ["express", "fastify"] as const) {
    describe(`${major} on ${platform}`, () => {
      let nest: NestPackages;
      let topic: TestTopic;
      let meta: MetadataServer;
      let apitoolkit: APIToolkit;
      let app: INestApplication;
      let url: string;
      // The module as users write it for the installed Nest; for Nest 10 the same definition with
      // Nest 10's HttpAdapterHost (the top-level @nestjs/core is 11).
      const moduleFor = (n: NestPackages, client: APIToolkit) =>
        majorNumber === 11 ? APIToolkitModule.forRoot(client) : defineNestModule(APIToolkitModule, n.core.HttpAdapterHost, client);

      before(async () => {
        nest = load();
        assert.equal((nest.core as { NestFactory: unknown }).NestFactory !== undefined, true);
        topic = await createTestTopic(`nest${majorNumber}-${platform}`);
        meta = await startMetadataServer(topic.topicId, { delayMs: 500 });
        apitoolkit = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, monitorOutgoing: false, logger: quietLogger, ...nestExampleOptions });
        app = await createNestExampleApp(apitoolkit, { platform, nest, apitoolkitModule: moduleFor(nest, apitoolkit) });
        url = await listenNest(app);
      });

      after(async () => {
        await app?.close();
        await apitoolkit?.close(3000);
        await meta?.close();
        await topic?.close();
      });

      test("every exchange is published once, decodable, redacted, with route templates and errors", async () => {
        assert.equal(apitoolkit.stats().state, "pending", "requests below are made before bootstrap finished");
        const sent: Array<Promise<Response>> = [
          fetch(`${url}/api/shops/42/orders/7?x=1`, { headers: { authorization: "Bearer user-secret", "x-api-key": "client-secret", cookie: "sid=abc", referer: "https://ref.example/p" } }),
          fetch(`${url}/api/login`, { method: "POST", headers: json, body: loginBody }),
          fetch(`${url}/api/search?q=a&q=b&empty=`),
          fetch(`${url}/api/admin`),
          fetch(`${url}/api/mine/9`),
          fetch(`${url}/api/boom`),
          fetch(`${url}/api/report`, { method: "POST", headers: json, body: '{"n":5}' }),
          fetch(`${url}/api/v2/users/77`),
          fetch(`${url}/api/no/such/route/99`),
          fetch(`${url}/api/shops/5/orders/6?blocked=1`, { headers: { "x-block": "1" } }),
        ];
        const responses = await Promise.all(sent);
        const texts = await Promise.all(responses.map((r) => r.text()));
        assert.deepEqual(responses.map((r) => r.status), [200, 201, 200, 403, 403, 500, 201, 200, 404, 429]);
        assert.deepEqual(JSON.parse(texts[3]!), { message: "Forbidden resource", error: "Forbidden", statusCode: 403 });

        const msgs = await topic.pull(sent.length);
        assert.equal(msgs.length, sent.length, "one message per request");
        const by = (raw: string): WireMessage => one(msgs, raw);
        for (const m of msgs) {
          assertCommonFields(m, { projectId: PROJECT_ID, sdkType: "JsNest", serviceVersion: "1.4.0", host: url.slice("http://".length) });
        }
        assertNoSecrets(msgs, ["hunter2", "user-secret", "client-secret", "server-secret", "sid=abc", "tok-SECRET-123", '"123"', "never sent"]);

        const order = by("/api/shops/42/orders/7?x=1");
        assert.equal(order.method, "GET");
        assert.equal(order.status_code, 200);
        assert.equal(order.url_path, "/api/shops/:shopId/orders/:orderId");
        assert.deepEqual(order.path_params, { shopId: "42", orderId: "7" });
        assert.deepEqual(order.query_params, { x: ["1"] });
        assert.equal(order.referer, "https://ref.example/p");
        assert.deepEqual(order.request_headers.authorization, ["[CLIENT_REDACTED]"]);
        assert.deepEqual(order.request_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
        assert.deepEqual(order.request_headers.cookie, ["[CLIENT_REDACTED]"]);
        assert.deepEqual(order.response_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
        assert.match(order.response_headers["content-type"]![0]!, /^application\/json/);
        assert.deepEqual(order.response_headers["x-served-by"], ["nest-middleware"]);
        assert.equal(order.request_body, "");
        assert.deepEqual(b64json(order.response_body), { shop: "42", order: "7" });
        assert.deepEqual(order.errors, []);

        const login = by("/api/login");
        assert.equal(login.method, "POST");
        assert.equal(login.status_code, 201);
        assert.equal(login.url_path, "/api/login");
        assert.deepEqual(login.path_params, {});
        assert.deepEqual(login.request_headers["content-type"], ["application/json"]);
        assert.deepEqual(b64json(login.request_body), {
          user: { name: "ann", password: "[CLIENT_REDACTED]" },
          payment: { card: { number: "4111", cvv: "[CLIENT_REDACTED]" } },
        });
        assert.deepEqual(b64json(login.response_body), { token: "[CLIENT_REDACTED]", user: "ann", cardEcho: "4111" });

        const search = by("/api/search?q=a&q=b&empty=");
        assert.equal(search.url_path, "/api/search");
        assert.deepEqual(search.query_params, { q: ["a", "b"], empty: [""] });
        assert.deepEqual(b64json(search.response_body), { q: ["a", "b"] });

        // Rejected by a guard: Nest's exception filter answered 403; the route had matched.
        const admin = by("/api/admin");
        assert.equal(admin.status_code, 403);
        assert.equal(admin.url_path, "/api/admin");
        assert.deepEqual(b64json(admin.response_body), { message: "Forbidden resource", error: "Forbidden", statusCode: 403 });

        // An HttpException thrown by the controller.
        const mine = by("/api/mine/9");
        assert.equal(mine.status_code, 403);
        assert.equal(mine.url_path, "/api/mine/:id");
        assert.deepEqual(mine.path_params, { id: "9" });
        assert.equal(mine.errors.length, 1);
        assert.equal(mine.errors[0]!.error_type, "ForbiddenException");
        assert.equal(mine.errors[0]!.message, "order 9 is not yours");
        assert.equal(mine.errors[0]!.root_error_type, "ForbiddenException");

        const boom = by("/api/boom");
        assert.equal(boom.status_code, 500);
        assert.equal(boom.url_path, "/api/boom");
        assert.deepEqual(b64json(boom.response_body), { statusCode: 500, message: "Internal server error" });
        assert.equal(boom.errors.length, 1);
        assert.equal(boom.errors[0]!.error_type, "Error");
        assert.equal(boom.errors[0]!.message, "outer failure");
        assert.equal(boom.errors[0]!.root_error_type, "TypeError");
        assert.equal(boom.errors[0]!.root_error_message, "inner cause");
        assert.match(boom.errors[0]!.stack_trace, /outer failure/);
        assert.match(boom.errors[0]!.when, /^\d{4}-\d\d-\d\dT/);

        // reportError() in an async controller method, after the body was parsed.
        const report = by("/api/report");
        assert.equal(report.status_code, 201);
        assert.equal(report.url_path, "/api/report");
        assert.deepEqual(b64json(report.request_body), { n: 5 });
        assert.equal(report.errors.length, 1);
        assert.equal(report.errors[0]!.error_type, "RangeError");
        assert.equal(report.errors[0]!.message, "reported in handler 5");

        const user = by("/api/v2/users/77");
        assert.equal(user.url_path, "/api/v2/users/:id", "global prefix and URI version in the template");
        assert.deepEqual(user.path_params, { id: "77" });

        const missing = by("/api/no/such/route/99");
        assert.equal(missing.status_code, 404);
        assert.equal(missing.url_path, "");
        assert.deepEqual(missing.path_params, {});
        assert.deepEqual(missing.errors, []);

        // Answered by a Nest middleware before any guard or handler ran.
        const blocked = by("/api/shops/5/orders/6?blocked=1");
        assert.equal(blocked.status_code, 429);
        assert.equal(b64text(blocked.response_body), "slow down");
        assert.deepEqual(blocked.response_headers["x-served-by"], ["nest-middleware"]);
        if (platform === "express") {
          // Nest mounts controller middleware on the route's own path, so the router already matched.
          assert.equal(blocked.url_path, "/api/shops/:shopId/orders/:orderId");
          assert.deepEqual(blocked.path_params, { shopId: "5", orderId: "6" });
        } else {
          // middie answered before Fastify's route hooks ran: the route is unknown, so url_path is left out (not "").
          assert.equal("url_path" in blocked, false);
          assert.deepEqual(blocked.path_params, {});
        }

        assert.deepEqual(await topic.drain(800), [], "nothing extra published");
      });

      test("responses are unchanged by the SDK", async () => {
        const bare = await createNestExampleApp(apitoolkit, { platform, nest, wiring: "none" });
        const bareUrl = await listenNest(bare);
        try {
          for (const [path, init] of [
            ["/api/shops/1/orders/2", {}],
            ["/api/admin", {}],
            ["/api/boom", {}],
            ["/api/nope", {}],
            ["/api/login", { method: "POST", headers: json, body: loginBody }],
          ] as const) {
            const [a, b] = await Promise.all([fetch(url + path, init), fetch(bareUrl + path, init)]);
            assert.equal(a.status, b.status, path);
            assert.equal(await a.text(), await b.text(), path);
            const headers = (r: Response) => [...r.headers].filter(([k]) => k !== "date" && k !== "keep-alive");
            assert.deepEqual(headers(a), headers(b), path);
          }
        } finally {
          await bare.close();
        }
        const msgs = await topic.pull(5);
        assert.equal(msgs.length, 5, "only the captured app published");
        assert.ok(msgs.every((m) => m.host === url.slice("http://".length)));
        assert.deepEqual(await topic.drain(800), []);
      });

      test("20 concurrent requests yield exactly 20 messages", async () => {
        const n = 20;
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            fetch(`${url}/api/shops/s${i}/orders/${i * 3}?i=${i}`, i % 2 ? { headers: { "x-api-key": `k${i}` } } : {}).then((r) => r.text()),
          ),
        );
        const msgs = await topic.pull(n);
        assert.equal(msgs.length, n);
        assert.equal(new Set(msgs.map((m) => m.raw_url)).size, n, "no duplicates");
        assert.equal(new Set(msgs.map((m) => m.msg_id)).size, n);
        for (const m of msgs) {
          const i = Number(m.query_params.i![0]);
          assert.equal(m.raw_url, `/api/shops/s${i}/orders/${i * 3}?i=${i}`);
          assert.equal(m.url_path, "/api/shops/:shopId/orders/:orderId");
          assert.deepEqual(m.path_params, { shopId: `s${i}`, orderId: String(i * 3) });
          assert.deepEqual(b64json(m.response_body), { shop: `s${i}`, order: String(i * 3) });
          if (i % 2) assert.deepEqual(m.request_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
        }
        assert.deepEqual(await topic.drain(800), []);
      });

      test("manual wiring (middleware or onRequest hook, plus APIToolkitInterceptor) captures the same", async () => {
        const manual = await createNestExampleApp(apitoolkit, { platform, nest, wiring: "manual" });
        const manualUrl = await listenNest(manual);
        try {
          const results = await Promise.all([
            fetch(`${manualUrl}/api/shops/3/orders/4`),
            fetch(`${manualUrl}/api/admin`),
            fetch(`${manualUrl}/api/boom`),
            fetch(`${manualUrl}/api/report`, { method: "POST", headers: json, body: '{"n":6}' }),
            fetch(`${manualUrl}/api/nope/1`),
          ]);
          assert.deepEqual(results.map((r) => r.status), [200, 403, 500, 201, 404]);
          await Promise.all(results.map((r) => r.text()));
        } finally {
          await manual.close();
        }
        const msgs = await topic.pull(5);
        assert.equal(msgs.length, 5);
        const by = (raw: string) => one(msgs, raw);
        assert.equal(by("/api/shops/3/orders/4").url_path, "/api/shops/:shopId/orders/:orderId");
        assert.deepEqual(by("/api/shops/3/orders/4").path_params, { shopId: "3", orderId: "4" });
        assert.equal(by("/api/admin").url_path, "/api/admin");
        assert.equal(by("/api/admin").status_code, 403);
        assert.equal(by("/api/boom").errors[0]!.root_error_message, "inner cause");
        assert.equal(by("/api/report").errors[0]!.message, "reported in handler 6");
        assert.equal(by("/api/nope/1").url_path, "");
        for (const m of msgs) assert.equal(m.sdk_type, "JsNest");
        assert.deepEqual(await topic.drain(800), [], "one message each");
      });

      // Express runs Nest's body parser before its router, Fastify routes first: either way the
      // message names the route the client asked for, and a path with no route stays "".
      test("a body the JSON parser rejects (400) still carries the route template", async () => {
        const bad = '{"user": ';
        const results = await Promise.all([
          fetch(`${url}/api/login`, { method: "POST", headers: json, body: bad }),
          fetch(`${url}/api/v2/users/77?x=1`, { method: "POST", headers: json, body: bad }),
          fetch(`${url}/api/v2/users/78`, { method: "POST", headers: json, body: '{"name":"Bo"}' }),
          fetch(`${url}/api/no/such/route`, { method: "POST", headers: json, body: bad }),
        ]);
        await Promise.all(results.map((r) => r.text()));
        // Both platforms parse the body of a request no route matched too (Fastify in its 404 route).
        assert.deepEqual(results.map((r) => r.status), [400, 400, 200, 400]);
        const msgs = await topic.pull(4);
        assert.equal(msgs.length, 4);
        const by = (raw: string) => one(msgs, raw);
        assert.equal(by("/api/login").status_code, 400);
        assert.equal(by("/api/login").url_path, "/api/login");
        assert.deepEqual(by("/api/login").path_params, {});
        assert.equal(by("/api/v2/users/77?x=1").status_code, 400);
        assert.equal(by("/api/v2/users/77?x=1").url_path, "/api/v2/users/:id", "global prefix, version and parameter");
        assert.deepEqual(by("/api/v2/users/77?x=1").path_params, { id: "77" });
        assert.equal(by("/api/v2/users/78").url_path, "/api/v2/users/:id");
        assert.deepEqual(b64json(by("/api/v2/users/78").response_body), { id: "78", name: "Bo" });
        assert.equal(by("/api/no/such/route").url_path, "");
        assert.deepEqual(by("/api/no/such/route").path_params, {});
        assert.deepEqual(await topic.drain(800), [], "one message each");
      });

      test("stats count what was captured and published", async () => {
        assert.equal(await apitoolkit.flush(5000), true);
        const s = apitoolkit.stats();
        assert.equal(s.state, "ready");
        assert.equal(s.captured, s.published);
        assert.equal(s.captured, 10 + 5 + 20 + 5 + 4);
        assert.equal(Object.values(s.dropped).reduce((a, b) => a + b, 0), 0);
      });
    });
  }
}

describe("APIToolkitModule.forRoot", () => {
  test("rejects anything but an APIToolkit client at start-up", () => {
    assert.throws(() => APIToolkitModule.forRoot({} as APIToolkit), (e: unknown) => e instanceof APIToolkitConfigError && e.code === "ERR_INVALID_CLIENT");
  });

  test("a disabled client (no API key) leaves the app working and publishes nothing", async () => {
    const disabled = new APIToolkit({ apiKey: "", logger: quietLogger });
    const app = await createNestExampleApp(disabled, { platform: "express" });
    const url = await listenNest(app);
    try {
      const r = await fetch(`${url}/api/shops/1/orders/2`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { shop: "1", order: "2" });
      const boom = await fetch(`${url}/api/boom`);
      assert.equal(boom.status, 500);
      await boom.text();
    } finally {
      await app.close();
    }
    assert.equal(disabled.stats().captured, 0);
    await disabled.close(1000);
  });
});

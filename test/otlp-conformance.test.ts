// The conformance service (test/helpers/conformance-apps.ts) on every HTTP integration, delivered
// over OTLP instead of Pub/Sub: the same requests give one decodable span each, with the same
// routes, redaction and errors the Pub/Sub messages carry (see test/conformance.test.ts for where
// integrations legitimately differ: sdk_type, and no route without a router).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { APIToolkit } from "../src/index.js";
import {
  type Served, type StartApp, startExpress4, startExpress5, startFastify4, startFastify5, startKoa2, startKoa3, startHono, startHttp, startNestExpress, startNestFastify, startAdonis,
} from "./helpers/conformance-apps.js";
import { startOtlpReceiver, type DecodedSpan, type OtlpReceiver } from "./helpers/otlp-receiver.js";
import { rawRequest } from "./helpers/server.js";
import { quietLogger } from "./helpers/logger.js";

const integrations: Array<[name: string, start: StartApp, sdkType: string, router: boolean]> = [
  ["Express 4", startExpress4, "JsExpress", true],
  ["Express 5", startExpress5, "JsExpress", true],
  ["Fastify 4", startFastify4, "JsFastify", true],
  ["Fastify 5", startFastify5, "JsFastify", true],
  ["Koa 2 with @koa/router", startKoa2, "JsExpress", true],
  ["Koa 3 with @koa/router", startKoa3, "JsExpress", true],
  ["Hono 4 on @hono/node-server", startHono, "JsExpress", true],
  ["node:http (wrapHandler)", startHttp, "JsExpress", false],
  ["NestJS 11 on platform-express", startNestExpress, "JsNest", true],
  ["NestJS 11 on platform-fastify", startNestFastify, "JsNest", true],
  ["AdonisJS 6", startAdonis, "JsAdonis", true],
];

const R = "[CLIENT_REDACTED]";
const SECRET_HEADERS = { authorization: "Bearer user-secret", "x-api-key": "client-secret", cookie: "sid=abc" };
const ECHO = { user: { name: "ann", password: "hunter2" }, card: { number: "4111", cvv: "123" }, token: "client-token" };
const SECRETS = ["hunter2", "user-secret", "client-secret", "server-secret", "sid=abc", "tok-SECRET-123"];
const b64 = (v: unknown) => Buffer.from(String(v), "base64").toString("utf8");

function spanFor(spans: DecodedSpan[], target: string): DecodedSpan {
  const found = spans.filter((s) => s.attributes["http.target"] === target);
  assert.equal(found.length, 1, `exactly one span for ${target}, got ${found.length}`);
  return found[0]!;
}

describe("conformance over OTLP: the same service on every HTTP integration", { concurrency: true }, () => {
  for (const [name, start, sdkType, router] of integrations) {
    describe(name, () => {
      let receiver: OtlpReceiver;
      let apitoolkit: APIToolkit;
      let srv: Served;
      before(async () => {
        receiver = await startOtlpReceiver("http/protobuf");
        apitoolkit = new APIToolkit({
          apiKey: "conformance-key",
          delivery: "otlp",
          otlp: { endpoint: receiver.url },
          redactHeaders: ["X-Api-Key"],
          redactRequestBody: ["$.user.password", "$..cvv"],
          redactResponseBody: ["$.token", "$.echo.user.password"],
          publishIntervalMs: 20,
          logger: quietLogger,
          monitorOutgoing: false,
        });
        srv = await start(apitoolkit);
      });
      after(async () => {
        await srv?.close();
        await apitoolkit?.close(3000);
        await receiver?.close();
      });

      test("one span per request, routed, redacted, errors recorded", async () => {
        const answers = await Promise.all([
          rawRequest(`${srv.url}/users/42?x=1&x=2`, "GET", undefined, SECRET_HEADERS),
          rawRequest(`${srv.url}/echo`, "POST", JSON.stringify(ECHO)),
          rawRequest(`${srv.url}/stream`),
          rawRequest(`${srv.url}/boom`),
          rawRequest(`${srv.url}/no/such/route/99`),
        ]);
        assert.deepEqual(answers.map((a) => a.status), [200, 201, 200, 500, 404]);
        await apitoolkit.flush(5000);
        const spans = await receiver.waitForSpans(answers.length);
        assert.equal(spans.length, answers.length);
        const all = JSON.stringify(spans.map((s) => [s.attributes, s.events.map((e) => e.attributes), s.status, b64(s.attributes["http.request.body"]), b64(s.attributes["http.response.body"])]));
        for (const secret of SECRETS) assert.ok(!all.includes(secret), `secret ${secret} must not be in any attribute`);
        for (const s of spans) {
          assert.equal(s.name, "monoscope.http");
          assert.equal(s.kind, 2);
          assert.equal(s.attributes["monoscope.sdk_type"], sdkType);
          assert.equal(s.resource["at-project-key"], "conformance-key");
        }

        const user = spanFor(spans, "/users/42?x=1&x=2");
        if (router) {
          assert.equal(user.attributes["http.route"], "/users/:id");
          assert.deepEqual(JSON.parse(String(user.attributes["http.request.path_params"])), { id: "42" });
        } else {
          assert.equal("http.route" in user.attributes, false, "no router: no route");
        }
        assert.deepEqual(JSON.parse(String(user.attributes["http.request.query_params"])), { x: ["1", "2"] });
        assert.deepEqual(user.attributes["http.request.header.authorization"], [R]);
        assert.deepEqual(user.attributes["http.request.header.x-api-key"], [R]);
        assert.deepEqual(user.attributes["http.request.header.cookie"], [R]);
        assert.deepEqual(user.attributes["http.response.header.x-api-key"], [R]);
        assert.deepEqual(JSON.parse(b64(user.attributes["http.response.body"])), { id: "42", name: "Ada" });

        const echo = spanFor(spans, "/echo");
        assert.equal(echo.attributes["http.response.status_code"], 201);
        assert.deepEqual(JSON.parse(b64(echo.attributes["http.request.body"])), { user: { name: "ann", password: R }, card: { number: "4111", cvv: R }, token: "client-token" });
        assert.deepEqual(JSON.parse(b64(echo.attributes["http.response.body"])), { token: R, echo: { user: { name: "ann", password: R }, card: { number: "4111", cvv: "123" }, token: "client-token" } });

        assert.equal(b64(spanFor(spans, "/stream").attributes["http.response.body"]), "one two three");

        const boom = spanFor(spans, "/boom");
        assert.equal(boom.attributes["http.response.status_code"], 500);
        assert.equal(boom.status.code, 2);
        assert.equal(boom.events.filter((e) => e.name === "exception").length, 2, "the error, then its root cause");
        assert.equal(boom.events[0]!.attributes["exception.message"], "payment provider unreachable");
        assert.equal(boom.events[1]!.attributes["exception.type"], "TypeError");
        assert.equal(boom.events[1]!.attributes["exception.message"], "ECONNREFUSED 10.0.0.7:443");
        assert.equal((JSON.parse(String(boom.attributes["monoscope.errors"])) as Array<{ root_error_type: string }>)[0]!.root_error_type, "TypeError");

        const missing = spanFor(spans, "/no/such/route/99");
        assert.equal(missing.attributes["http.response.status_code"], 404);
        if (router) assert.equal(missing.attributes["http.route"], "");
        else assert.equal("http.route" in missing.attributes, false);
      });

      test("identity set in the handler is on its own span, typed, under concurrency", async () => {
        const ids = Array.from({ length: 8 }, (_, i) => `o${i}${"y".repeat(i % 3)}`);
        const answers = await Promise.all(ids.map((id) => rawRequest(`${srv.url}/whoami/${id}`)));
        assert.deepEqual(answers.map((a) => a.status), ids.map(() => 200));
        await apitoolkit.flush(5000);
        const spans = (await receiver.waitForSpans(5 + ids.length)).filter((s) => String(s.attributes["http.target"]).startsWith("/whoami/"));
        assert.equal(spans.length, ids.length);
        for (const s of spans) {
          const id = String(s.attributes["http.target"]).slice("/whoami/".length);
          assert.equal(s.attributes["user.id"], `u_${id}`);
          assert.equal(s.attributes["user.email"], `${id}@example.com`);
          assert.equal(s.attributes["user.full_name"], "Ann Lee");
          assert.equal(s.attributes["tenant.id"], "t_7");
          assert.equal(s.attributes["tenant.name"], "Acme");
          assert.equal(s.attributes["session.id"], `s_${id}`);
          assert.equal(s.attributes["plan"], "pro");
          assert.equal(s.attributes["cart.items"], id.length, "a number stays a number (intValue)");
          assert.equal(s.attributes["beta"], true, "a boolean stays a boolean");
          assert.equal("monoscope.tags" in s.attributes, false, "no global tags; identity is not put in tags over OTLP");
        }
      });
    });
  }
});

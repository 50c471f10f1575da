// One service (test/helpers/conformance-apps.ts), every integration that serves plain HTTP: the
// same requests, with the same redaction rules, published to the real Pub/Sub emulator and checked
// field by field against the same expectations. Where integrations legitimately differ, the table
// below says so; anything not in it is expected to be identical everywhere.
//
//   integration                      sdk_type    url_path / path_params
//   Express 4, Express 5             JsExpress   route template / route params; "" when no route matched
//   Fastify 4, Fastify 5             JsFastify   same
//   Koa 2, Koa 3 (+ @koa/router)     JsExpress   same (the wire format has no Koa value)
//   Hono 4 on @hono/node-server      JsExpress   same (no Hono value)
//   node:http (wrapHandler)          JsExpress   no router: url_path left out (404s too), path_params {}
//   NestJS 11, platform-express      JsNest      same as Express
//   NestJS 11, platform-fastify      JsNest      same as Express
//   AdonisJS 6                       JsAdonis    same (the pattern of Adonis's router, group prefixes included)
//
// AdonisJS 6's bodyparser answers 400 to a JSON body sent chunked (no content-length: it expects 0
// bytes), with or without the SDK, so its body in two packets is sent with a content-length.
//
// How /boom's error reaches the message differs by design, not in what is recorded: each framework's
// error hook records the thrown error (Adonis: its exception handler's report(), which the app
// wires to adonisErrorReporter); node:http has no error hook (a listener that throws crashes
// the process), so that app catches and calls reportError(), as plain node apps do.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { APIToolkit, type Logger, type SampleInfo, type WireMessage } from "../src/index.js";
import {
  identityTags, type Served, type StartApp, startExpress4, startExpress5, startFastify4, startFastify5, startKoa2, startKoa3, startHono, startHttp, startNestExpress, startNestFastify, startAdonis,
} from "./helpers/conformance-apps.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { assertSameAnswers, b64json, b64text, rawRequest, slowPost, abortedGet } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets, one } from "./helpers/messages.js";
import { assertWireMessage } from "./helpers/wire.js";
import { quietLogger } from "./helpers/logger.js";

/** Where integrations legitimately differ (see the table above). */
interface Differences {
  sdkType: "JsExpress" | "JsFastify" | "JsNest" | "JsAdonis";
  /** false: no router (node:http), so url_path is left out of every message and path_params is {}. */
  router: boolean;
  /** false: the framework's body parser refuses chunked request bodies (the split POST gets a content-length). */
  chunkedBodies?: boolean;
}

const integrations: Array<[name: string, start: StartApp, differs: Differences]> = [
  ["Express 4", startExpress4, { sdkType: "JsExpress", router: true }],
  ["Express 5", startExpress5, { sdkType: "JsExpress", router: true }],
  ["Fastify 4", startFastify4, { sdkType: "JsFastify", router: true }],
  ["Fastify 5", startFastify5, { sdkType: "JsFastify", router: true }],
  ["Koa 2 with @koa/router", startKoa2, { sdkType: "JsExpress", router: true }],
  ["Koa 3 with @koa/router", startKoa3, { sdkType: "JsExpress", router: true }],
  ["Hono 4 on @hono/node-server", startHono, { sdkType: "JsExpress", router: true }],
  ["node:http (wrapHandler)", startHttp, { sdkType: "JsExpress", router: false }],
  ["NestJS 11 on platform-express", startNestExpress, { sdkType: "JsNest", router: true }],
  ["NestJS 11 on platform-fastify", startNestFastify, { sdkType: "JsNest", router: true }],
  ["AdonisJS 6", startAdonis, { sdkType: "JsAdonis", router: true, chunkedBodies: false }],
];

const OPTIONS = {
  redactHeaders: ["X-Api-Key"],
  redactRequestBody: ["$.user.password", "$..cvv"],
  redactResponseBody: ["$.token", "$.echo.user.password"],
  serviceVersion: "1.4.0",
  tags: ["env:test"],
};
const R = "[CLIENT_REDACTED]";
const SPLIT_BODY = ['{"n":', "6}"];
const SECRET_HEADERS = { authorization: "Bearer user-secret", "x-api-key": "client-secret", cookie: "sid=abc", referer: "https://ref.example/p" };
const ECHO = { user: { name: "ann", password: "hunter2" }, card: { number: "4111", cvv: "123" }, token: "client-token" };
const SECRETS = ["hunter2", "user-secret", "client-secret", "server-secret", "sid=abc", "tok-SECRET-123"];

// Every integration has its own app, client and topic, so they run side by side; the tests of one
// integration run in order (each pulls what it sent).
describe("conformance: the same service on every HTTP integration", { concurrency: true }, () => {
  for (const [name, start, differs] of integrations) {
    describe(name, { concurrency: 1 }, () => {
      let topic: TestTopic;
      let meta: MetadataServer;
      let apitoolkit: APIToolkit;
      let srv: Served;

      /** url_path and path_params, as the table says this integration reports them. */
      function assertRoute(m: WireMessage, template: string, params: Record<string, string>): void {
        if (differs.router) {
          assert.equal(m.url_path, template, `url_path of ${m.raw_url}`);
          assert.deepEqual(m.path_params, params, `path_params of ${m.raw_url}`);
        } else {
          assert.equal("url_path" in m, false, `no router: url_path is left out (${m.raw_url})`);
          assert.deepEqual(m.path_params, {});
        }
      }

      before(async () => {
        topic = await createTestTopic("conformance");
        // Bootstrap's answer is held until the first test's requests were answered, so they are made
        // before bootstrap finished however long the app took to boot.
        meta = await startMetadataServer(topic.topicId, { hold: true });
        apitoolkit = new APIToolkit({ ...OPTIONS, apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false });
        srv = await start(apitoolkit);
      });

      after(async () => {
        meta?.release();
        await srv?.close();
        await apitoolkit?.close(3000);
        await meta?.close();
        await topic?.close();
      });

      test("the same requests are published with the same fields and redaction", async () => {
        assert.equal(apitoolkit.stats().state, "pending", "requests below are made before bootstrap finished");
        const answers = await Promise.all([
          rawRequest(`${srv.url}/users/42?x=1&x=2&empty=`, "GET", undefined, SECRET_HEADERS),
          rawRequest(`${srv.url}/echo`, "POST", JSON.stringify(ECHO)),
          rawRequest(`${srv.url}/stream`),
          rawRequest(`${srv.url}/boom`),
          rawRequest(`${srv.url}/report`),
          rawRequest(`${srv.url}/report?post=1`, "POST", '{"n":5}'),
          slowPost(`${srv.url}/report?split=1`, SPLIT_BODY, differs.chunkedBodies === false ? { "content-length": String(SPLIT_BODY.join("").length) } : {}), // the body arrives in two packets
          rawRequest(`${srv.url}/no/such/route/99`),
        ]).finally(() => meta.release());
        assert.deepEqual(answers.map((a) => a.status), [200, 201, 200, 500, 200, 200, 200, 404]);
        assert.deepEqual(JSON.parse(answers[1]!.body), { token: "tok-SECRET-123", echo: ECHO }, "the app's own answer is not redacted");
        assert.equal(answers[2]!.body, "one two three");

        const msgs = await topic.pull(answers.length);
        assert.equal(msgs.length, answers.length, "one message per request");
        for (const m of msgs) {
          assertWireMessage(m);
          assertCommonFields(m, { projectId: PROJECT_ID, sdkType: differs.sdkType, serviceVersion: "1.4.0", host: srv.url.slice("http://".length) });
        }
        assertNoSecrets(msgs, SECRETS);

        const user = one(msgs, "/users/42?x=1&x=2&empty=");
        assert.equal(user.method, "GET");
        assert.equal(user.status_code, 200);
        assertRoute(user, "/users/:id", { id: "42" });
        assert.deepEqual(user.query_params, { x: ["1", "2"], empty: [""] });
        assert.equal(user.referer, "https://ref.example/p");
        assert.deepEqual(user.request_headers.authorization, [R], "redacted by default");
        assert.deepEqual(user.request_headers.cookie, [R], "redacted by default");
        assert.deepEqual(user.request_headers["x-api-key"], [R], "redacted by name, case-insensitively");
        assert.deepEqual(user.response_headers["x-api-key"], [R], "response headers too");
        assert.match(user.response_headers["content-type"]![0]!, /^application\/json/);
        assert.equal(user.request_body, "");
        assert.deepEqual(b64json(user.response_body), { id: "42", name: "Ada" });
        assert.deepEqual(user.errors, []);

        const echo = one(msgs, "/echo");
        assert.equal(echo.method, "POST");
        assert.equal(echo.status_code, 201);
        assertRoute(echo, "/echo", {});
        assert.deepEqual(echo.query_params, {});
        assert.equal(echo.referer, "");
        assert.deepEqual(echo.request_headers["content-type"], ["application/json"]);
        // Each side has its own rules: $.token (a response rule) leaves the request's token alone,
        // $..cvv (a request rule) leaves the echoed cvv alone.
        assert.deepEqual(b64json(echo.request_body), { user: { name: "ann", password: R }, card: { number: "4111", cvv: R }, token: "client-token" });
        assert.deepEqual(b64json(echo.response_body), { token: R, echo: { user: { name: "ann", password: R }, card: { number: "4111", cvv: "123" }, token: "client-token" } });
        assert.deepEqual(echo.errors, []);

        const stream = one(msgs, "/stream");
        assertRoute(stream, "/stream", {});
        assert.match(stream.response_headers["content-type"]![0]!, /^text\/plain/);
        assert.equal(b64text(stream.response_body), "one two three", "every part of a streamed body");

        const boom = one(msgs, "/boom");
        assert.equal(boom.status_code, 500);
        assertRoute(boom, "/boom", {});
        assert.equal(boom.errors.length, 1);
        assert.equal(boom.errors[0]!.error_type, "Error");
        assert.equal(boom.errors[0]!.message, "payment provider unreachable");
        assert.equal(boom.errors[0]!.root_error_type, "TypeError");
        assert.equal(boom.errors[0]!.root_error_message, "ECONNREFUSED 10.0.0.7:443");
        assert.match(boom.errors[0]!.stack_trace, /payment provider unreachable/);

        const report = one(msgs, "/report");
        assert.equal(report.status_code, 200);
        assertRoute(report, "/report", {});
        assert.equal(report.errors.length, 1, "reportError in an async handler");
        assert.equal(report.errors[0]!.error_type, "RangeError");
        assert.equal(report.errors[0]!.message, "reported in handler");
        for (const [raw, n] of [["/report?post=1", 5], ["/report?split=1", 6]] as const) {
          const m = one(msgs, raw);
          assert.equal(m.method, "POST");
          assertRoute(m, "/report", {});
          assert.equal(m.errors.length, 1, `reportError after the body was parsed (${raw})`);
          assert.equal(m.errors[0]!.message, `reported after parsing ${n}`);
          assert.deepEqual(b64json(m.request_body), { n });
        }

        const missing = one(msgs, "/no/such/route/99");
        assert.equal(missing.status_code, 404);
        if (differs.router) assert.equal(missing.url_path, "", "the router matched nothing");
        else assert.equal("url_path" in missing, false);
        assert.deepEqual(missing.path_params, {});
        assert.deepEqual(missing.errors, []);

        assert.deepEqual(await topic.drain(1000), [], "nothing extra published");
      });

      test("answers are byte-for-byte the same with and without the SDK", async () => {
        const bare = await start(undefined);
        // Not /report: its reportError() in the bare app, outside any captured request, would count
        // in errorsOutsideRequest of every client in this process (checked below).
        const requests: Array<[path: string, method?: string, body?: string]> = [
          ["/users/1?x=1"], ["/echo", "POST", JSON.stringify(ECHO)], ["/stream"], ["/boom"], ["/no/such/route/99"],
        ];
        await assertSameAnswers(srv.url, bare, requests);
        assert.equal((await topic.pull(requests.length)).length, requests.length, "only the app with the SDK published");
        assert.deepEqual(await topic.drain(800), []);
      });

      test("40 concurrent requests yield exactly 40 messages, each with its own fields", async () => {
        const n = 40;
        await Promise.all(Array.from({ length: n }, (_, i) => rawRequest(`${srv.url}/users/u${i}?i=${i}`, "GET", undefined, i % 2 ? { "x-api-key": `k${i}` } : {})));
        const msgs = await topic.pull(n);
        assert.equal(msgs.length, n);
        assert.equal(new Set(msgs.map((m) => m.raw_url)).size, n, "no duplicates");
        assert.equal(new Set(msgs.map((m) => m.msg_id)).size, n);
        for (const m of msgs) {
          const i = Number(m.query_params.i![0]);
          assert.equal(m.raw_url, `/users/u${i}?i=${i}`);
          assertRoute(m, "/users/:id", { id: `u${i}` });
          assert.deepEqual(b64json(m.response_body), { id: `u${i}`, name: "Ada" });
          if (i % 2) assert.deepEqual(m.request_headers["x-api-key"], [R]);
        }
        assert.deepEqual(await topic.drain(800), []);
      });

      test("a request the client aborts is still reported, as 499", async () => {
        await abortedGet(`${srv.url}/slow`);
        const [m] = await topic.pull(1, 5000);
        assert.ok(m, "aborted request published");
        assert.equal(m.raw_url, "/slow");
        assert.equal(m.status_code, 499);
        assertRoute(m, "/slow", {});
      });

      test("stats count what was captured and published", async () => {
        assert.equal(await apitoolkit.flush(5000), true);
        const s = apitoolkit.stats();
        assert.equal(s.state, "ready");
        assert.equal(s.captured, 8 + 5 + 40 + 1);
        assert.equal(s.published, s.captured);
        assert.equal(Object.values(s.dropped).reduce((a, b) => a + b, 0), 0);
        assert.equal(s.errorsOutsideRequest, 0, "every reportError call found its request");
      });

      // Who is calling: setUser/setTenant/setSession/setAttributes in the handler, with awaits
      // between them, on concurrent requests: each message carries its own request's identity.
      test("identity set in the handler arrives on its own exchange, as tags after the global ones", async () => {
        const ids = Array.from({ length: 12 }, (_, i) => `w${i}${"x".repeat(i % 3)}`);
        const answers = await Promise.all(ids.map((id) => rawRequest(`${srv.url}/whoami/${id}`)));
        assert.deepEqual(answers.map((a) => a.status), ids.map(() => 200));
        const msgs = await topic.pull(ids.length);
        assert.equal(msgs.length, ids.length);
        for (const m of msgs) {
          assertWireMessage(m); // the server's RequestMessage types: identity rides in `tags` only
          const id = m.raw_url.slice("/whoami/".length);
          assert.deepEqual(m.tags, ["env:test", ...identityTags(id)], m.raw_url);
          assertRoute(m, "/whoami/:id", { id });
        }
        assert.deepEqual(await topic.drain(500), []);
        assert.equal(apitoolkit.stats().identityOutsideRequest, 0, "every set found its request");
      });

      test("ignoreRequest skips a request at its start; sample keeps, drops or defers to sampleRate at its end", async () => {
        const seen: SampleInfo[] = [];
        const client = new APIToolkit({
          ...OPTIONS, apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false, sampleRate: 0,
          ignoreRequest: (req) => req.headers["x-probe"] === "kube" || req.url.startsWith("/users/skip"),
          sample: (info) => {
            seen.push(info);
            return info.statusCode === 404 ? false : info.path.startsWith("/users/") ? true : undefined;
          },
        });
        const app = await start(client);
        try {
          const statuses: number[] = [];
          for (const [path, method, body, headers] of [
            ["/users/1", "GET", undefined, { "x-probe": "kube" }], // ignored by a header
            ["/users/skip?x=1"], // ignored by its URL
            ["/users/3?k=v"], // sample: true, over sampleRate 0
            ["/no/such/route"], // sample: false
            ["/echo", "POST", '{"a":1}'], // sample: undefined, so sampleRate 0 drops it
            ["/boom"], // sample: undefined, so sampleRate, which keeps errors
          ] as Array<[string, string?, string?, Record<string, string>?]>) {
            statuses.push((await rawRequest(app.url + path, method, body, headers)).status);
          }
          assert.deepEqual(statuses, [200, 200, 200, 404, 201, 500], "the app answers every request as without the options");
          const msgs = await topic.pull(2);
          assert.deepEqual(msgs.map((m) => m.raw_url).sort(), ["/boom", "/users/3?k=v"]);
          assert.deepEqual(await topic.drain(600), [], "nothing else published");
          assert.equal(await client.flush(3000), true);
          const s = client.stats();
          assert.equal(s.captured, 2);
          assert.equal(s.sampledOut, 2, "the 404 (sample: false) and the 201 (sampleRate 0)");
          assert.deepEqual(seen.map((i) => i.path), ["/users/3", "/no/such/route", "/echo", "/boom"], "asked once per exchange, never for an ignored request");
          const [users, missing, , boom] = seen;
          assert.equal(users!.method, "GET");
          assert.equal(users!.route, differs.router ? "/users/:id" : "");
          assert.equal(users!.statusCode, 200);
          assert.equal(typeof users!.durationMs, "number");
          assert.ok(users!.durationMs >= 0);
          assert.deepEqual(users!.errors, []);
          assert.equal(users!.outgoing, false);
          assert.equal(missing!.route, "", "no route matched");
          assert.equal(boom!.statusCode, 500);
          assert.equal(boom!.errors.length, 1);
          assert.equal(boom!.errors[0]!.message, "payment provider unreachable");
        } finally {
          await app.close();
          await client.close(2000);
        }
      });

      test("an ignoreRequest or sample that throws never reaches the app: captured as if absent, warned once", async () => {
        const warnings: string[] = [];
        const logger: Logger = { info() {}, error() {}, warn: (line) => void warnings.push(line) };
        const client = new APIToolkit({
          ...OPTIONS, apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, logger, monitorOutgoing: false,
          ignoreRequest: () => {
            throw new Error("ignoreRequest broke");
          },
          sample: () => {
            throw new Error("sample broke");
          },
        });
        const app = await start(client);
        try {
          const answers = await Promise.all([rawRequest(`${app.url}/users/5`), rawRequest(`${app.url}/users/6`), rawRequest(`${app.url}/users/7`)]);
          assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
          assert.deepEqual(answers.map((a) => JSON.parse(a.body) as unknown), [{ id: "5", name: "Ada" }, { id: "6", name: "Ada" }, { id: "7", name: "Ada" }]);
          const msgs = await topic.pull(3);
          assert.deepEqual(msgs.map((m) => m.raw_url).sort(), ["/users/5", "/users/6", "/users/7"], "captured and kept, as without the options");
          assert.equal(warnings.filter((w) => w.includes("W_IGNORE_REQUEST_FAILED") && w.includes("ignoreRequest broke")).length, 1, warnings.join("\n"));
          assert.equal(warnings.filter((w) => w.includes("W_SAMPLE_FAILED") && w.includes("sample broke")).length, 1, warnings.join("\n"));
        } finally {
          await app.close();
          await client.close(2000);
        }
      });

      test("enabled: false is a pass-through: same answers, nothing captured, no bootstrap call", async () => {
        const calls = meta.calls.length;
        const client = new APIToolkit({ ...OPTIONS, apiKey: GOOD_KEY, rootURL: meta.url, enabled: false, logger: quietLogger });
        const app = await start(client);
        try {
          const [u, b] = [await rawRequest(`${app.url}/users/9?x=1`), await rawRequest(`${app.url}/boom`)];
          assert.equal(u.status, 200);
          assert.deepEqual(JSON.parse(u.body), { id: "9", name: "Ada" });
          assert.equal(b.status, 500);
          assert.deepEqual(await topic.drain(600), [], "nothing published");
          const s = client.stats();
          assert.equal(s.state, "disabled");
          assert.equal(s.captured, 0);
          assert.equal(meta.calls.length, calls, "no client_metadata call");
        } finally {
          await app.close();
          await client.close(2000);
        }
      });
    });
  }
});

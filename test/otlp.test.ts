// OpenTelemetry delivery end to end: Express and Fastify apps with `delivery: "otlp"`, pointed at a
// real OTLP receiver (OTLP/HTTP and OTLP/gRPC) that decodes every request with the official
// opentelemetry-proto definitions. One span per request, the attributes APIToolkit's server reads
// and OpenTelemetry's HTTP conventions, redacted exactly as the Pub/Sub messages are; no
// client_metadata call; outgoing calls as child spans.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import express from "express5";
import { APIToolkit } from "../src/index.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { type StartApp, startExpress5, startFastify5 } from "./helpers/conformance-apps.js";
import { startOtlpReceiver, type DecodedSpan, type OtlpReceiver } from "./helpers/otlp-receiver.js";
import { startMetadataServer, type MetadataServer } from "./helpers/metadata.js";
import { listen, rawRequest } from "./helpers/server.js";
import { quietLogger } from "./helpers/logger.js";

const KEY = "otlp-project-key-123";
const R = "[CLIENT_REDACTED]";
const OPTIONS = {
  redactHeaders: ["X-Api-Key"],
  redactRequestBody: ["$.user.password", "$..cvv"],
  redactResponseBody: ["$.token", "$.echo.user.password"],
  serviceVersion: "1.4.0",
  tags: ["env:test"],
};
const SECRET_HEADERS = { authorization: "Bearer user-secret", "x-api-key": "client-secret", cookie: "sid=abc", referer: "https://ref.example/p", "user-agent": "otlp-test/1.0" };
const ECHO = { user: { name: "ann", password: "hunter2" }, card: { number: "4111", cvv: "123" }, token: "client-token" };
const SECRETS = ["hunter2", "user-secret", "client-secret", "server-secret", "sid=abc", "tok-SECRET-123"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const b64json = (v: unknown) => JSON.parse(Buffer.from(String(v), "base64").toString("utf8")) as unknown;
const text = (v: unknown) => Buffer.from(String(v), "base64").toString("utf8");

/** The one span whose http.target is `target` (and method, when given). */
function spanFor(spans: DecodedSpan[], target: string, method?: string): DecodedSpan {
  const found = spans.filter((s) => s.attributes["http.target"] === target && (method === undefined || s.attributes["http.request.method"] === method));
  assert.equal(found.length, 1, `exactly one span for ${method ?? ""} ${target}, got ${found.length}`);
  return found[0]!;
}

/** Everything a span carries, bodies decoded, as one string (to look for secrets in). */
function everything(spans: DecodedSpan[]): string {
  return JSON.stringify(spans.map((s) => ({
    ...s,
    startTimeUnixNano: String(s.startTimeUnixNano),
    endTimeUnixNano: String(s.endTimeUnixNano),
    events: s.events.map((e) => ({ ...e, timeUnixNano: String(e.timeUnixNano) })),
    requestBody: text(s.attributes["http.request.body"]),
    responseBody: text(s.attributes["http.response.body"]),
  })));
}

const apps: Array<[name: string, start: StartApp, sdkType: string]> = [
  ["Express 5", startExpress5, "JsExpress"],
  ["Fastify 5", startFastify5, "JsFastify"],
];

describe("delivery: otlp, one span per request", { concurrency: true }, () => {
  for (const protocol of ["http/protobuf", "grpc"] as const) {
    for (const [name, start, sdkType] of apps) {
      describe(`${name} over ${protocol}`, { concurrency: 1 }, () => {
        let receiver: OtlpReceiver;
        let meta: MetadataServer;
        let apitoolkit: APIToolkit;
        let srv: { url: string; close(): Promise<void> };

        before(async () => {
          receiver = await startOtlpReceiver(protocol);
          meta = await startMetadataServer("unused");
          apitoolkit = new APIToolkit({
            ...OPTIONS,
            apiKey: KEY,
            rootURL: meta.url,
            delivery: "otlp",
            otlp: { endpoint: receiver.url, protocol, headers: { "x-tenant": "a" } },
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
          await meta?.close();
        });

        test("every request becomes one decodable span with the server's attributes, redacted", async () => {
          const startedMs = Date.now();
          const answers = await Promise.all([
            rawRequest(`${srv.url}/users/42?tag=x&tag=y`, "GET", undefined, SECRET_HEADERS),
            rawRequest(`${srv.url}/echo`, "POST", JSON.stringify(ECHO)),
            rawRequest(`${srv.url}/boom`),
            rawRequest(`${srv.url}/no/such/route`),
          ]);
          const endedMs = Date.now();
          assert.deepEqual(answers.map((a) => a.status), [200, 201, 500, 404]);
          assert.ok(await apitoolkit.flush(5000), "flushed");
          const spans = await receiver.waitForSpans(4);
          assert.equal(spans.length, 4, "one span per request, nothing else");
          assert.equal(meta.calls.length, 0, "no client_metadata call in OTLP mode");
          for (const e of receiver.exports) {
            assert.equal(e.headers["x-tenant"], "a", "the configured headers go with every export");
            if (protocol === "http/protobuf") {
              assert.equal(e.path, "/v1/traces");
              assert.equal(e.headers["content-type"], "application/x-protobuf");
            }
          }

          for (const s of spans) {
            assert.equal(s.name, "monoscope.http");
            assert.equal(s.kind, 2, "SERVER");
            assert.equal(s.resource["at-project-key"], KEY, "the key is the resource attribute at-project-key");
            assert.equal(s.resource["service.version"], "1.4.0");
            assert.equal(s.attributes["monoscope.sdk_type"], sdkType, "the name the server reads first");
            assert.match(String(s.attributes["apitoolkit.msg_id"]), UUID);
            assert.deepEqual(s.attributes["monoscope.tags"], ["env:test"], "the name the server reads");
            for (const dropped of ["apitoolkit.sdk_type", "apitoolkit.tags", "apitoolkit.errors", "apitoolkit.service_version", "apitoolkit.parent_id"]) {
              assert.equal(dropped in s.attributes, false, `${dropped}: not read by the server, not sent`);
            }
            assert.equal(s.attributes["server.address"], srv.url.slice("http://".length), "as Pub/Sub's host: with the port");
            assert.equal(s.attributes["server.port"], Number(new URL(srv.url).port));
            assert.equal(s.attributes["network.protocol.version"], "1.1");
            // No OpenTelemetry SDK in this process: the trace is the request's own, by its msg_id.
            assert.equal(s.traceId, String(s.attributes["apitoolkit.msg_id"]).replace(/-/g, ""));
            assert.equal(s.parentSpanId, "");
            assert.match(s.spanId, /^[0-9a-f]{16}$/);
            const startMs = Number(s.startTimeUnixNano / 1_000_000n);
            assert.ok(startMs >= startedMs - 5 && startMs <= endedMs, "starts when the request started");
            assert.ok(s.endTimeUnixNano > s.startTimeUnixNano, "ends after it started");
            assert.ok(Number(s.endTimeUnixNano / 1_000_000n) <= endedMs + 5, "ends when the response finished");
            assert.ok(Array.isArray(JSON.parse(String(s.attributes["monoscope.errors"]))));
            assert.equal(s.attributes["url.full"], srv.url + s.attributes["http.target"], "scheme, host and the (redacted) path and query");
          }
          assert.equal(new Set(spans.map((s) => s.spanId)).size, 4, "span ids are distinct");
          const all = everything(spans);
          for (const secret of SECRETS) assert.ok(!all.includes(secret), `secret ${secret} must not be in any attribute`);

          const user = spanFor(spans, "/users/42?tag=x&tag=y");
          assert.equal(user.attributes["http.request.method"], "GET");
          assert.equal(user.attributes["http.response.status_code"], 200);
          assert.equal(user.attributes["http.route"], "/users/:id");
          assert.equal(user.attributes["url.path"], "/users/42");
          assert.equal(user.attributes["url.query"], "tag=x&tag=y");
          assert.equal(user.attributes["user_agent.original"], "otlp-test/1.0");
          assert.deepEqual(JSON.parse(String(user.attributes["http.request.query_params"])), { tag: ["x", "y"] });
          assert.deepEqual(JSON.parse(String(user.attributes["http.request.path_params"])), { id: "42" });
          assert.deepEqual(user.attributes["http.request.header.authorization"], [R], "redacted by default");
          assert.deepEqual(user.attributes["http.request.header.cookie"], [R], "redacted by default");
          assert.deepEqual(user.attributes["http.request.header.x-api-key"], [R], "redacted by name");
          assert.deepEqual(user.attributes["http.response.header.x-api-key"], [R], "response headers too");
          assert.deepEqual(user.attributes["http.request.header.referer"], ["https://ref.example/p"]);
          assert.match(String((user.attributes["http.response.header.content-type"] as string[])[0]), /^application\/json/);
          assert.equal(user.attributes["http.request.body"], "");
          assert.deepEqual(b64json(user.attributes["http.response.body"]), { id: "42", name: "Ada" });
          assert.equal(user.attributes["monoscope.errors"], "[]");
          assert.equal(user.status.code, 0, "UNSET");
          assert.deepEqual(user.events, []);

          const echo = spanFor(spans, "/echo");
          assert.equal(echo.attributes["http.request.method"], "POST");
          assert.equal(echo.attributes["http.response.status_code"], 201);
          assert.equal("url.query" in echo.attributes, false);
          assert.deepEqual(b64json(echo.attributes["http.request.body"]), { user: { name: "ann", password: R }, card: { number: "4111", cvv: R }, token: "client-token" });
          assert.deepEqual(b64json(echo.attributes["http.response.body"]), { token: R, echo: { user: { name: "ann", password: R }, card: { number: "4111", cvv: "123" }, token: "client-token" } });

          const boom = spanFor(spans, "/boom");
          assert.equal(boom.attributes["http.response.status_code"], 500);
          assert.equal(boom.status.code, 2, "ERROR on a 5xx with a recorded error");
          assert.equal(boom.events.length, 2, "one exception event per error, and one for its root cause");
          const ev = boom.events[0]!;
          assert.equal(ev.name, "exception");
          assert.equal(ev.attributes["exception.type"], "Error");
          assert.equal(ev.attributes["exception.message"], "payment provider unreachable");
          assert.match(String(ev.attributes["exception.stacktrace"]), /payment provider unreachable/);
          assert.ok(ev.timeUnixNano >= boom.startTimeUnixNano - 1_000_000n && ev.timeUnixNano <= boom.endTimeUnixNano + 1_000_000n);
          const errors = JSON.parse(String(boom.attributes["monoscope.errors"])) as Array<Record<string, string>>;
          assert.equal(errors.length, 1);
          assert.deepEqual(Object.keys(errors[0]!).sort(), ["error_type", "message", "root_error_message", "root_error_type", "stack_trace", "when"], "the wire format's error objects");
          assert.equal(errors[0]!.root_error_type, "TypeError");

          const missing = spanFor(spans, "/no/such/route");
          assert.equal(missing.attributes["http.response.status_code"], 404);
          assert.equal(missing.attributes["http.route"], "", "the router matched nothing");
          assert.equal(missing.status.code, 0, "a 4xx is not an error of the server");

          const s = apitoolkit.stats();
          assert.equal(s.state, "ready");
          assert.equal(s.published, 4);
          assert.equal(Object.values(s.dropped).reduce((a, b) => a + b, 0), 0, "nothing dropped");
        });
      });
    }
  }
});

describe("outgoing calls", () => {
  let receiver: OtlpReceiver;
  let upstream: Awaited<ReturnType<typeof listen>>;
  let apitoolkit: APIToolkit;
  let app: Awaited<ReturnType<typeof listen>>;

  before(async () => {
    receiver = await startOtlpReceiver("http/protobuf");
    upstream = await listen(http.createServer((_req, res) => res.setHeader("content-type", "application/json").end('{"token":"up-SECRET"}')));
    apitoolkit = new APIToolkit({
      apiKey: KEY,
      delivery: "otlp",
      otlp: { endpoint: receiver.url },
      publishIntervalMs: 20,
      logger: quietLogger,
      redactResponseBody: ["$.token"],
    });
    const e = express();
    e.use(expressMiddleware(apitoolkit));
    e.get("/proxy/:id", async (_req, res) => {
      const r = await fetch(`${upstream.url}/things/1?q=2`, { headers: { authorization: "Bearer out-SECRET" } });
      res.json(await r.json());
    });
    app = await listen(http.createServer(e));
  });
  after(async () => {
    await app?.close();
    await apitoolkit?.close(3000);
    await upstream?.close();
    await receiver?.close();
  });

  test("an outgoing call is a CLIENT span, child of the incoming request's span in the same trace", async () => {
    const res = await rawRequest(`${app.url}/proxy/7`);
    assert.equal(res.status, 200);
    await apitoolkit.flush(5000);
    // The test's own request to the app is an outgoing call of this process too (no parent).
    const spans = await receiver.waitForSpans(3);
    const server = spans.find((s) => s.kind === 2)!;
    const client = spans.find((s) => s.kind === 3 && s.parentSpanId !== "")!;
    assert.ok(server && client, "a SERVER span and a CLIENT span with a parent");
    assert.equal(server.attributes["http.route"], "/proxy/:id");
    assert.equal(client.attributes["monoscope.sdk_type"], "JsOutgoing");
    assert.equal(client.traceId, server.traceId, "same trace");
    assert.equal(client.parentSpanId, server.spanId, "child of the incoming request's span");
    assert.equal(client.attributes["http.target"], "/things/1?q=2");
    assert.equal(client.attributes["server.address"], upstream.url.slice("http://".length));
    assert.equal(client.attributes["url.full"], `${upstream.url}/things/1?q=2`);
    assert.deepEqual(client.attributes["http.request.header.authorization"], [R]);
    assert.deepEqual(b64json(client.attributes["http.response.body"]), { token: R });
    assert.ok(client.startTimeUnixNano >= server.startTimeUnixNano && client.endTimeUnixNano <= server.endTimeUnixNano, "inside the incoming request");
    assert.ok(!everything(spans).includes("SECRET"));
    const unparented = spans.filter((s) => s.kind === 3 && s.parentSpanId === "");
    assert.equal(unparented.length, 1, "the test's own call: a root CLIENT span");
    assert.equal(unparented[0]!.parentSpanId, "");
    assert.equal(receiver.exports.every((e) => e.spans.every((s) => s.attributes["url.path"] !== "/v1/traces")), true, "the SDK's own exports are never captured");
  });
});

describe("span name, close", () => {
  test("otlp.spanName names every span; close() flushes and releases the exporter", async () => {
    const receiver = await startOtlpReceiver("grpc");
    const apitoolkit = new APIToolkit({ apiKey: KEY, delivery: "otlp", otlp: { endpoint: receiver.url, protocol: "grpc", spanName: "http.exchange" }, publishIntervalMs: 5_000, logger: quietLogger, monitorOutgoing: false });
    const srv = await startExpress5(apitoolkit);
    try {
      await rawRequest(`${srv.url}/users/1`);
      while (apitoolkit.stats().captured < 1) await new Promise((r) => setTimeout(r, 5)); // handed over when the response finished
      await apitoolkit.close(3000); // the publish interval has not passed: close() sends it
      const spans = receiver.spans();
      assert.equal(spans.length, 1);
      assert.equal(spans[0]!.name, "http.exchange");
      const s = apitoolkit.stats();
      assert.equal(s.state, "closed");
      assert.equal(s.published, 1);
      await rawRequest(`${srv.url}/users/2`);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(receiver.exports.length, 1, "nothing is captured after close()");
    } finally {
      await srv.close();
      await receiver.close();
    }
  });
});

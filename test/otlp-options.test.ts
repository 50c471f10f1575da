// The `delivery` and `otlp` options and the standard OTEL_EXPORTER_OTLP_* environment variables:
// validated once at construction, options over environment over APIToolkit's collector; and the
// small pure parts of OTLP delivery (ids, traceparent, Retry-After, RetryInfo).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { APIToolkit, APIToolkitConfigError, type APIToolkitOptions } from "../src/index.js";
import { resolveOptions } from "../src/config/options.js";
import { retryDelayMs } from "../src/delivery/transport.js";
import { retryInfoDelayMs, grpcStatusError, httpStatusError } from "../src/transport/otlp/errors.js";
import { parseRetryAfter } from "../src/transport/retry-after.js";
import { parseTraceparent, spanIdOf, spanOf, fixedResource, traceIdOf } from "../src/transport/otlp/span.js";
import { startExpress5 } from "./helpers/conformance-apps.js";
import { startHttpReceiver, retryInfoStatus } from "./helpers/otlp-receiver.js";
import { rawRequest } from "./helpers/server.js";
import { quietLogger } from "./helpers/logger.js";

const otlpOf = (o: APIToolkitOptions, env: NodeJS.ProcessEnv = {}) => resolveOptions({ apiKey: "k", delivery: "otlp", logger: quietLogger, ...o }, env).otlp!;
const fails = (o: Record<string, unknown>, code: string, message: RegExp, env: NodeJS.ProcessEnv = {}) =>
  assert.throws(() => resolveOptions({ apiKey: "k", logger: quietLogger, ...o } as APIToolkitOptions, env), (e: unknown) => e instanceof APIToolkitConfigError && e.code === code && message.test(e.message));

describe("options", () => {
  test("delivery defaults to pubsub, with no OTLP config and no trace context capture", () => {
    const c = resolveOptions({ apiKey: "k" }, {});
    assert.equal(c.delivery, "pubsub");
    assert.equal(c.otlp, undefined);
    assert.equal(c.traceContext, false);
  });

  test("otlp defaults: OTLP/HTTP to APIToolkit's collector, span monoscope.http", () => {
    const c = resolveOptions({ apiKey: "k", delivery: "otlp" }, {});
    assert.equal(c.traceContext, true);
    assert.deepEqual(c.otlp, {
      protocol: "http/protobuf",
      url: "http://otelcol.apitoolkit.io:4318/v1/traces",
      headers: {},
      spanName: "monoscope.http",
      resource: {},
      customEndpoint: false,
    });
    assert.equal(otlpOf({ otlp: { protocol: "grpc" } }).url, "http://otelcol.apitoolkit.io:4317");
  });

  test("otlp.endpoint: http/protobuf POSTs {endpoint}/v1/traces, grpc dials host:port", () => {
    assert.equal(otlpOf({ otlp: { endpoint: "http://127.0.0.1:4318" } }).url, "http://127.0.0.1:4318/v1/traces");
    assert.equal(otlpOf({ otlp: { endpoint: "https://c.example/otlp/" } }).url, "https://c.example/otlp/v1/traces");
    assert.equal(otlpOf({ otlp: { endpoint: "http://c:4318/v1/traces" } }).url, "http://c:4318/v1/traces", "not appended twice");
    assert.equal(otlpOf({ otlp: { endpoint: "https://c.example:4317/ignored", protocol: "grpc" } }).url, "https://c.example:4317");
    assert.equal(otlpOf({ otlp: { endpoint: "collector:4317", protocol: "grpc" } }).url, "http://collector:4317", "host:port alone is plain http");
    assert.equal(otlpOf({ otlp: { endpoint: "http://c:1" } }).customEndpoint, true);
  });

  test("the standard environment variables apply when the options do not say", () => {
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318" }).url, "http://env:4318/v1/traces");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9/custom" }).url, "http://traces:9/custom", "the traces one, as the full URL");
    assert.equal(otlpOf({ otlp: { endpoint: "http://opt:1" } }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9/custom" }).url, "http://opt:1/v1/traces", "options first");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }).protocol, "grpc");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" }).protocol, "http/protobuf");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).protocol, "http/protobuf", "the collector takes protobuf only");
    assert.equal(otlpOf({ otlp: { protocol: "http/protobuf" } }, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }).protocol, "http/protobuf");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4317" }).url, "http://env:4317");
    assert.deepEqual(otlpOf({}, { OTEL_EXPORTER_OTLP_HEADERS: "a=1, B = x%20y,broken,=v" }).headers, { a: "1", b: "x y" });
    assert.deepEqual(otlpOf({}, { OTEL_EXPORTER_OTLP_HEADERS: "a=1", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "t=2" }).headers, { t: "2" });
    assert.deepEqual(otlpOf({ otlp: { headers: { "X-Tenant": "a" } } }, { OTEL_EXPORTER_OTLP_HEADERS: "a=1" }).headers, { "x-tenant": "a" }, "options replace the environment's");
    assert.deepEqual(otlpOf({}, { OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,service.name=a", OTEL_SERVICE_NAME: "checkout" }).resource, { "deployment.environment": "prod", "service.name": "checkout" });
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318" }).customEndpoint, true);
  });

  test("invalid values fail at construction, naming the option", () => {
    fails({ delivery: "kafka" }, "ERR_INVALID_OPTION", /delivery must be "pubsub" or "otlp"/);
    fails({ delivery: "otlp", otlp: { protocol: "http/json" } }, "ERR_INVALID_OPTION", /otlp\.protocol/);
    fails({ delivery: "otlp", otlp: { endpoint: "ftp://c:21" } }, "ERR_INVALID_URL", /otlp\.endpoint/);
    fails({ delivery: "otlp", otlp: { endpoint: 4318 } }, "ERR_INVALID_OPTION", /otlp\.endpoint/);
    fails({ delivery: "otlp", otlp: { endpiont: "http://c" } }, "ERR_INVALID_OPTION", /unknown option "otlp\.endpiont"/);
    fails({ delivery: "otlp", otlp: { headers: { "bad name": "v" } } }, "ERR_INVALID_OPTION", /otlp\.headers/);
    fails({ delivery: "otlp", otlp: { headers: { a: "x\r\ny: z" } } }, "ERR_INVALID_OPTION", /otlp\.headers/);
    fails({ delivery: "otlp", otlp: { headers: { a: 1 } } }, "ERR_INVALID_OPTION", /otlp\.headers/);
    fails({ delivery: "otlp", otlp: { spanName: " " } }, "ERR_INVALID_OPTION", /otlp\.spanName/);
    fails({ delivery: "otlp", otlp: "http://c" }, "ERR_INVALID_OPTION", /otlp must be an object/);
    fails({ delivery: "otlp", transport: () => ({ send: async () => {}, close: async () => {} }) }, "ERR_INVALID_OPTION", /cannot be combined/);
    fails({ delivery: "otlp" }, "ERR_INVALID_URL", /OTEL_EXPORTER_OTLP_ENDPOINT/, { OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://x" });
    fails({ delivery: "otlp" }, "ERR_INVALID_OPTION", /OTEL_EXPORTER_OTLP_PROTOCOL/, { OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon" });
    fails({ otlp: { protocol: "udp" } }, "ERR_INVALID_OPTION", /otlp\.protocol/); // validated even while delivery is pubsub
  });

  test("with APIToolkit's collector an API key is needed; with your own collector it is not", async () => {
    const warnings: string[] = [];
    const noKey = new APIToolkit({ delivery: "otlp", logger: { ...quietLogger, warn: (l) => void warnings.push(l) } });
    assert.equal(noKey.stats().state, "disabled");
    assert.ok(warnings.some((w) => w.includes("W_NO_API_KEY")));
    await noKey.close(100);

    const receiver = await startHttpReceiver();
    const own = new APIToolkit({ delivery: "otlp", otlp: { endpoint: receiver.url }, publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false });
    const srv = await startExpress5(own);
    try {
      await rawRequest(`${srv.url}/users/5`);
      const [span] = await receiver.waitForSpans(1);
      assert.equal("at-project-key" in span!.resource, false, "no key, no at-project-key");
      assert.equal(span!.attributes["url.path"], "/users/5");
    } finally {
      await srv.close();
      await own.close(2000);
      await receiver.close();
    }
  });
});

describe("the environment, end to end", () => {
  test("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full URL), _HEADERS and OTEL_SERVICE_NAME reach the collector", async () => {
    const receiver = await startHttpReceiver({ tracesPath: "/custom/traces" });
    const saved = { ...process.env };
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1", // the traces-specific one wins
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/custom/traces`,
      OTEL_EXPORTER_OTLP_HEADERS: "x-scope=team%20a",
      OTEL_SERVICE_NAME: "checkout",
    });
    let apitoolkit: APIToolkit;
    try {
      apitoolkit = new APIToolkit({ apiKey: "env-key", delivery: "otlp", publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false });
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    const srv = await startExpress5(apitoolkit);
    try {
      await rawRequest(`${srv.url}/users/3`);
      const [span] = await receiver.waitForSpans(1);
      assert.equal(receiver.exports[0]!.path, "/custom/traces");
      assert.equal(receiver.exports[0]!.headers["x-scope"], "team a");
      assert.equal(span!.resource["service.name"], "checkout");
      assert.equal(span!.resource["at-project-key"], "env-key");
    } finally {
      await srv.close();
      await apitoolkit.close(2000);
      await receiver.close();
    }
  });
});

describe("ids, traceparent, retry hints", () => {
  const resource = fixedResource({});
  const template = { spanName: "monoscope.http", resource, scope: { name: "t" } };
  const wire = {
    project_id: "00000000-0000-0000-0000-000000000000", msg_id: "8d2f1a8e-6c1b-4a53-9e55-2f3c1c0b9a11", timestamp: "2026-07-16T10:00:00.123Z",
    duration: 1_900_000_000, sdk_type: "JsExpress" as const, method: "GET", host: "[::1]:8080", raw_url: "/a?b=1#frag", proto_major: 2, proto_minor: 0,
    status_code: 200, path_params: {}, query_params: { b: ["1"] }, referer: "", request_headers: {}, response_headers: {}, errors: [], request_body: "", response_body: "",
  };

  test("times: start = timestamp, end = start + duration (nanoseconds carried into seconds)", () => {
    const s = spanOf(wire, template);
    assert.deepEqual(s.startTime, [1784196000, 123_000_000]);
    assert.deepEqual(s.endTime, [1784196002, 23_000_000]);
    assert.deepEqual(s.duration, [1, 900_000_000]);
    assert.equal(s.attributes["server.address"], "[::1]:8080", "as the Pub/Sub host field, port included");
    assert.equal(s.attributes["server.port"], 8080);
    assert.equal(s.attributes["url.query"], "b=1");
    assert.equal(s.attributes["network.protocol.version"], "2");
  });

  test("ids derive from msg_id and parent_id; a valid traceparent wins the trace and the parent", () => {
    const incoming = spanOf(wire, template);
    assert.equal(incoming.spanContext().traceId, "8d2f1a8e6c1b4a539e552f3c1c0b9a11");
    assert.equal(incoming.spanContext().spanId, spanIdOf(wire.msg_id));
    assert.equal(incoming.parentSpanContext, undefined);
    const child = spanOf({ ...wire, msg_id: "11111111-2222-4333-8444-555555555555", parent_id: wire.msg_id, sdk_type: "JsOutgoing" }, template);
    assert.equal(child.spanContext().traceId, incoming.spanContext().traceId);
    assert.equal(child.parentSpanContext!.spanId, incoming.spanContext().spanId);
    assert.equal(child.kind, 2, "CLIENT");
    const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const joined = spanOf({ ...wire, traceparent: tp }, template);
    assert.equal(joined.spanContext().traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(joined.parentSpanContext!.spanId, "00f067aa0ba902b7");
    for (const bad of ["00-00000000000000000000000000000000-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf9-00f0-01", "x"]) {
      assert.equal(parseTraceparent(bad), undefined, bad);
    }
    assert.equal(traceIdOf("not-a-uuid").length, 32);
    assert.match(spanIdOf("x"), /^[0-9a-f]{16}$/);
  });

  test("status: ERROR on 5xx, on an outgoing call without a response, or with errors", () => {
    assert.equal(spanOf({ ...wire, status_code: 503 }, template).status.code, 2);
    assert.equal(spanOf({ ...wire, status_code: 499 }, template).status.code, 0);
    assert.equal(spanOf({ ...wire, status_code: 0, sdk_type: "JsOutgoing" }, template).status.code, 2);
    const err = { when: "2026-07-16T10:00:01.000Z", error_type: "RangeError", root_error_type: "RangeError", root_error_message: "m", message: "m", stack_trace: "s" };
    const s = spanOf({ ...wire, errors: [err] }, template);
    assert.deepEqual(s.status, { code: 2, message: "RangeError: m" });
    assert.deepEqual(s.events[0]!.time, [1784196001, 0]);
  });

  test("Retry-After (seconds or a date), RetryInfo, and the pause Delivery takes", () => {
    assert.equal(parseRetryAfter("3"), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfter("soon"), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(retryInfoDelayMs(retryInfoStatus(8, "slow down", 2500)), 2500);
    assert.equal(retryInfoDelayMs(Buffer.from([0xff, 0xff])), undefined);
    assert.equal(httpStatusError(503, "", "2").retryAfterMs, 2000);
    assert.equal(httpStatusError(503, "", undefined).permanent, false);
    assert.equal(httpStatusError(400, "bad", "2").permanent, true);
    assert.equal(grpcStatusError(8, "Received message larger than max (5 vs. 4)", undefined).permanent, true, "too large: retrying cannot help");
    assert.equal(grpcStatusError(14, "", retryInfoStatus(14, "", 1200)).retryAfterMs, 1200);
    for (let i = 0; i < 50; i++) {
      const d = retryDelayMs(undefined, 0);
      assert.ok(d >= 125 && d <= 250, "backoff alone");
      assert.equal(retryDelayMs({ retryAfterMs: 5000 }, 0), 5000, "the server's hint, when longer");
      assert.equal(retryDelayMs({ retryAfterMs: 3_600_000 }, 0), 300_000, "capped at 5 minutes");
    }
  });
});

// The `delivery` and `otlp` options and the standard OTEL_EXPORTER_OTLP_* environment variables:
// validated once at construction, options over environment over APIToolkit's collector; and the
// small pure parts of OTLP delivery (ids, traceparent, Retry-After, RetryInfo).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createOtlpTransport } from "../src/transport/otlp/otlp.js";
import { APIToolkit, APIToolkitConfigError, type APIToolkitOptions } from "../src/index.js";
import { resolveOptions } from "../src/config/options.js";
import { retryDelayMs } from "../src/delivery/transport.js";
import { retryInfoDelayMs, grpcStatusError, httpStatusError } from "../src/transport/otlp/errors.js";
import { parseRetryAfter } from "../src/transport/retry-after.js";
import { parseTraceparent, spanIdOf, spanOf, fixedResource, traceIdOf } from "../src/transport/otlp/span.js";
import { startExpress5 } from "./helpers/conformance-apps.js";
import { startHttpReceiver, startGrpcReceiver, retryInfoStatus } from "./helpers/otlp-receiver.js";
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
      timeoutMs: 10_000,
      compression: "none",
      tls: {},
      warnings: [],
    });
    assert.equal(otlpOf({ otlp: { protocol: "grpc" } }).url, "http://otelcol.apitoolkit.io:4317");
  });

  test("otlp.endpoint: http/protobuf POSTs {endpoint}/v1/traces, grpc dials host:port", () => {
    assert.equal(otlpOf({ otlp: { endpoint: "http://127.0.0.1:4318" } }).url, "http://127.0.0.1:4318/v1/traces");
    assert.equal(otlpOf({ otlp: { endpoint: "https://c.example/otlp/" } }).url, "https://c.example/otlp/v1/traces");
    assert.equal(otlpOf({ otlp: { endpoint: "http://c:4318/v1/traces" } }).url, "http://c:4318/v1/traces", "not appended twice");
    assert.equal(otlpOf({ otlp: { endpoint: "https://c.example:4317/ignored", protocol: "grpc" } }).url, "https://c.example:4317");
    assert.equal(otlpOf({ otlp: { endpoint: "collector:4317", protocol: "grpc" } }).url, "https://collector:4317", "host:port alone is TLS (the specification), unless insecure");
    assert.equal(otlpOf({ otlp: { endpoint: "collector:4317", protocol: "grpc", insecure: true } }).url, "http://collector:4317");
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
    fails({ delivery: "otlp", otlp: { timeoutMs: 0 } }, "ERR_INVALID_OPTION", /otlp\.timeoutMs/);
    fails({ delivery: "otlp", otlp: { compression: "br" } }, "ERR_INVALID_OPTION", /otlp\.compression/);
    fails({ delivery: "otlp", otlp: { insecure: "yes" } }, "ERR_INVALID_OPTION", /otlp\.insecure/);
    fails({ delivery: "otlp", otlp: { certificate: "/nonexistent/ca.pem" } }, "ERR_INVALID_OPTION", /otlp\.certificate: cannot read/);
    fails({ delivery: "otlp", otlp: { certificate: 7 } }, "ERR_INVALID_OPTION", /otlp\.certificate/);
    fails({ delivery: "otlp", otlp: { clientKey: "-----BEGIN PRIVATE KEY-----" } }, "ERR_INVALID_OPTION", /go together/);
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

// The OTLP exporter specification's variables (opentelemetry-specification, protocol/exporter.md),
// one by one: each read from OTEL_EXPORTER_OTLP_TRACES_* over OTEL_EXPORTER_OTLP_*, the option over
// both, a value that is not valid ignored with one warning (never a throw), and what each one does
// checked on a real receiver on loopback (TLS ones with certificates made here by openssl).
describe("OTLP exporter variables, one by one", () => {
  let dir: string;
  /** The receiver's certificate (CN and SAN 127.0.0.1) and a client certificate (CN apitoolkit-client), each self-signed. */
  let server: { key: string; cert: string; keyPath: string; certPath: string };
  let client: { key: string; cert: string; keyPath: string; certPath: string };

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "apitoolkit-otlp-tls-"));
    const make = (name: string, cn: string, san: string[]) => {
      try {
        execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path.join(dir, `${name}-key.pem`), "-out", path.join(dir, `${name}.pem`),
          "-days", "2", "-subj", `/CN=${cn}`, ...san], { stdio: "pipe" });
      } catch (err) {
        throw new Error(`these tests need openssl (to make the receiver's certificates): ${(err as Error).message}`);
      }
      return { key: readFileSync(path.join(dir, `${name}-key.pem`), "utf8"), cert: readFileSync(path.join(dir, `${name}.pem`), "utf8"), keyPath: path.join(dir, `${name}-key.pem`), certPath: path.join(dir, `${name}.pem`) };
    };
    server = make("server", "127.0.0.1", ["-addext", "subjectAltName=IP:127.0.0.1"]);
    client = make("client", "apitoolkit-client", []);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const message = (extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({
    project_id: "00000000-0000-0000-0000-000000000000", msg_id: randomUUID(), timestamp: new Date().toISOString(), duration: 1_000_000,
    sdk_type: "JsExpress", method: "GET", host: "127.0.0.1:1", raw_url: "/spec", url_path: "/spec", proto_major: 1, proto_minor: 1, status_code: 200,
    path_params: {}, query_params: {}, referer: "", request_headers: {}, response_headers: {}, errors: [], request_body: "", response_body: "", ...extra,
  }));
  /** Export one span with what `options` and `env` resolve to; resolves with the error, if any. */
  async function exportOne(options: APIToolkitOptions, env: NodeJS.ProcessEnv, extra?: Record<string, unknown>): Promise<Error | undefined> {
    const transport = await createOtlpTransport({ otlp: otlpOf(options, env), apiKey: "k", serviceVersion: undefined });
    try {
      await transport.send([message(extra)]);
      return undefined;
    } catch (err) {
      return err as Error;
    } finally {
      await transport.close();
    }
  }
  const warningOf = (env: NodeJS.ProcessEnv, options: APIToolkitOptions = {}) => otlpOf(options, env).warnings.join("; ");

  test("ENDPOINT / TRACES_ENDPOINT: traces one as the full URL, the generic one + /v1/traces; not a URL: warned, the default", () => {
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:1/x", OTEL_EXPORTER_OTLP_ENDPOINT: "http://g:2" }).url, "http://t:1/x");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://g:2/base" }).url, "http://g:2/base/v1/traces");
    assert.equal(otlpOf({ otlp: { endpoint: "http://o:3" } }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:1/x" }).url, "http://o:3/v1/traces");
    const bad = otlpOf({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "ftp://x", OTEL_EXPORTER_OTLP_ENDPOINT: "http://g:2" });
    assert.equal(bad.url, "http://g:2/v1/traces", "an unusable traces endpoint falls back to the generic one");
    assert.match(bad.warnings.join(), /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="ftp:\/\/x" is not an http\(s\) URL/);
    const none = otlpOf({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "::" });
    assert.equal(none.url, "http://otelcol.apitoolkit.io:4318/v1/traces");
    assert.equal(none.customEndpoint, false);
  });

  test("HEADERS / TRACES_HEADERS: percent-decoded, the traces one replaces the generic one, bad entries warned and left out", async () => {
    assert.deepEqual(otlpOf({}, { OTEL_EXPORTER_OTLP_TRACES_HEADERS: "a=x%2Cy%3Dz", OTEL_EXPORTER_OTLP_HEADERS: "b=1" }).headers, { a: "x,y=z" });
    const bad = otlpOf({}, { OTEL_EXPORTER_OTLP_HEADERS: "ok=1,broken,bad%zz=2,sp ace=3" });
    assert.deepEqual(bad.headers, { ok: "1" });
    assert.equal(bad.warnings.length, 3);
    const receiver = await startHttpReceiver();
    try {
      assert.equal(await exportOne({}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-tenant=team%20a" }), undefined);
      assert.equal(receiver.exports[0]!.headers["x-tenant"], "team a");
    } finally {
      await receiver.close();
    }
  });

  test("TIMEOUT / TRACES_TIMEOUT: milliseconds of one export; otlp.timeoutMs and publishTimeoutMs win; not a number: warned, 10000", async () => {
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_TIMEOUT: "2500" }).timeoutMs, 2500);
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_TIMEOUT: "2500", OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "700" }).timeoutMs, 700);
    assert.equal(otlpOf({ publishTimeoutMs: 3000 }, { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "700" }).timeoutMs, 3000, "an option beats the environment");
    assert.equal(otlpOf({ publishTimeoutMs: 3000, otlp: { timeoutMs: 400 } }, {}).timeoutMs, 400);
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_TIMEOUT: "10s" }).timeoutMs, 10_000);
    assert.match(warningOf({ OTEL_EXPORTER_OTLP_TIMEOUT: "10s" }), /OTEL_EXPORTER_OTLP_TIMEOUT="10s"/);
    // A collector that never answers: the export fails with the timeout the environment gave.
    const silent = http.createServer(() => { /* never answers */ });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const err = await exportOne({}, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "300" });
      assert.match(String(err?.message), /timed out after 300 ms/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  test("COMPRESSION / TRACES_COMPRESSION: gzip over OTLP/HTTP (Content-Encoding) and gRPC (grpc-encoding), or none (the default); anything else: warned, none", async () => {
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_COMPRESSION: "none" }).compression, "none");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_COMPRESSION: "none", OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "gzip" }).compression, "gzip");
    assert.equal(otlpOf({ otlp: { compression: "none" } }, { OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "gzip" }).compression, "none");
    assert.equal(otlpOf({}, {}).compression, "none", "the default");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_COMPRESSION: "zstd" }).compression, "none");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_COMPRESSION: "zstd", OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "gzip" }).compression, "gzip");
    assert.match(warningOf({ OTEL_EXPORTER_OTLP_COMPRESSION: "zstd" }), /not gzip or none/);
    const h = await startHttpReceiver();
    const g = await startGrpcReceiver();
    try {
      assert.equal(await exportOne({}, { OTEL_EXPORTER_OTLP_ENDPOINT: h.url, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "gzip" }), undefined);
      assert.equal(await exportOne({}, { OTEL_EXPORTER_OTLP_ENDPOINT: h.url, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "none" }), undefined);
      assert.deepEqual(h.exports.map((e) => e.encoding), ["gzip", "identity"]);
      assert.equal(h.spans().length, 2, "both decoded");
      assert.ok(h.exports[0]!.bytes < h.exports[1]!.bytes, "the gzipped body is the smaller");
      // gRPC: grpc-js decompresses before the handler sees the message, so count what crosses the
      // wire, through a TCP relay (one connection per exporter), with a body gzip shrinks well.
      const sent: number[] = [];
      const relay = net.createServer((inbound) => {
        const at = sent.push(0) - 1;
        const outbound = net.connect(Number(new URL(g.url).port), "127.0.0.1");
        inbound.on("data", (c: Buffer) => void (sent[at]! += c.length));
        inbound.pipe(outbound).pipe(inbound);
        inbound.on("error", () => outbound.destroy());
        outbound.on("error", () => inbound.destroy());
      });
      await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
      const viaRelay = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
      try {
        const big = { response_body: Buffer.from("{\"items\":[" + '{"id":1,"name":"same"},'.repeat(800) + "{}]}").toString("base64") };
        assert.equal(await exportOne({ otlp: { protocol: "grpc" } }, { OTEL_EXPORTER_OTLP_ENDPOINT: viaRelay, OTEL_EXPORTER_OTLP_COMPRESSION: "gzip" }, big), undefined);
        assert.equal(await exportOne({ otlp: { protocol: "grpc" } }, { OTEL_EXPORTER_OTLP_ENDPOINT: viaRelay, OTEL_EXPORTER_OTLP_COMPRESSION: "none" }, big), undefined);
        assert.equal(g.spans().length, 2, "both decoded");
        assert.equal(g.exports[0]!.bytes, g.exports[1]!.bytes, "the same request once decompressed");
        assert.equal(sent.length, 2);
        assert.ok(sent[0]! * 4 < sent[1]!, `gzip on the wire: ${sent[0]} bytes against ${sent[1]}`);
      } finally {
        relay.close();
      }
    } finally {
      await h.close();
      await g.close();
    }
  });

  test("PROTOCOL / TRACES_PROTOCOL: grpc or http/protobuf (http/json is sent as http/protobuf); anything else: warned, http/protobuf", () => {
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }).protocol, "grpc");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" }).protocol, "http/protobuf");
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon" }).protocol, "http/protobuf");
    assert.match(warningOf({ OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon" }), /OTEL_EXPORTER_OTLP_PROTOCOL="carrier-pigeon"/);
  });

  test("CERTIFICATE / TRACES_CERTIFICATE: the trusted certificates for an HTTPS and a gRPC-TLS receiver; unreadable: warned, Node's", async () => {
    const h = await startHttpReceiver({ tls: { key: server.key, cert: server.cert } });
    const g = await startGrpcReceiver({ tls: { key: server.key, cert: server.cert } });
    try {
      assert.match(String((await exportOne({}, { OTEL_EXPORTER_OTLP_ENDPOINT: h.url }))?.message), /self[- ]signed|certificate/i, "not trusted without it");
      assert.equal(await exportOne({}, { OTEL_EXPORTER_OTLP_ENDPOINT: h.url, OTEL_EXPORTER_OTLP_CERTIFICATE: server.certPath }), undefined);
      assert.equal(await exportOne({}, { OTEL_EXPORTER_OTLP_ENDPOINT: h.url, OTEL_EXPORTER_OTLP_CERTIFICATE: "/nonexistent", OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: server.certPath }), undefined);
      assert.equal(await exportOne({ otlp: { certificate: server.cert } }, { OTEL_EXPORTER_OTLP_ENDPOINT: h.url }), undefined, "the option, as PEM text");
      assert.equal(h.spans().length, 3);
      // gRPC: an endpoint without a scheme is TLS by default.
      const target = g.url.replace("https://", "");
      assert.equal(await exportOne({ otlp: { protocol: "grpc" } }, { OTEL_EXPORTER_OTLP_ENDPOINT: target, OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: server.certPath }), undefined);
      assert.equal(g.spans().length, 1);
    } finally {
      await h.close();
      await g.close();
    }
    assert.match(warningOf({ OTEL_EXPORTER_OTLP_CERTIFICATE: "/nonexistent/ca.pem" }), /cannot read "\/nonexistent\/ca.pem"/);
    assert.match(warningOf({ OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: server.keyPath.replace("server-key.pem", "") }), /cannot read/, "a directory");
    const notPem = path.join(dir, "not.pem");
    writeFileSync(notPem, "hello");
    assert.match(warningOf({ OTEL_EXPORTER_OTLP_CERTIFICATE: notPem }), /is not PEM/);
    fails({ delivery: "otlp", otlp: { certificate: notPem } }, "ERR_INVALID_OPTION", /is not PEM/);
    assert.equal(otlpOf({}, { OTEL_EXPORTER_OTLP_CERTIFICATE: "/nonexistent/ca.pem" }).tls.ca, undefined);
  });

  test("CLIENT_KEY + CLIENT_CERTIFICATE (and TRACES_ ones): mutual TLS the receiver checks; one without the other: warned, off", async () => {
    const tls = { key: server.key, cert: server.cert, clientCa: client.cert };
    const h = await startHttpReceiver({ tls });
    const g = await startGrpcReceiver({ tls });
    const base = { OTEL_EXPORTER_OTLP_CERTIFICATE: server.certPath };
    try {
      assert.ok(await exportOne({}, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: h.url }), "refused without a client certificate");
      assert.equal(await exportOne({}, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: h.url, OTEL_EXPORTER_OTLP_CLIENT_KEY: client.keyPath, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: client.certPath }), undefined);
      assert.equal(await exportOne({}, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: h.url, OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: client.keyPath, OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: client.certPath }), undefined);
      assert.deepEqual(h.exports.filter((e) => e.answered === 200).map((e) => e.clientCert), ["apitoolkit-client", "apitoolkit-client"]);
      assert.ok(await exportOne({ otlp: { protocol: "grpc" } }, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: g.url }), "gRPC: refused without one");
      assert.equal(await exportOne({ otlp: { protocol: "grpc", clientKey: client.key, clientCertificate: client.certPath } }, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: g.url }), undefined, "the options: PEM text or a path");
      assert.equal(g.spans().length, 1);
      assert.equal(g.exports.at(-1)!.clientCert, "apitoolkit-client");
    } finally {
      await h.close();
      await g.close();
    }
    const half = otlpOf({}, { OTEL_EXPORTER_OTLP_CLIENT_KEY: client.keyPath });
    assert.equal(half.tls.key, undefined);
    assert.match(half.warnings.join(), /mutual TLS is off/);
  });

  test("INSECURE / TRACES_INSECURE: a gRPC endpoint without a scheme in plain text; a scheme wins; not a boolean: warned, TLS", async () => {
    assert.equal(otlpOf({ otlp: { protocol: "grpc" } }, { OTEL_EXPORTER_OTLP_ENDPOINT: "c:4317" }).url, "https://c:4317");
    assert.equal(otlpOf({ otlp: { protocol: "grpc" } }, { OTEL_EXPORTER_OTLP_ENDPOINT: "c:4317", OTEL_EXPORTER_OTLP_INSECURE: "true" }).url, "http://c:4317");
    assert.equal(otlpOf({ otlp: { protocol: "grpc" } }, { OTEL_EXPORTER_OTLP_ENDPOINT: "c:4317", OTEL_EXPORTER_OTLP_INSECURE: "true", OTEL_EXPORTER_OTLP_TRACES_INSECURE: "false" }).url, "https://c:4317");
    assert.equal(otlpOf({ otlp: { protocol: "grpc", insecure: false } }, { OTEL_EXPORTER_OTLP_ENDPOINT: "c:4317", OTEL_EXPORTER_OTLP_INSECURE: "true" }).url, "https://c:4317");
    assert.equal(otlpOf({ otlp: { protocol: "grpc" } }, { OTEL_EXPORTER_OTLP_ENDPOINT: "https://c:4317", OTEL_EXPORTER_OTLP_INSECURE: "true" }).url, "https://c:4317", "the scheme wins");
    assert.match(warningOf({ OTEL_EXPORTER_OTLP_INSECURE: "yes" }, { otlp: { protocol: "grpc" } }), /OTEL_EXPORTER_OTLP_INSECURE="yes"/);
    const g = await startGrpcReceiver();
    try {
      assert.equal(await exportOne({ otlp: { protocol: "grpc" } }, { OTEL_EXPORTER_OTLP_ENDPOINT: g.url.replace("http://", ""), OTEL_EXPORTER_OTLP_TRACES_INSECURE: "true" }), undefined);
      assert.equal(g.spans().length, 1);
    } finally {
      await g.close();
    }
  });

  test("a variable that is not valid is one warning at construction, never a throw", async () => {
    const warnings: string[] = [];
    const apitoolkit = new APIToolkit({ apiKey: "k", delivery: "otlp", logger: { ...quietLogger, warn: (l) => void warnings.push(l) } });
    await apitoolkit.close(100);
    assert.equal(warnings.filter((w) => w.includes("W_OTLP_ENV_INVALID")).length, 0, "nothing to warn of");
    const saved = { ...process.env };
    Object.assign(process.env, { OTEL_EXPORTER_OTLP_TIMEOUT: "soon", OTEL_EXPORTER_OTLP_COMPRESSION: "lz4", OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://x" });
    try {
      const bad = new APIToolkit({ apiKey: "k", delivery: "otlp", logger: { ...quietLogger, warn: (l) => void warnings.push(l) } });
      await bad.close(100);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    const w = warnings.filter((l) => l.includes("W_OTLP_ENV_INVALID"));
    assert.equal(w.length, 1);
    assert.match(w[0]!, /OTEL_EXPORTER_OTLP_TIMEOUT="soon".*OTEL_EXPORTER_OTLP_COMPRESSION="lz4"|OTEL_EXPORTER_OTLP_ENDPOINT/);
    for (const name of ["TIMEOUT", "COMPRESSION", "ENDPOINT"]) assert.ok(w[0]!.includes(`OTEL_EXPORTER_OTLP_${name}=`), name);
  });
});

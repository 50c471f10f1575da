// OTLP spans as monoscope's server reads them (its OtlpServer.hs and Telemetry.hs): one test per
// point where a span used to land short, each against a real Express app, a real Fastify app for
// the identity, and a real OTLP receiver decoding with the official opentelemetry-proto files.
// The identity (setUser, setTenant, setSession, setAttributes) travels as span attributes.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import express from "express5";
import { APIToolkit, setAttributes, setSession, setTenant, setUser, type APIToolkitOptions } from "../src/index.js";
import { expressMiddleware, expressErrorHandler } from "../src/integrations/express/index.js";
import { resolveServiceName, packageName } from "../src/config/service-name.js";
import { parseResourceAttributes } from "../src/transport/otlp/resource.js";
import { startFastify5 } from "./helpers/conformance-apps.js";
import { startOtlpReceiver, type DecodedSpan, type OtlpReceiver } from "./helpers/otlp-receiver.js";
import { listen, rawRequest, type Listening } from "./helpers/server.js";
import { quietLogger } from "./helpers/logger.js";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const JSON_MESSAGE = '{"code":"E_LIMIT","detail":{"limit":10}}';

function spanFor(spans: DecodedSpan[], target: string): DecodedSpan {
  const found = spans.filter((s) => s.attributes["http.target"] === target);
  assert.equal(found.length, 1, `exactly one span for ${target}, got ${found.length}`);
  return found[0]!;
}

/** An Express app on the SDK: plain 5xx answers, thrown errors, identity and an outgoing call after it. */
async function startApp(apitoolkit: APIToolkit, upstreamUrl: string): Promise<Listening> {
  const app = express();
  app.use(expressMiddleware(apitoolkit));
  app.get("/plain/:status", (req, res) => void res.status(Number(req.params.status)).send("unavailable"));
  app.get("/things/:id", (req, res) => void res.json({ id: req.params.id }));
  app.get("/json-error", () => {
    throw new Error(JSON_MESSAGE);
  });
  app.get("/caused", () => {
    throw new Error("checkout failed", { cause: new Error("pool exhausted", { cause: new TypeError("ETIMEDOUT db:5432") }) });
  });
  app.get("/who/:id", async (req, res) => {
    const id = req.params.id;
    setUser({ id: `u_${id}`, email: `${id}@example.com`, name: "Ann Lee" });
    await pause(3 - (id.length % 3));
    setTenant({ id: `t_${id}`, name: "Acme" });
    setSession(`s_${id}`);
    setAttributes({ plan: "pro", seats: id.length, trial: false });
    const up = await fetch(`${upstreamUrl}/quota?for=${id}`); // after the set: carries the parent's identity
    await up.text();
    setAttributes({ plan: "enterprise" }); // a later value wins (on the request; the call already left)
    res.json({ id });
  });
  app.use(expressErrorHandler(apitoolkit));
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).send("error"));
  return listen(http.createServer(app));
}

describe("OTLP spans as monoscope's server reads them", () => {
  let receiver: OtlpReceiver;
  let upstream: Listening;
  let apitoolkit: APIToolkit;
  let srv: Listening;

  before(async () => {
    receiver = await startOtlpReceiver("http/protobuf");
    upstream = await listen(http.createServer((_req, res) => res.end("{}")));
    apitoolkit = new APIToolkit({ apiKey: "k", delivery: "otlp", otlp: { endpoint: receiver.url }, publishIntervalMs: 20, logger: quietLogger, tags: ["env:test", "team:core"], serviceName: "checkout-api", serviceVersion: "2.0.1" });
    srv = await startApp(apitoolkit, upstream.url);
  });
  after(async () => {
    await srv?.close();
    await apitoolkit?.close(3000);
    await upstream?.close();
    await receiver?.close();
  });

  /** The spans of requests made to the app (not the test's own outgoing calls, which are captured too). */
  async function served(paths: string[]): Promise<DecodedSpan[]> {
    const before = receiver.spans().length;
    for (const p of paths) await rawRequest(srv.url + p);
    await apitoolkit.flush(5000);
    const all = await receiver.waitForSpans(before + paths.length * 2);
    return all.slice(before).filter((s) => s.kind === 2);
  }

  test("a 5xx with no recorded error is ERROR with the message HTTP <status>", async () => {
    const spans = await served(["/plain/500", "/plain/503", "/plain/404"]);
    const s500 = spanFor(spans, "/plain/500");
    assert.deepEqual(s500.status, { code: 2, message: "HTTP 500" });
    assert.deepEqual(s500.events, [], "no error was recorded");
    assert.deepEqual(spanFor(spans, "/plain/503").status, { code: 2, message: "HTTP 503" });
    assert.equal(spanFor(spans, "/plain/404").status.code, 0, "a 4xx stays UNSET");
  });

  test("server.address keeps what the Pub/Sub host field keeps: the Host header, port included", async () => {
    const [s] = await served(["/things/1"]);
    assert.equal(s!.attributes["server.address"], srv.url.slice("http://".length));
    assert.equal(s!.attributes["server.port"], Number(new URL(srv.url).port));
  });

  test("monoscope.sdk_type and monoscope.tags are written; what the server never reads is not", async () => {
    const [s] = await served(["/things/2"]);
    assert.equal(s!.attributes["monoscope.sdk_type"], "JsExpress");
    assert.deepEqual(s!.attributes["monoscope.tags"], ["env:test", "team:core"]);
    assert.match(String(s!.attributes["apitoolkit.msg_id"]), /^[0-9a-f-]{36}$/, "kept: the link to the Pub/Sub msg_id");
    const own = Object.keys(s!.attributes).filter((k) => k.startsWith("apitoolkit."));
    assert.deepEqual(own, ["apitoolkit.msg_id"], "no other apitoolkit.* attribute");
    assert.equal(s!.resource["service.version"], "2.0.1", "the version is on the resource, where the server reads it");
  });

  test("url.full: scheme, host, and the redacted path and query", async () => {
    const [s] = await served(["/things/3?api_key=SECRET-KEY-1&x=1"]);
    const full = String(s!.attributes["url.full"]);
    assert.equal(full, `${srv.url}${String(s!.attributes["http.target"])}`);
    assert.ok(full.startsWith(`${srv.url}/things/3?`), full);
    assert.ok(!full.includes("SECRET-KEY-1"), "the query is redacted as in raw_url");
    assert.ok(full.includes("x=1"));
    assert.equal(s!.attributes["url.scheme"], "http");
  });

  test("service.name comes from the serviceName option", async () => {
    const [s] = await served(["/things/4"]);
    assert.equal(s!.resource["service.name"], "checkout-api");
  });

  test("root causes reach the server as an exception event of their own", async () => {
    const [s] = await served(["/caused"]);
    assert.equal(s!.status.code, 2);
    assert.equal(s!.status.message, "Error: checkout failed");
    const ex = s!.events.filter((e) => e.name === "exception");
    assert.equal(ex.length, 2, "the error, then its root cause");
    assert.equal(ex[0]!.attributes["exception.type"], "Error");
    assert.equal(ex[0]!.attributes["exception.message"], "checkout failed");
    assert.match(String(ex[0]!.attributes["exception.stacktrace"]), /checkout failed/);
    assert.equal(ex[1]!.attributes["exception.type"], "TypeError", "the root of the cause chain, not the middle");
    assert.equal(ex[1]!.attributes["exception.message"], "ETIMEDOUT db:5432");
    assert.equal(ex[1]!.attributes["exception.root_cause"], true);
  });

  test("an error message that is JSON text arrives as that text", async () => {
    const [s] = await served(["/json-error"]);
    const ex = s!.events.filter((e) => e.name === "exception");
    assert.equal(ex.length, 1, "no cause: one event");
    assert.equal(ex[0]!.attributes["exception.message"], JSON_MESSAGE, "a string, not a parsed object");
    assert.equal(s!.status.message, `Error: ${JSON_MESSAGE}`);
    const errors = JSON.parse(String(s!.attributes["monoscope.errors"])) as Array<{ message: string }>;
    assert.equal(errors[0]!.message, JSON_MESSAGE);
  });

  test("identity: typed span attributes on the right span under concurrency; outgoing calls made after a set carry it", async () => {
    const ids = ["a", "bb", "ccc", "dddd", "e", "ff", "ggg", "hhhh"];
    const before = receiver.spans().length;
    const answers = await Promise.all(ids.map((id) => rawRequest(`${srv.url}/who/${id}`)));
    assert.deepEqual(answers.map((a) => a.status), ids.map(() => 200));
    await apitoolkit.flush(5000);
    // Per request: the test's own call (CLIENT, no parent), the request (SERVER), its call upstream (CLIENT).
    const spans = (await receiver.waitForSpans(before + ids.length * 3)).slice(before);
    for (const id of ids) {
      const server = spanFor(spans.filter((s) => s.kind === 2), `/who/${id}`);
      const call = spanFor(spans.filter((s) => s.kind === 3 && s.parentSpanId === server.spanId), `/quota?for=${id}`);
      for (const s of [server, call]) {
        assert.equal(s.attributes["user.id"], `u_${id}`);
        assert.equal(s.attributes["user.email"], `${id}@example.com`);
        assert.equal(s.attributes["user.full_name"], "Ann Lee");
        assert.equal(s.attributes["tenant.id"], `t_${id}`);
        assert.equal(s.attributes["tenant.name"], "Acme");
        assert.equal(s.attributes["session.id"], `s_${id}`);
        assert.equal(s.attributes["seats"], id.length);
        assert.equal(s.attributes["trial"], false);
      }
      assert.equal(server.attributes["plan"], "enterprise", "the later value wins");
      assert.equal(call.attributes["plan"], "pro", "the call carries what was set when it started");
    }
    const testsOwn = spans.filter((s) => s.kind === 3 && s.parentSpanId === "");
    assert.equal(testsOwn.length, ids.length);
    for (const s of testsOwn) assert.equal("user.id" in s.attributes, false, "a call made outside any request has no identity");
  });
});

describe("identity over OTLP on Fastify", () => {
  test("a Fastify handler's setUser/setTenant/setSession reach its span", async () => {
    const receiver = await startOtlpReceiver("grpc");
    const apitoolkit = new APIToolkit({ apiKey: "k", delivery: "otlp", otlp: { endpoint: receiver.url, protocol: "grpc" }, publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false });
    const srv = await startFastify5(apitoolkit);
    try {
      await Promise.all([rawRequest(`${srv.url}/whoami/f1`), rawRequest(`${srv.url}/whoami/f22`)]);
      await apitoolkit.flush(5000);
      const spans = await receiver.waitForSpans(2);
      for (const id of ["f1", "f22"]) {
        const s = spanFor(spans, `/whoami/${id}`);
        assert.equal(s.attributes["user.id"], `u_${id}`);
        assert.equal(s.attributes["tenant.id"], "t_7");
        assert.equal(s.attributes["session.id"], `s_${id}`);
        assert.equal(s.attributes["cart.items"], id.length);
      }
    } finally {
      await srv.close();
      await apitoolkit.close(2000);
      await receiver.close();
    }
  });
});

describe("service.name and the resource", () => {
  /** The resource of the first span an app with these options (and this environment) exports. */
  async function resourceWith(options: APIToolkitOptions, env: Record<string, string>): Promise<Record<string, unknown>> {
    const receiver = await startOtlpReceiver("http/protobuf");
    const saved = { ...process.env };
    let apitoolkit: APIToolkit;
    try {
      delete process.env.OTEL_SERVICE_NAME;
      delete process.env.OTEL_RESOURCE_ATTRIBUTES;
      Object.assign(process.env, env);
      apitoolkit = new APIToolkit({ apiKey: "k", delivery: "otlp", otlp: { endpoint: receiver.url }, publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false, ...options });
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    const srv = await startFastify5(apitoolkit);
    try {
      await rawRequest(`${srv.url}/users/1`);
      await apitoolkit.flush(5000);
      const [span] = await receiver.waitForSpans(1);
      return span!.resource;
    } finally {
      await srv.close();
      await apitoolkit.close(2000);
      await receiver.close();
    }
  }

  test("OTEL_RESOURCE_ATTRIBUTES shapes the resource (percent-decoded); OTEL_SERVICE_NAME wins its service.name; the option wins both", async () => {
    const env = { OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod%20eu,service.name=from-attrs,team=core", OTEL_SERVICE_NAME: "from-env" };
    const r1 = await resourceWith({}, env);
    assert.equal(r1["deployment.environment"], "prod eu");
    assert.equal(r1["team"], "core");
    assert.equal(r1["service.name"], "from-env");
    const r2 = await resourceWith({}, { OTEL_RESOURCE_ATTRIBUTES: env.OTEL_RESOURCE_ATTRIBUTES });
    assert.equal(r2["service.name"], "from-attrs");
    const r3 = await resourceWith({ serviceName: "from-option" }, env);
    assert.equal(r3["service.name"], "from-option");
    assert.equal(r3["deployment.environment"], "prod eu");
  });

  test("OTEL_RESOURCE_ATTRIBUTES as the specification reads it: baggage-like list, values percent-decoded, discarded whole on an error", () => {
    assert.deepEqual(parseResourceAttributes(" a = 1 ,b=x%2Cy%3Dz, ,c=%E2%9C%93,"), { attributes: { a: "1", b: "x,y=z", c: "\u2713" } });
    assert.deepEqual(parseResourceAttributes(undefined), { attributes: {} });
    assert.deepEqual(parseResourceAttributes("  "), { attributes: {} });
    for (const bad of ["a=1,b", "a=1,=2", "a=%zz,b=2"]) {
      const r = parseResourceAttributes(bad);
      assert.deepEqual(r.attributes, {}, bad);
      assert.match(r.error!, /OTEL_RESOURCE_ATTRIBUTES was ignored/, bad);
    }
  });

  test("an invalid OTEL_RESOURCE_ATTRIBUTES is ignored whole and warned once; the app is unaffected", async () => {
    const warnings: string[] = [];
    const r = await resourceWith({ logger: { info() {}, error() {}, warn: (l) => void warnings.push(l) } }, { OTEL_RESOURCE_ATTRIBUTES: "team=core,broken" });
    assert.equal(r["team"], undefined, "nothing of it is kept");
    assert.equal(r["service.name"], "apitoolkit-node");
    assert.equal(warnings.filter((w) => w.includes("W_RESOURCE_ATTRIBUTES_INVALID")).length, 1, warnings.join("\n"));
  });

  test("without option or environment: the app's package.json name, never unknown_service:node", async () => {
    const r = await resourceWith({}, {});
    assert.equal(r["service.name"], "apitoolkit-node", "the nearest package.json up from the working directory (this repository's)");
  });

  test("the package.json lookup: nearest one up with a name, unreadable ones skipped, never throws", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "apitoolkit-svc-"));
    try {
      const nested = path.join(dir, "app", "src", "deep");
      mkdirSync(nested, { recursive: true });
      writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "outer-app" }));
      writeFileSync(path.join(dir, "app", "package.json"), "{ not json");
      writeFileSync(path.join(dir, "app", "src", "package.json"), JSON.stringify({ private: true }));
      assert.equal(packageName(nested), "outer-app", "skips a broken one and one without a name");
      writeFileSync(path.join(dir, "app", "package.json"), JSON.stringify({ name: "@acme/orders" }));
      assert.equal(packageName(nested), "@acme/orders");
      assert.equal(resolveServiceName(undefined, undefined, () => nested), "@acme/orders");
      assert.equal(resolveServiceName("opt", "env", () => nested), "opt");
      assert.equal(resolveServiceName(undefined, "env", () => nested), "env");
      assert.equal(resolveServiceName(undefined, undefined, () => { throw new Error("cwd removed"); }), "node-service");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

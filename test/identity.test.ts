// Who is calling, and the app's own capture rules, beyond what the conformance suite checks on
// every integration: the setters' input checks (never a throw into the app; a one-time warning),
// later-wins, reserved keys, value detectors on attribute values, calls outside any request; the
// options' checks at construction; and `enabled: false` as a true pass-through in a child process
// (no socket, no timer, the process exits on its own as if the SDK were not there).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import path from "node:path";
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import express from "express5";
import { APIToolkit, APIToolkitConfigError, setAttributes, setSession, setTenant, setUser, type Logger } from "../src/index.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, type MetadataServer } from "./helpers/metadata.js";
import { listen, rawRequest, type Listening } from "./helpers/server.js";
import { assertWireMessage } from "./helpers/wire.js";
import { one } from "./helpers/messages.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const SRC = pathToFileURL(path.join(ROOT, "src/index.ts")).href;
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info() {}, error() {}, warn: (line: string) => void warnings.push(line) };
}

describe("setUser, setTenant, setSession, setAttributes on a real app", () => {
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let srv: Listening;
  const logger = recordingLogger();

  before(async () => {
    topic = await createTestTopic("identity");
    meta = await startMetadataServer(topic.topicId);
    apitoolkit = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, logger, monitorOutgoing: false, tags: ["env:test"], redactValues: ["jwt", "email"] });
    const app = express();
    app.use(expressMiddleware(apitoolkit));
    app.get("/later-wins", (_req, res) => {
      setUser({ id: "u_1", email: "first@example.com" });
      setUser({ id: "u_2" }); // replaces the whole user
      setTenant({ id: "t_1" });
      setTenant({ name: "Beta" });
      setSession("s_1");
      setSession("s_2");
      setAttributes({ plan: "free", seats: 1 });
      setAttributes({ plan: "pro" }); // merged key by key
      res.send("ok");
    });
    app.get("/bad-input", (_req, res) => {
      // Every wrong shape a JavaScript caller can pass: ignored, warned once each kind, never thrown.
      const loose = { setUser, setTenant, setSession, setAttributes } as unknown as Record<string, (v: unknown) => void>;
      for (const v of [null, undefined, 42, "u_1", [], {}, { id: {} }, { email: 5n }]) loose.setUser!(v);
      for (const v of [null, "t", { id: [] }]) loose.setTenant!(v);
      for (const v of [null, "", 7, {}]) loose.setSession!(v);
      for (const v of [null, "x", [1], { ok: "yes", nested: { a: 1 }, nan: Number.NaN, list: [1], fn: () => 1 }]) loose.setAttributes!(v);
      setAttributes({ "http.route": "/x", "user.id": "spoof", "Session.id": "s", "monoscope.tags": "t", "apitoolkit.msg_id": "m", "server.address": "h", "url.full": "u", "tenant.id": "t" });
      setAttributes({ "": "empty", "a:b": "colon", ["k".repeat(129)]: "long" });
      res.send("ok");
    });
    app.get("/detected", (_req, res) => {
      setUser({ id: "u_9", email: "ann@example.com" }); // the app's deliberate choice: sent as given
      setAttributes({ token: JWT, contact: "bob@example.com", note: "fine" }); // values: through the detectors
      res.send("ok");
    });
    app.get("/many", (_req, res) => {
      const attrs: Record<string, number> = {};
      for (let i = 0; i < 70; i++) attrs[`k${i}`] = i;
      setAttributes(attrs);
      res.send("ok");
    });
    srv = await listen(http.createServer(app));
  });
  after(async () => {
    await srv?.close();
    await apitoolkit?.close(3000);
    await meta?.close();
    await topic?.close();
  });

  test("called twice, the later value wins (attributes merge key by key)", async () => {
    assert.equal((await rawRequest(`${srv.url}/later-wins`)).status, 200);
    const [m] = await topic.pull(1);
    assertWireMessage(m);
    assert.deepEqual(m!.tags, ["env:test", "user.id:u_2", "tenant.name:Beta", "session.id:s_2", "plan:pro", "seats:1"]);
  });

  test("wrong shapes and reserved keys never throw into the app: ignored, warned once per kind", async () => {
    const r = await rawRequest(`${srv.url}/bad-input`);
    assert.equal(r.status, 200);
    assert.equal(r.body, "ok");
    const [m] = await topic.pull(1);
    assertWireMessage(m);
    // {} and { id: {} } are refused whole; only the valid attribute of the mixed object is kept.
    assert.deepEqual(m!.tags, ["env:test", "ok:yes"]);
    assert.equal(logger.warnings.filter((w) => w.includes("W_IDENTITY_INVALID")).length, 1, logger.warnings.join("\n"));
    const refused = logger.warnings.filter((w) => w.includes("W_ATTRIBUTE_REFUSED"));
    assert.equal(refused.length, 1, "one warning, however many keys");
    assert.match(refused[0]!, /would shadow/);
  });

  test("attribute values go through the value detectors; user, tenant and session are sent as given", async () => {
    await rawRequest(`${srv.url}/detected`);
    const [m] = await topic.pull(1);
    assertWireMessage(m);
    assert.deepEqual(m!.tags, ["env:test", "user.id:u_9", "user.email:ann@example.com", "token:[CLIENT_REDACTED]", "contact:[CLIENT_REDACTED]", "note:fine"]);
    assert.ok(!JSON.stringify(m).includes(JWT));
    assert.equal(apitoolkit.stats().redactions["value:jwt"], 1);
  });

  test("at most 64 attributes per request are kept", async () => {
    await rawRequest(`${srv.url}/many`);
    const [m] = await topic.pull(1);
    assert.equal(m!.tags!.length, 1 + 64);
    assert.equal(m!.tags![64], "k63:63");
  });

  test("outside any request the setters do nothing but count", () => {
    const before = apitoolkit.stats().identityOutsideRequest;
    setUser({ id: "nobody" });
    setTenant({ id: "t" });
    setSession("s");
    setAttributes({ a: 1 });
    assert.equal(apitoolkit.stats().identityOutsideRequest, before + 4);
    assert.equal(apitoolkit.stats().errorsOutsideRequest, 0, "counted apart from reportError");
  });

  test("a request without identity publishes the global tags only", async () => {
    const app = express();
    app.use(expressMiddleware(apitoolkit));
    app.get("/plain", (_req, res) => void res.send("ok"));
    const plain = await listen(http.createServer(app));
    try {
      await rawRequest(`${plain.url}/plain`);
      const msgs = await topic.pull(1);
      assert.deepEqual(one(msgs, "/plain").tags, ["env:test"]);
    } finally {
      await plain.close();
    }
  });
});

describe("outgoing calls on Pub/Sub", () => {
  test("a call made after a set carries the identity its request had when the call started", async () => {
    const topic = await createTestTopic("identity-out");
    const meta = await startMetadataServer(topic.topicId);
    const upstream = await listen(http.createServer((_req, res) => res.end("{}")));
    const apitoolkit = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, logger: recordingLogger() });
    const app = express();
    app.use(expressMiddleware(apitoolkit));
    app.get("/calls/:id", async (req, res) => {
      await (await fetch(`${upstream.url}/before?id=${req.params.id}`)).text(); // before any set: no identity
      setUser({ id: `u_${req.params.id}` });
      await new Promise((r) => setTimeout(r, 2));
      await (await fetch(`${upstream.url}/after?id=${req.params.id}`)).text();
      setTenant({ id: "t_late" }); // after the call left: on the request only
      res.send("ok");
    });
    const srv = await listen(http.createServer(app));
    try {
      await Promise.all(["1", "2", "3"].map((id) => rawRequest(`${srv.url}/calls/${id}`)));
      // Per request: the request, its two calls, and the test's own call to the app (no parent).
      const msgs = await topic.pull(12);
      for (const m of msgs) assertWireMessage(m);
      for (const id of ["1", "2", "3"]) {
        const request = one(msgs, `/calls/${id}`, { sdkType: "JsExpress" });
        assert.deepEqual(request.tags, [`user.id:u_${id}`, "tenant.id:t_late"]);
        const before = one(msgs, `/before?id=${id}`);
        const afterSet = one(msgs, `/after?id=${id}`);
        assert.equal(before.parent_id, request.msg_id);
        assert.equal(afterSet.parent_id, request.msg_id);
        assert.equal(before.tags, undefined, "made before any set: no identity");
        assert.deepEqual(afterSet.tags, [`user.id:u_${id}`], "the parent's identity when the call started");
      }
    } finally {
      await srv.close();
      await apitoolkit.close(2000);
      await upstream.close();
      await meta.close();
      await topic.close();
    }
  });
});

describe("the new options are checked at construction", () => {
  test("the issue's own example type-checks and constructs (tsc checks this file)", async () => {
    const apitoolkit = new APIToolkit({
      ignoreRequest: (req) => req.headers["user-agent"]?.startsWith("kube-probe") ?? false,
      sample: ({ method, route, statusCode, durationMs, errors }) => (method === "GET" && route !== "" && errors.length > 0) || statusCode >= 400 || durationMs > 500 || undefined,
      enabled: process.env.NODE_ENV !== "test",
      logger: recordingLogger(),
    });
    await apitoolkit.close(100);
  });

  test("wrong types fail with ERR_INVALID_OPTION naming the option", () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ ignoreRequest: true }, /ignoreRequest must be a function/],
      [{ sample: "yes" }, /sample must be a function/],
      [{ enabled: "false" }, /enabled must be a boolean/],
      [{ serviceName: "" }, /serviceName must be a non-empty string/],
      [{ serviceName: 3 }, /serviceName must be a non-empty string/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => new APIToolkit({ apiKey: "k", ...options } as never), (e: unknown) => e instanceof APIToolkitConfigError && e.code === "ERR_INVALID_OPTION" && message.test(e.message), JSON.stringify(options));
    }
  });

  test("enabled: false (or APITOOLKIT_DISABLED=true) warns nothing and reports the state disabled", () => {
    const logger = recordingLogger();
    const off = new APIToolkit({ enabled: false, logger });
    assert.equal(off.stats().state, "disabled");
    assert.deepEqual(logger.warnings, [], "no W_NO_API_KEY: turning it off is deliberate");
    const saved = process.env.APITOOLKIT_DISABLED;
    process.env.APITOOLKIT_DISABLED = "true";
    try {
      const envOff = new APIToolkit({ apiKey: "k", rootURL: "http://127.0.0.1:9", enabled: true, logger });
      assert.equal(envOff.stats().state, "disabled", "the environment switch wins");
    } finally {
      if (saved === undefined) delete process.env.APITOOLKIT_DISABLED;
      else process.env.APITOOLKIT_DISABLED = saved;
    }
  });
});

/** Runs in a child: records every socket the process opens, constructs a client, then leaves the process to exit on its own. */
const CHILD = `
import net from "node:net";
const opened = [];
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) { opened.push("connect"); return connect.apply(this, args); };
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) { opened.push("listen"); return listen.apply(this, args); };
const { APIToolkit } = await import(${JSON.stringify(SRC)});
const options = { apiKey: "k", rootURL: process.env.ROOT_URL, viewer: { port: 0 }, debug: true, logger: { info() {}, warn() {}, error() {} } };
if (process.env.MODE === "option") options.enabled = false;
const client = new APIToolkit(options);
await new Promise((r) => setTimeout(r, 300));
const resources = process.getActiveResourcesInfo().filter((r) => /TCP|Timeout|Immediate/.test(r));
console.log(JSON.stringify({ opened, resources, state: client.stats().state }));
`;

function runChild(mode: "option" | "env" | "on", rootUrl: string): Promise<{ code: number | null; killed: boolean; report: { opened: string[]; resources: string[]; state: string } | undefined }> {
  return new Promise((resolve) => {
    const env = { ...process.env, ROOT_URL: rootUrl, MODE: mode, APITOOLKIT_DISABLED: mode === "env" ? "true" : "" };
    const proc = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", CHILD], { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    let killed = false;
    proc.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      // The SDK that is on keeps the process alive (the viewer listens): stop it once it reported.
      if (mode === "on" && out.includes("\n")) {
        killed = true;
        proc.kill("SIGKILL");
      }
    });
    const bound = setTimeout(() => {
      killed = true;
      proc.kill("SIGKILL");
    }, 30_000); // a hang bound, not a timing assertion
    proc.on("exit", (code) => {
      clearTimeout(bound);
      const line = out.split("\n").find((l) => l.startsWith("{"));
      resolve({ code, killed, report: line ? (JSON.parse(line) as { opened: string[]; resources: string[]; state: string }) : undefined });
    });
  });
}

describe("enabled: false in a process of its own", () => {
  let meta: MetadataServer;
  before(async () => {
    meta = await startMetadataServer("unused");
  });
  after(async () => {
    await meta?.close();
  });

  for (const mode of ["option", "env"] as const) {
    test(`${mode === "option" ? "enabled: false" : "APITOOLKIT_DISABLED=true"}: no socket, no timer, and the process exits on its own`, async () => {
      const calls = meta.calls.length;
      const r = await runChild(mode, meta.url);
      assert.ok(r.report, "the child reported");
      assert.deepEqual(r.report.opened, [], "no socket connected or listening (not even the viewer's)");
      assert.deepEqual(r.report.resources, [], "no socket, timer or immediate left behind");
      assert.equal(r.report.state, "disabled");
      assert.equal(r.killed, false, "exited on its own: nothing keeps the process alive");
      assert.equal(r.code, 0);
      assert.equal(meta.calls.length, calls, "no client_metadata call");
    });
  }

  test("the same child with the SDK on does open sockets (what the two tests above rule out)", async () => {
    const r = await runChild("on", meta.url);
    assert.ok(r.report, "the child reported");
    assert.ok(r.report.opened.includes("listen"), "the viewer listens");
    assert.ok(r.report.opened.includes("connect"), "bootstrap connects");
  });
});

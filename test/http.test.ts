// Plain node:http and node:https, end to end: the example listener (examples/http/app.ts) over real
// HTTP(S) on loopback, bootstrap through a local client_metadata stand-in, publishing to the real
// Pub/Sub emulator; messages decoded and checked field by field. The app's own error semantics
// (sync throws, rejected promises) are checked to be unchanged, in child processes where they crash.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { EventEmitter } from "node:events";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { APIToolkit, type WireMessage } from "../src/index.js";
import { wrapHandler } from "../src/integrations/http/index.js";
import { createHandler, exampleOptions } from "../examples/http/app.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { listen, b64json, b64text, type Listening } from "./helpers/server.js";
import { assertNoSecrets, one } from "./helpers/messages.js";
import { quietLogger } from "./helpers/logger.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** GET/POST over http or https (self-signed certificate accepted), the raw answer back. */
function request(url: string, method = "GET", body?: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith("https:") ? https : http;
    const h = body ? { "content-type": "application/json", ...headers } : headers;
    const req = mod.request(url, { method, headers: h, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString("latin1") }));
    });
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer from ${method} ${url}`))); // fail, do not hang
    req.end(body);
  });
}

function stripDate(h: http.IncomingHttpHeaders) {
  const { date: _date, ...rest } = h;
  return rest;
}

function checkCommon(m: WireMessage): void {
  assert.equal(m.project_id, PROJECT_ID);
  assert.equal(m.sdk_type, "JsExpress");
  assert.match(m.msg_id, UUID);
  assert.equal(m.proto_major, 1);
  assert.equal(m.proto_minor, 1);
  assert.ok(Number.isInteger(m.duration) && m.duration > 0);
  assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(m.service_version, "1.4.0");
  assert.deepEqual(m.tags, ["env:test"]);
  assert.ok(m.host.startsWith("127.0.0.1:"));
  assert.ok(!("url_path" in m), "no router: url_path is omitted");
  assert.deepEqual(m.path_params, {});
  for (const v of Object.values(m.request_headers)) assert.ok(Array.isArray(v));
  for (const v of Object.values(m.response_headers)) assert.ok(Array.isArray(v));
}

describe("node:http and node:https", () => {
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let srv: Listening;
  let tls: Listening;
  let certDir: string;
  let tlsOptions: { key: Buffer; cert: Buffer };

  async function listenTls(listener: http.RequestListener): Promise<Listening> {
    const server = https.createServer(tlsOptions, listener);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    return {
      url: `https://127.0.0.1:${port}`,
      server: server as unknown as http.Server,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
    };
  }

  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), "apitoolkit-tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(certDir, "k.pem"), "-out", join(certDir, "c.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
    tlsOptions = { key: readFileSync(join(certDir, "k.pem")), cert: readFileSync(join(certDir, "c.pem")) };
    topic = await createTestTopic("http");
    meta = await startMetadataServer(topic.topicId, { delayMs: 800 });
    apitoolkit = new APIToolkit({ ...exampleOptions, apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 20, logger: quietLogger, monitorOutgoing: false });
    srv = await listen(http.createServer(createHandler(apitoolkit)));
    tls = await listenTls(createHandler(apitoolkit));
  });

  after(async () => {
    await srv.close();
    await tls.close();
    await apitoolkit.close(3000);
    await meta.close();
    await topic.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  test("every exchange over http and https is published once, decodable, redacted", async () => {
    assert.equal(apitoolkit.stats().state, "pending", "requests below are made before bootstrap finished");
    const loginBody = JSON.stringify({ user: { name: "ann", password: "hunter2" }, payment: { card: { number: "4111", cvv: "123" } } });
    const secrets = { authorization: "Bearer user-secret", "x-api-key": "client-secret", cookie: "sid=abc" };
    const [user, login, search, stream, boom, report, reportPost, missing, tlsUser, tlsLogin] = await Promise.all([
      request(`${srv.url}/users/42?x=1`, "GET", undefined, secrets),
      request(`${srv.url}/login`, "POST", loginBody),
      request(`${srv.url}/search?q=a&q=b&empty=`),
      request(`${srv.url}/stream`),
      request(`${srv.url}/boom`),
      request(`${srv.url}/report`),
      request(`${srv.url}/report?post=1`, "POST", '{"n":5}'),
      request(`${srv.url}/no/such/route/99`),
      request(`${tls.url}/users/7?tls=1`, "GET", undefined, secrets),
      request(`${tls.url}/login?tls=1`, "POST", loginBody),
    ]);
    assert.equal(user.status, 200);
    assert.equal(login.status, 201);
    assert.equal(search.status, 200);
    assert.equal(stream.body, "one two three");
    assert.equal(boom.status, 500);
    assert.equal(report.body, "ok");
    assert.equal(reportPost.body, "ok");
    assert.equal(missing.status, 404);
    assert.equal(tlsUser.status, 200);
    assert.equal(tlsLogin.status, 201);

    const msgs = await topic.pull(10);
    assert.equal(msgs.length, 10, "one message per request");
    for (const m of msgs) checkCommon(m);
    assertNoSecrets(msgs, ["hunter2", "user-secret", "client-secret", "server-secret", "sid=abc", "tok-SECRET-123", '"123"']);

    for (const raw of ["/users/42?x=1", "/users/7?tls=1"]) {
      const m = one(msgs, raw);
      assert.equal(m.method, "GET");
      assert.equal(m.status_code, 200);
      assert.deepEqual(m.request_headers.authorization, ["[CLIENT_REDACTED]"]);
      assert.deepEqual(m.request_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
      assert.deepEqual(m.request_headers.cookie, ["[CLIENT_REDACTED]"]);
      assert.deepEqual(m.response_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
      assert.deepEqual(m.response_headers["content-type"], ["application/json"]);
      assert.equal(m.request_body, "");
    }
    assert.deepEqual(one(msgs, "/users/42?x=1").query_params, { x: ["1"] });
    assert.deepEqual(b64json(one(msgs, "/users/7?tls=1").response_body), { id: "7", name: "Ada" });

    for (const raw of ["/login", "/login?tls=1"]) {
      const m = one(msgs, raw);
      assert.equal(m.method, "POST");
      assert.equal(m.status_code, 201);
      assert.deepEqual(b64json(m.request_body), {
        user: { name: "ann", password: "[CLIENT_REDACTED]" },
        payment: { card: { number: "4111", cvv: "[CLIENT_REDACTED]" } },
      });
      assert.deepEqual(b64json(m.response_body), { token: "[CLIENT_REDACTED]", user: "ann", cardEcho: "4111" });
    }

    assert.deepEqual(one(msgs, "/search?q=a&q=b&empty=").query_params, { q: ["a", "b"], empty: [""] });
    assert.equal(b64text(one(msgs, "/stream").response_body), "one two three");

    const b = one(msgs, "/boom");
    assert.equal(b.status_code, 500);
    assert.equal(b.errors.length, 1);
    assert.equal(b.errors[0]!.error_type, "Error");
    assert.equal(b.errors[0]!.message, "payment provider unreachable");
    assert.equal(b.errors[0]!.root_error_type, "TypeError");
    assert.equal(b.errors[0]!.root_error_message, "ECONNREFUSED 10.0.0.7:443");

    for (const raw of ["/report", "/report?post=1"]) {
      const m = one(msgs, raw);
      assert.equal(m.errors.length, 1, `reportError reached ${raw}`);
      assert.equal(m.errors[0]!.error_type, "RangeError");
    }
    assert.deepEqual(b64json(one(msgs, "/report?post=1").request_body), { n: 5 });

    const m404 = one(msgs, "/no/such/route/99");
    assert.equal(m404.status_code, 404);
    assert.deepEqual(m404.errors, []);
    assert.deepEqual(await topic.drain(1000), [], "nothing extra published");
  });

  test("responses are byte-for-byte the same with and without the SDK (http and https)", async () => {
    const bare = await listen(http.createServer(createHandler(undefined)));
    const bareTls = await listenTls(createHandler(undefined));
    const paths = ["/users/1", "/search?q=z&q=y", "/stream", "/nope"];
    const body = '{"user":{"name":"x","password":"p"}}';
    try {
      for (const [a, b] of [[srv.url, bare.url], [tls.url, bareTls.url]] as const) {
        for (const path of paths) {
          const [x, y] = await Promise.all([request(a + path), request(b + path)]);
          assert.equal(x.status, y.status, path);
          assert.deepEqual(stripDate(x.headers), stripDate(y.headers), path);
          assert.equal(x.body, y.body, path);
        }
        const [x, y] = await Promise.all([request(a + "/login", "POST", body), request(b + "/login", "POST", body)]);
        assert.equal(x.status, y.status);
        assert.deepEqual(stripDate(x.headers), stripDate(y.headers));
        assert.equal(x.body, y.body);
      }
    } finally {
      await bare.close();
      await bareTls.close();
    }
    const n = 2 * (paths.length + 1);
    assert.equal((await topic.pull(n)).length, n, "only the captured servers published");
    assert.deepEqual(await topic.drain(800), []);
  });

  test("40 concurrent requests yield exactly 40 messages", async () => {
    const n = 40;
    await Promise.all(Array.from({ length: n }, (_, i) => request(`${i % 2 ? srv.url : tls.url}/users/${i}`)));
    const msgs = await topic.pull(n);
    assert.equal(msgs.length, n);
    assert.equal(new Set(msgs.map((m) => m.raw_url)).size, n, "no duplicates");
    assert.equal(new Set(msgs.map((m) => m.msg_id)).size, n);
    for (const m of msgs) assert.deepEqual(b64json(m.response_body), { id: m.raw_url.split("/")[2], name: "Ada" });
    assert.deepEqual(await topic.drain(800), []);
  });

  test("response headers are published as the app sent them, whichever way it set them", async () => {
    // writeHead merges what it is passed into what setHeader set (passed values win); with nothing
    // set, what it is passed (an object, a flat or a nested list) is all there is. (node's own
    // framing headers, connection/keep-alive/content-length/date, are not the app's and not published.)
    const R = "[CLIENT_REDACTED]";
    const ways: Record<string, [(res: http.ServerResponse) => void, Record<string, string[]>]> = {
      "/set-only": [(res) => { res.setHeader("X-A", "1"); res.setHeader("Set-Cookie", ["a=1", "b=2"]); res.end("x"); }, { "x-a": ["1"], "set-cookie": [R] }],
      "/object": [(res) => res.writeHead(200, { "X-A": "1", "X-B": 2 }).end("x"), { "x-a": ["1"], "x-b": ["2"] }],
      "/flat": [(res) => res.writeHead(200, ["X-A", "1", "X-B", "2", "X-B", "3"]).end("x"), { "x-a": ["1"], "x-b": ["2", "3"] }],
      "/both": [(res) => { res.setHeader("X-A", "set"); res.setHeader("X-C", "kept"); res.writeHead(200, { "x-a": "passed", "X-B": "2" }).end("x"); },
        { "x-a": ["passed"], "x-b": ["2"], "x-c": ["kept"] }],
    };
    const app = await listen(http.createServer(wrapHandler(apitoolkit, (req, res) => ways[req.url!]![0](res))));
    try {
      for (const path of Object.keys(ways)) {
        const got = await request(app.url + path);
        for (const [name, values] of Object.entries(ways[path]![1])) {
          if (name !== "set-cookie") assert.equal(got.headers[name], values.join(", "), `${path}: the client got ${name}`);
        }
      }
      const msgs = await topic.pull(Object.keys(ways).length);
      for (const path of Object.keys(ways)) assert.deepEqual(one(msgs, path).response_headers, ways[path]![1], path);
    } finally {
      await app.close();
    }
    assert.deepEqual(await topic.drain(300), []);
  });

  test("a rejected async handler is recorded; the server's captureRejections answer (500) is unchanged", async () => {
    const failing = async (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.setHeader("x-partial", "1"); // node's rejection handler removes headers before its 500
      await pause(2);
      if (req.url === "/ok") return void res.end("fine");
      throw new Error("handler rejected", { cause: new SyntaxError("bad input") });
    };
    EventEmitter.captureRejections = true; // read once, when each server is constructed
    let wrapped: http.Server, bare: http.Server;
    try {
      wrapped = http.createServer(wrapHandler(apitoolkit, failing));
      bare = http.createServer(failing);
    } finally {
      EventEmitter.captureRejections = false;
    }
    const [w, b] = [await listen(wrapped), await listen(bare)];
    try {
      for (const path of ["/fail", "/ok"]) {
        const [x, y] = await Promise.all([request(w.url + path), request(b.url + path)]);
        assert.equal(x.status, y.status, path);
        assert.deepEqual(stripDate(x.headers), stripDate(y.headers), path);
        assert.equal(x.body, y.body, path);
      }
    } finally {
      await w.close();
      await b.close();
    }
    const msgs = await topic.pull(2);
    assert.equal(msgs.length, 2);
    const fail = one(msgs, "/fail");
    assert.equal(fail.status_code, 500, "the status the client got");
    assert.equal(fail.errors.length, 1);
    assert.equal(fail.errors[0]!.message, "handler rejected");
    assert.equal(fail.errors[0]!.root_error_type, "SyntaxError");
    assert.equal(fail.errors[0]!.root_error_message, "bad input");
    assert.deepEqual(one(msgs, "/ok").errors, []);
  });

  test("the wrapper returns what the handler returns, and is typed so (a promise for async handlers)", async () => {
    const asyncHandler = wrapHandler(apitoolkit, async (req: http.IncomingMessage, res: http.ServerResponse) => {
      await pause(1);
      res.setHeader("content-type", "application/json");
      res.end('{"via":"async"}');
      return `handled ${req.url}`;
    });
    const syncHandler = wrapHandler(apitoolkit, (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.setHeader("content-type", "application/json");
      res.end('{"via":"sync"}');
      return 7;
    });
    const returned: unknown[] = [];
    const server = await listen(
      http.createServer((req, res) => {
        if (req.url === "/sync") {
          const n: number = syncHandler(req, res); // a type error while wrapHandler claimed `void`
          returned.push(n);
          return;
        }
        const p: Promise<string> = asyncHandler(req, res);
        assert.ok(p instanceof Promise);
        void p.then((v) => returned.push(v));
      }),
    );
    try {
      const [a, s] = [await request(`${server.url}/async`), await request(`${server.url}/sync`)];
      assert.equal(a.body, '{"via":"async"}');
      assert.equal(s.body, '{"via":"sync"}');
    } finally {
      await server.close();
    }
    assert.deepEqual(returned, ["handled /async", 7]);
    const msgs = await topic.pull(2);
    assert.equal(msgs.length, 2);
    assert.deepEqual(b64json(one(msgs, "/async").response_body), { via: "async" });
    assert.deepEqual(b64json(one(msgs, "/sync").response_body), { via: "sync" });
  });

  test("sync throws and unhandled rejections surface exactly as without the SDK (child processes)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "apitoolkit-http-child-"));
    const script = join(dir, "child.mjs");
    writeFileSync(script, CHILD_SCRIPT);
    try {
      const run = (mode: string) => runChild(script, mode, { META_URL: meta.url });
      const results = await Promise.all(["reject-bare", "reject-wrapped", "throw-bare", "throw-wrapped"].map(run));
      const [rejectBare, rejectWrapped, throwBare, throwWrapped] = results;
      assert.deepEqual(rejectBare, { event: "unhandledRejection", message: "async boom", sameReason: true });
      assert.deepEqual(rejectWrapped, rejectBare, "an unhandled rejection stays one, with the same reason");
      assert.deepEqual(throwBare, { event: "uncaughtException", message: "sync boom", sameReason: true });
      assert.deepEqual(throwWrapped, throwBare, "a synchronous throw still reaches uncaughtException");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const msgs = await topic.pull(2);
    assert.equal(msgs.length, 2, "only the wrapped children published");
    for (const [raw, message] of [["/reject-wrapped", "async boom"], ["/throw-wrapped", "sync boom"]]) {
      const m = one(msgs, raw!);
      assert.equal(m.status_code, 499, "no response was sent before the connection closed");
      assert.equal(m.errors.length, 1);
      assert.equal(m.errors[0]!.message, message);
      assert.equal(m.errors[0]!.root_error_message, "the cause");
    }
  });

  test("stats count what was captured and published", async () => {
    assert.equal(await apitoolkit.flush(5000), true);
    const s = apitoolkit.stats();
    assert.equal(s.state, "ready");
    assert.equal(s.captured, s.published);
    assert.equal(Object.values(s.dropped).reduce((a, b) => a + b, 0), 0);
  });
});

/** Runs in a child: one server, one request, reports which process-level event the error reached. */
const CHILD_SCRIPT = `
import http from "node:http";
import { once } from "node:events";
const [mode] = process.argv.slice(2);
const [kind, how] = mode.split("-");
const { APIToolkit } = await import(process.env.SRC_INDEX);
const { wrapHandler } = await import(process.env.SRC_HTTP);
let thrown;
let lastRes;
const handler = kind === "reject"
  ? async (_req, res) => { lastRes = res; await new Promise((r) => setTimeout(r, 1)); thrown = new Error("async boom", { cause: new Error("the cause") }); throw thrown; }
  : (_req, res) => { lastRes = res; thrown = new Error("sync boom", { cause: new Error("the cause") }); throw thrown; };
const tk = how === "wrapped" ? new APIToolkit({ apiKey: "${GOOD_KEY}", rootURL: process.env.META_URL, publishIntervalMs: 20, logger: { info() {}, warn() {}, error() {} }, monitorOutgoing: false }) : undefined;
const server = http.createServer(tk ? wrapHandler(tk, handler) : handler);
async function report(event, reason) {
  server.closeAllConnections();
  if (lastRes && !lastRes.closed) await once(lastRes, "close"); // the SDK finishes the exchange on it
  if (tk) await tk.close(10000);
  process.stdout.write(JSON.stringify({ event, message: reason?.message, sameReason: reason === thrown }) + "\\n");
  process.exit(0);
}
process.on("unhandledRejection", (reason) => void report("unhandledRejection", reason));
process.on("uncaughtException", (err) => void report("uncaughtException", err));
setTimeout(() => void report("none"), 8000); // neither event came: report that instead of hanging
server.listen(0, "127.0.0.1", () => {
  http.get("http://127.0.0.1:" + server.address().port + "/" + mode).on("error", () => {});
});
`;

function runChild(script: string, mode: string, env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, mode], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...env,
        SRC_INDEX: new URL("../src/index.ts", import.meta.url).href,
        SRC_HTTP: new URL("../src/integrations/http/index.ts", import.meta.url).href,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (err += c));
    child.on("error", reject);
    child.on("exit", (code) => {
      try {
        assert.equal(code, 0, `child ${mode} exited with ${code}: ${err}`);
        resolve(JSON.parse(out.trim().split("\n").pop()!));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

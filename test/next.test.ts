// Next.js 15 (top-level), 16 and 14 (test/fixtures/next16, next14, when installed), end to end: the
// fixture app (test/fixtures/next-app: App Router route handlers and
// Pages Router API routes) is built with `next build` and served by `next start` in a child process,
// which bootstraps against a local client_metadata stand-in and publishes to the real Pub/Sub
// emulator. With Next 15+ its client publishes on a 60-second timer, longer than the tests run after
// start-up, so every message that arrives was flushed by the integration (after() for route
// handlers, before resolving for pages routes).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { b64json, b64text } from "./helpers/server.js";
import { assertCommonFields, assertNoSecrets, one } from "./helpers/messages.js";
import { fileRouteParams, fromFileRoute, fromParams, paramStrings } from "../src/integrations/next/route.js";
import { withAPIToolkit, withAPIToolkitRoute } from "../src/integrations/next/index.js";
import { APIToolkit } from "../src/index.js";
import { quietLogger } from "./helpers/logger.js";
import type { NextRequest } from "next/server.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const appDir = path.join(root, "test/fixtures/next-app");

interface NextVersion {
  name: string;
  /** Where `next` (and the React it runs with) come from. */
  modules: string;
  buildArgs: string[];
  distDir: string;
  /** Why the suite is skipped, if it is. */
  skip?: string;
  /** `after()` exists: route handlers flush before the invocation ends. */
  hasAfter: boolean;
}

function fixture(name: string, extra: Omit<NextVersion, "name" | "modules" | "skip">): NextVersion {
  const modules = path.join(root, `test/fixtures/${name}/node_modules`);
  const installed = existsSync(path.join(modules, "next/package.json"));
  const hint = `not installed: npm install --prefix test/fixtures/${name} --no-audit --no-fund (or npm run fixtures, which installs every fixture)`;
  // In CI a missing fixture is a failure, never a silent skip.
  if (!installed && process.env.CI) throw new Error(`Next.js fixture ${name} ${hint}`);
  const skip = installed ? undefined : hint;
  return { name: `Next.js ${name.slice(4)}`, modules, skip, ...extra };
}

const allVersions: NextVersion[] = [
  { name: "Next.js 15", modules: path.join(root, "node_modules"), buildArgs: ["build"], distDir: ".next/v15", hasAfter: true },
  // The app's webpack config resolves the SDK's ".js" imports to ".ts": build with webpack, not Turbopack.
  fixture("next16", { buildArgs: ["build", "--webpack"], distDir: ".next/v16", hasAfter: true }),
  // No after() in Next 14: route handlers' messages go out on the client's timer.
  fixture("next14", { buildArgs: ["build"], distDir: ".next/v14", hasAfter: false }),
];
// NEXT_TEST_VERSIONS=14,16 runs only those (each version's suite builds its app first).
const only = process.env.NEXT_TEST_VERSIONS?.split(",").map((n) => `Next.js ${n.trim()}`);
const versions = only ? allVersions.filter((v) => only.includes(v.name)) : allVersions;

/** The app resolves `next`, `react` and `react-dom` from its own node_modules (git-ignored) when
 *  it is built and served by another version than the top-level one. */
function linkModules(v: NextVersion): void {
  const own = path.join(appDir, "node_modules");
  rmSync(own, { recursive: true, force: true });
  if (v.modules === path.join(root, "node_modules")) return;
  mkdirSync(own);
  for (const m of ["next", "react", "react-dom"]) symlinkSync(path.join(v.modules, m), path.join(own, m), "dir");
}

function baseEnv(v: NextVersion): NodeJS.ProcessEnv {
  // No telemetry, and no registry look-ups (Next 14 "patches" lockfiles over the network).
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NEXT_IGNORE_INCORRECT_LOCKFILE: "1", NEXT_DIST_DIR: v.distDir };
  delete env.APITOOLKIT_KEY;
  delete env.APITOOLKIT_ROOT_URL;
  delete env.NODE_OPTIONS; // no tsx loader inside Next
  return env;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: appDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`next ${args[0]} exited with ${code}:\n${out}`))));
  });
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe("Next.js route templates", () => {
  test("file-system routes in the wire's syntax", () => {
    assert.equal(fromFileRoute("/api/users/[id]"), "/api/users/:id");
    assert.equal(fromFileRoute("api/shops/[shopId]/orders/[orderId]/"), "/api/shops/:shopId/orders/:orderId");
    assert.equal(fromFileRoute("/docs/[...slug]"), "/docs/:slug*");
    assert.equal(fromFileRoute("/docs/[[...slug]]"), "/docs/:slug*");
    assert.equal(fromFileRoute("/(shop)/@modal/cart/[item]"), "/cart/:item", "route groups and slots are not in the URL");
    assert.equal(fromFileRoute("/"), "/");
  });

  test("the param names of a file-system route", () => {
    assert.deepEqual(fileRouteParams("/api/shops/[shopId]/orders/[orderId]"), ["shopId", "orderId"]);
    assert.deepEqual(fileRouteParams("/docs/[...slug]"), ["slug"]);
    assert.deepEqual(fileRouteParams("/docs/[[...slug]]"), ["slug"]);
    assert.deepEqual(fileRouteParams("/api/hello"), []);
  });

  test("derived from the path and the params Next passed", () => {
    assert.equal(fromParams("/api/users/42", { id: "42" }), "/api/users/:id");
    assert.equal(fromParams("/shops/7/orders/7", { shopId: "7", orderId: "7" }), "/shops/:shopId/orders/:orderId", "each param once, in order");
    assert.equal(fromParams("/docs/a/b%20c", { slug: ["a", "b c"] }), "/docs/:slug*", "catch-all, decoded");
    assert.equal(fromParams("/files/x/x", { name: "y" }), "/files/x/x", "a value not in the path changes nothing");
    assert.equal(fromParams("/docs", { slug: undefined }), "/docs", "an empty optional catch-all");
    assert.deepEqual(paramStrings({ id: "1", slug: ["a", "b"], none: undefined }), { id: "1", slug: "a/b" });
  });
});

/** What Next's generated route types demand of an export of `app/api/users/[id]/route.ts`: Next 16's
 *  `RouteHandlerConfig` (assignable to this), and Next 14/15's next-types-plugin checks (below). */
type SegmentParams = { id: string };
type NextRouteExport = (req: NextRequest, ctx: { params: Promise<SegmentParams> }) => Response | void | Promise<Response | void>;
/** next-types-plugin: a first argument that is a Request, and a second that is the route context
 *  (a second argument typed `unknown` counts as `any`). */
type PassesNext15Check<F> = F extends (req: infer R, ctx: infer C) => unknown
  ? [R] extends [Request] ? (unknown extends C ? true : [C] extends [{ params: Promise<SegmentParams> }] ? true : false) : false
  : false;

describe("Next.js wrappers as route exports", () => {
  test("type-check as Next route exports, with or without a typed context (tsc checks this file)", async () => {
    const off = new APIToolkit({ apiKey: "", logger: quietLogger, monitorOutgoing: false });
    try {
      const ignoresCtx = withAPIToolkit(off, async (req) => new Response(req.method));
      const usesCtx = withAPIToolkit(off, async (_req: NextRequest, { params }: { params: Promise<SegmentParams> }) => Response.json(await params));
      const route = withAPIToolkitRoute(off, { GET: async (req: Request) => new Response(req.method) });
      const exports: NextRouteExport[] = [ignoresCtx, usesCtx, route.GET, route.HEAD, route.OPTIONS, route.POST, route.PUT, route.DELETE, route.PATCH];
      const next15: Array<true> = [
        true satisfies PassesNext15Check<typeof ignoresCtx>,
        true satisfies PassesNext15Check<typeof usesCtx>,
        true satisfies PassesNext15Check<typeof route.POST>,
      ];
      assert.equal(exports.length + next15.length, 12);
      // A disabled client passes through; the stand-ins answer as Next does.
      const req = (method: string) => new Request("http://localhost/api/users/1", { method });
      assert.equal(await (await ignoresCtx(req("DELETE"), undefined)).text(), "DELETE");
      assert.equal(route.HEAD, route.GET, "HEAD goes through GET, as Next serves it");
      const post = await route.POST(req("POST"), undefined);
      assert.equal(post.status, 405);
      assert.equal(post.body, null);
      const options = await route.OPTIONS(req("OPTIONS"), undefined);
      assert.equal(options.status, 204);
      assert.equal(options.headers.get("allow"), "GET, HEAD, OPTIONS");
    } finally {
      await off.close(100);
    }
  });
});

for (const v of versions) describe(`${v.name} (next build + next start)`, { skip: v.skip }, () => {
  const nextBin = path.join(v.modules, "next/dist/bin/next");
  let topic: TestTopic;
  let meta: MetadataServer;
  let server: ChildProcess | undefined;
  let serverLog = "";
  let url = "";

  before(async () => {
    topic = await createTestTopic("next");
    meta = await startMetadataServer(topic.topicId);
    linkModules(v);
    await run(nextBin, v.buildArgs, baseEnv(v)); // without a key: the SDK is disabled while Next evaluates routes at build time
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [nextBin, "start", "-p", String(port), "-H", "127.0.0.1"], {
      cwd: appDir,
      env: { ...baseEnv(v), APITOOLKIT_KEY: GOOD_KEY, APITOOLKIT_ROOT_URL: meta.url, APITOOLKIT_PUBLISH_INTERVAL_MS: v.hasAfter ? "60000" : "200" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout!.on("data", (d) => (serverLog += d));
    server.stderr!.on("data", (d) => (serverLog += d));
    for (let i = 0; ; i++) {
      // An uncaptured route: waiting for the server must not publish anything.
      const ok = await fetch(`${url}/api/sse-release?id=warmup`, { method: "POST" }).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 300 || server.exitCode !== null) throw new Error(`next start did not come up:\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, { timeout: 170_000 });

  after(async () => {
    if (process.env.NEXT_TEST_LOG) console.log(serverLog);
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    rmSync(path.join(appDir, "node_modules"), { recursive: true, force: true });
    await meta?.close();
    await topic?.close();
  });

  test("route handlers and API routes: one message each, decodable, redacted, with route templates", async () => {
    const json = { "content-type": "application/json" };
    const sent: Array<Promise<Response>> = [
      fetch(`${url}/api/users/42?tag=a&tag=b`, { headers: { authorization: "Bearer user-secret", "x-api-key": "client-secret", cookie: "sid=abc" } }),
      fetch(`${url}/api/users/7`, { method: "POST", headers: json, body: JSON.stringify({ user: { name: "ann", password: "hunter2" } }) }),
      fetch(`${url}/api/shops/1/orders/2`),
      fetch(`${url}/api/docs/guide/intro/setup`),
      fetch(`${url}/api/boom`),
      fetch(`${url}/api/report`),
      fetch(`${url}/api/stream`),
      fetch(`${url}/api/hello`),
      fetch(`${url}/api/hello`, { method: "POST", headers: json, body: JSON.stringify({ user: { name: "bob", password: "pages-secret" } }) }),
      fetch(`${url}/api/items/9?view=full`),
      fetch(`${url}/api/items/3?fail=1`),
    ];
    const responses = await Promise.all(sent);
    const texts = await Promise.all(responses.map((r) => r.text()));
    assert.deepEqual(responses.map((r) => r.status), [200, 201, 200, 200, 500, 200, 200, 200, 201, 200, 500]);
    assert.deepEqual(JSON.parse(texts[0]!), { id: "42", tags: ["a", "b"] });
    assert.equal(responses[0]!.headers.get("x-api-key"), "server-secret");
    assert.deepEqual(JSON.parse(texts[1]!), { id: "7", token: "tok-SECRET-123", user: "ann", nextUrl: "/api/users/7" }, "the handler read the body and still has a NextRequest");
    assert.deepEqual(responses[1]!.headers.getSetCookie(), ["sid=SECRET-SID; HttpOnly", "theme=dark"]);
    assert.equal(texts[3], "doc guide/intro/setup");
    assert.equal(texts[6], "alpha,beta,gamma");
    assert.deepEqual(JSON.parse(texts[8]!), { hello: "bob", token: "tok-SECRET-123" });
    assert.deepEqual(JSON.parse(texts[9]!), { item: "9", view: "full" });

    const msgs = await topic.pull(sent.length);
    assert.equal(msgs.length, sent.length, "one message per request");
    const by = (raw: string, method = "GET") => one(msgs, raw, { method });
    for (const m of msgs) {
      assertCommonFields(m, { projectId: PROJECT_ID, sdkType: "JsNext", serviceVersion: "3.0.0", host: url.slice("http://".length) });
    }
    assertNoSecrets(msgs, ["hunter2", "pages-secret", "user-secret", "client-secret", "server-secret", "sid=abc", "SECRET-SID", "tok-SECRET-123"]);

    const user = by("/api/users/42?tag=a&tag=b");
    assert.equal(user.url_path, "/api/users/:id", "derived from the path and the params");
    assert.deepEqual(user.path_params, { id: "42" });
    assert.deepEqual(user.query_params, { tag: ["a", "b"] });
    assert.equal(user.status_code, 200);
    assert.deepEqual(user.request_headers.authorization, ["[CLIENT_REDACTED]"]);
    assert.deepEqual(user.request_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
    assert.deepEqual(user.request_headers.cookie, ["[CLIENT_REDACTED]"]);
    assert.deepEqual(user.response_headers["x-api-key"], ["[CLIENT_REDACTED]"]);
    assert.deepEqual(user.response_headers["content-type"], ["application/json"]);
    assert.deepEqual(b64json(user.response_body), { id: "42", tags: ["a", "b"] });
    assert.equal(user.request_body, "");

    const created = by("/api/users/7", "POST");
    assert.equal(created.url_path, "/api/users/:id");
    assert.equal(created.status_code, 201);
    assert.deepEqual(b64json(created.request_body), { user: { name: "ann", password: "[CLIENT_REDACTED]" } });
    assert.deepEqual(b64json(created.response_body), { id: "7", token: "[CLIENT_REDACTED]", user: "ann", nextUrl: "/api/users/7" });
    assert.deepEqual(created.response_headers["set-cookie"], ["[CLIENT_REDACTED]"]);

    const order = by("/api/shops/1/orders/2");
    assert.equal(order.url_path, "/api/shops/:shopId/orders/:orderId", "from the route option");
    assert.deepEqual(order.path_params, { shopId: "1", orderId: "2" });

    const doc = by("/api/docs/guide/intro/setup");
    assert.equal(doc.url_path, "/api/docs/:slug*");
    assert.deepEqual(doc.path_params, { slug: "guide/intro/setup" });
    assert.equal(b64text(doc.response_body), "doc guide/intro/setup");

    const boom = by("/api/boom");
    assert.equal(boom.status_code, 500, "the status Next sent for the thrown error");
    assert.equal(boom.url_path, "/api/boom");
    assert.equal(boom.errors.length, 1);
    assert.equal(boom.errors[0]!.error_type, "Error");
    assert.equal(boom.errors[0]!.message, "outer failure");
    assert.equal(boom.errors[0]!.root_error_type, "TypeError");
    assert.equal(boom.errors[0]!.root_error_message, "inner cause");
    assert.match(boom.errors[0]!.stack_trace, /outer failure/);

    const report = by("/api/report");
    assert.equal(report.status_code, 200);
    assert.equal(report.errors.length, 1);
    assert.equal(report.errors[0]!.error_type, "RangeError");
    assert.equal(report.errors[0]!.message, "reported in handler");

    assert.equal(b64text(by("/api/stream").response_body), "alpha,beta,gamma");

    const hello = by("/api/hello");
    assert.equal(hello.url_path, "/api/hello");
    assert.equal(hello.status_code, 200);
    assert.deepEqual(b64json(hello.response_body), { hello: "world" });
    const helloPost = by("/api/hello", "POST");
    assert.equal(helloPost.status_code, 201);
    assert.deepEqual(b64json(helloPost.request_body), { user: { name: "bob", password: "[CLIENT_REDACTED]" } }, "the body Next parsed");
    assert.deepEqual(b64json(helloPost.response_body), { hello: "bob", token: "[CLIENT_REDACTED]" });

    const item = by("/api/items/9?view=full");
    assert.equal(item.url_path, "/api/items/:itemId");
    assert.deepEqual(item.path_params, { itemId: "9" });
    assert.deepEqual(item.query_params, { view: ["full"] });

    const failed = by("/api/items/3?fail=1");
    assert.equal(failed.status_code, 500);
    assert.equal(failed.url_path, "/api/items/:itemId");
    assert.deepEqual(failed.path_params, { itemId: "3" });
    assert.equal(failed.errors.length, 1);
    assert.equal(failed.errors[0]!.message, "pages failure");
    assert.equal(failed.errors[0]!.root_error_type, "RangeError");

    assert.deepEqual(await topic.drain(1000), [], "nothing extra published");
  });

  test("responses are the same as without the SDK", async () => {
    const post = (p: string) => fetch(url + p, { method: "POST", headers: { "content-type": "application/json" }, body: '{"user":{"name":"x"}}' });
    const pairs = await Promise.all([
      Promise.all([fetch(`${url}/api/users/5?tag=t`), fetch(`${url}/api/bare/users/5?tag=t`)]),
      Promise.all([post("/api/users/6"), post("/api/bare/users/6")]),
    ]);
    for (const [a, b] of pairs) {
      assert.equal(a.status, b.status);
      assert.deepEqual(headersOf(a), headersOf(b));
      const [ta, tb] = await Promise.all([a.text(), b.text()]);
      assert.equal(ta.replace("/api/users/", "/api/bare/users/"), tb);
    }
    assert.equal((await topic.pull(2)).length, 2, "the instrumented two were captured");
    assert.deepEqual(await topic.drain(800), [], "the bare two were not");
  });

  test("server-sent events pass through without delay", async () => {
    const res = await fetch(`${url}/api/sse?id=t1`);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("data: one\n\n")) {
      const { done, value } = await reader.read();
      assert.equal(done, false, "the first event arrives before the stream ends");
      text += decoder.decode(value, { stream: true });
    }
    const release = await fetch(`${url}/api/sse-release?id=t1`, { method: "POST" }).then((r) => r.json());
    assert.deepEqual(release, { secondProducedBefore: false, serializedWhileStreaming: 0 },
      "the client got the first event before the second was produced, and nothing was serialized meanwhile");
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    assert.equal(text, "event: tick\ndata: one\n\nevent: tick\ndata: two\n\n");
    const [m] = await topic.pull(1);
    assert.equal(m!.raw_url, "/api/sse?id=t1");
    assert.equal(m!.url_path, "/api/sse");
    assert.equal(m!.status_code, 200);
    assert.equal(b64text(m!.response_body), text);
  });

  test("a response without a body is handed back before its exchange is serialized", async () => {
    const res = await fetch(`${url}/api/order?id=o1`);
    assert.equal(res.status, 204);
    const probe = await fetch(`${url}/api/order-probe?id=o1`).then((r) => r.json());
    const [m] = await topic.pull(1); // before asserting: a failure here leaves no message to the next test
    assert.deepEqual(probe, { serializedBeforeHandedBack: 0 }, "no message built between the call and the Response handed back");
    assert.equal(m!.raw_url, "/api/order?id=o1");
    assert.equal(m!.url_path, "/api/order");
    assert.equal(m!.status_code, 204);
  });

  test("25 concurrent requests yield exactly 25 messages", async () => {
    const n = 25;
    const bodies = await Promise.all(Array.from({ length: n }, (_, i) => fetch(`${url}/api/users/u${i}?i=${i}`).then((r) => r.json())));
    bodies.forEach((b, i) => assert.deepEqual(b, { id: `u${i}`, tags: [] }));
    const msgs = await topic.pull(n);
    assert.equal(msgs.length, n);
    assert.equal(new Set(msgs.map((m) => m.raw_url)).size, n, "no duplicates");
    assert.equal(new Set(msgs.map((m) => m.msg_id)).size, n);
    for (const m of msgs) {
      assert.equal(m.url_path, "/api/users/:id");
      assert.equal(m.path_params.id, `u${m.query_params.i![0]}`);
    }
    assert.deepEqual(await topic.drain(800), []);
  });

  test("a request the client aborts is still reported", async () => {
    await new Promise<void>((resolve) => {
      const req = http.get(`${url}/api/slow`);
      req.on("error", () => resolve());
      setTimeout(() => req.destroy(), 100);
    });
    const [m] = await topic.pull(1, 5000);
    assert.ok(m, "aborted request published");
    assert.equal(m.raw_url, "/api/slow");
    assert.equal(m.url_path, "/api/slow");
    assert.equal(m.status_code, 499);
  });

  test("route templates are the routes Next matched, even when a param value equals a static segment", async () => {
    const responses = await Promise.all([fetch(`${url}/api/users/users`), fetch(`${url}/api/legacy/legacy`)]);
    assert.deepEqual(await Promise.all(responses.map((r) => r.json())), [{ id: "users", tags: [] }, { id: "legacy" }]);
    const msgs = await topic.pull(2);
    const app = one(msgs, "/api/users/users");
    assert.equal(app.url_path, "/api/users/:id", "App Router");
    assert.deepEqual(app.path_params, { id: "users" });
    const pages = one(msgs, "/api/legacy/legacy");
    assert.equal(pages.url_path, "/api/legacy/:id", "Pages Router");
    assert.deepEqual(pages.path_params, { id: "legacy" });
    assert.deepEqual(await topic.drain(800), []);
  });

  test("Pages API routes: raw_url keeps the query string, even a key named like a param", async () => {
    const responses = await Promise.all([fetch(`${url}/api/legacy/9?id=9`), fetch(`${url}/api/legacy/7?id=8&x=1`)]);
    assert.deepEqual(await Promise.all(responses.map((r) => r.json())), [{ id: "9" }, { id: "7" }], "Next gives the param precedence");
    const msgs = await topic.pull(2);
    const same = one(msgs, "/api/legacy/9?id=9");
    assert.equal(same.url_path, "/api/legacy/:id");
    assert.deepEqual(same.path_params, { id: "9" });
    assert.deepEqual(same.query_params, { id: ["9"] });
    const differs = one(msgs, "/api/legacy/7?id=8&x=1");
    assert.equal(differs.url_path, "/api/legacy/:id");
    assert.deepEqual(differs.path_params, { id: "7" });
    assert.deepEqual(differs.query_params, { id: ["8"], x: ["1"] });
    assert.deepEqual(await topic.drain(800), []);
  });

  test("methods a route does not export: Next's answers reach the client unchanged and are reported", async () => {
    const methods = ["POST", "DELETE", "OPTIONS", "HEAD"];
    const pairs = await Promise.all(methods.map((method) => Promise.all([fetch(`${url}/api/things/5`, { method }), fetch(`${url}/api/bare/things/5`, { method })])));
    for (const [a, b] of pairs) {
      assert.equal(a.status, b.status);
      assert.deepEqual(headersOf(a), headersOf(b));
      assert.equal(await a.text(), await b.text());
    }
    assert.deepEqual(pairs.map(([a]) => a.status), [405, 405, 204, 200]);
    assert.equal(pairs[2]![0].headers.get("allow"), "GET, HEAD, OPTIONS");
    const msgs = await topic.pull(methods.length);
    methods.forEach((method, i) => {
      const m = one(msgs, "/api/things/5", { method });
      assert.equal(m.status_code, pairs[i]![0].status, method);
      assert.equal(m.url_path, "/api/things/:id", method);
      assert.deepEqual(m.path_params, { id: "5" }, method);
      assert.equal(m.response_body, "", method);
    });
    assert.deepEqual(await topic.drain(800), [], "the bare route is not captured");
  });

  test("ignoreRequest, sample and the identity setters hold here too", async () => {
    // The fixture's client: ignoreRequest skips `x-probe: kube`, sample drops /api/users/sampled-out.
    const answers = await Promise.all([
      fetch(`${url}/api/users/1`, { headers: { "x-probe": "kube" } }),
      fetch(`${url}/api/users/sampled-out`),
      fetch(`${url}/api/whoami/n7`),
      fetch(`${url}/api/whoami/n8xx`),
    ]);
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200]);
    assert.deepEqual(await Promise.all(answers.map((r) => r.json())), [{ id: "1", tags: [] }, { id: "sampled-out", tags: [] }, { id: "n7" }, { id: "n8xx" }]);
    const msgs = await topic.pull(2, 15000);
    assert.deepEqual(msgs.map((m) => m.raw_url).sort(), ["/api/whoami/n7", "/api/whoami/n8xx"], "the ignored and the sampled-out requests are not published");
    for (const id of ["n7", "n8xx"]) {
      const m = one(msgs, `/api/whoami/${id}`);
      assert.deepEqual(m.tags, ["env:test", `user.id:u_${id}`, `user.email:${id}@example.com`, "user.full_name:Ann Lee", "tenant.id:t_7", "tenant.name:Acme", `session.id:s_${id}`, "plan:pro", `cart.items:${id.length}`, "beta:true"]);
    }
    assert.deepEqual(await topic.drain(1000), []);
  });

  test("paths no route handler serves are not captured", async () => {
    const res = await fetch(`${url}/api/nope`);
    assert.equal(res.status, 404);
    await res.text();
    assert.deepEqual(await topic.drain(1000), []);
  });
});

function headersOf(r: Response): Record<string, string> {
  const out: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (k !== "date") out[k] = v;
  });
  return out;
}

// The live viewer in a real browser (Debian's chromium driven by playwright-core): an Express app
// with the SDK, traffic with secrets in it, and the page a user opens. Rows arrive without a
// reload, outgoing calls sit under the request that made them, an opened exchange shows the marker
// where the secret was and the rule that fired, a drop is counted, and with an apiKey the page
// shows byte for byte what Pub/Sub got. Screenshots are kept in .tmp/viewer-screenshots/.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import express from "express5";
import { PubSub } from "@google-cloud/pubsub";
import type { Browser, Page } from "playwright-core";
import { APIToolkit, setAttributes, setSession, setTenant, setUser } from "../src/index.js";
import { expressMiddleware, expressErrorHandler } from "../src/integrations/express/index.js";
import { listen, type Listening } from "./helpers/server.js";
import { launchBrowser, screenshot } from "./helpers/browser.js";
import { createTestTopic, TEST_PROJECT, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";

// The page globals the functions evaluated in the browser touch (this project's tsconfig has no DOM lib).
declare const document: { querySelectorAll(selector: string): Iterable<{ textContent: string | null }> & { length: number } };
declare const navigator: { clipboard: { readText(): Promise<string> } };

const SECRETS = ["correct-horse-SECRET", "sid=SECRET-COOKIE", "Bearer upstream-SECRET", "tok-SECRET-123", "ak_live_SECRET", "4242424242424242"];

function recordingLogger() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };
}

/** An upstream the app calls (an outgoing call, nested under the request that made it). */
async function startUpstream(): Promise<Listening> {
  return listen(http.createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ quote: 42, path: req.url }));
  }));
}

/**
 * The app: served first (so its port can be told to the SDK: the test's own requests to it are
 * outgoing calls of this process, ignored), the client and routes after.
 */
async function startApp(options: ConstructorParameters<typeof APIToolkit>[0], upstream: string) {
  let handler: http.RequestListener = (_req, res) => void res.writeHead(503).end();
  const app = await listen(http.createServer((req, res) => handler(req, res)));
  const apitoolkit = new APIToolkit({
    redactHeaders: ["x-api-key"],
    redactRequestBody: ["$.password", "$.card.number"],
    redactResponseBody: ["$.token"],
    publishIntervalMs: 20,
    ...options,
    outgoing: { ignoreHosts: [new URL(app.url).host] },
  });
  const e = express();
  e.use(expressMiddleware(apitoolkit));
  e.use(express.json({ limit: "1mb" }));
  e.get("/users/:id", (req, res) => void res.json({ id: req.params.id, name: "Ada" }));
  e.post("/login", (req, res) => void res.status(201).json({ user: req.body?.username, token: "tok-SECRET-123" }));
  e.post("/echo", (req, res) => void res.json(req.body));
  e.get("/checkout", async (_req, res) => {
    const r = await fetch(`${upstream}/quote?item=7`, { headers: { authorization: "Bearer upstream-SECRET" } });
    res.json({ ok: true, upstream: await r.json() });
  });
  e.get("/who/:id", (req, res) => {
    setUser({ id: `u_${req.params.id}`, email: "ann@example.com", name: "Ann Lee" });
    setTenant({ id: "t_7", name: "Acme" });
    setSession("s_9f8e");
    setAttributes({ plan: "pro", seats: 3 });
    res.json({ ok: true });
  });
  e.get("/bin", (_req, res) => void res.type("application/x-thing").send(Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x80])));
  e.get("/fail", async () => {
    await new Promise((r) => setTimeout(r, 2));
    throw new Error("payment provider unreachable", { cause: new TypeError("ECONNREFUSED 10.0.0.7:443") });
  });
  e.use(expressErrorHandler(apitoolkit));
  e.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ error: "internal error" }));
  handler = e;
  return { apitoolkit, url: app.url, close: app.close };
}

async function send(url: string, init?: RequestInit): Promise<number> {
  const r = await fetch(url, init);
  await r.arrayBuffer();
  return r.status;
}

const login = (base: string) => send(`${base}/login`, {
  method: "POST",
  headers: { "content-type": "application/json", cookie: "sid=SECRET-COOKIE", "x-api-key": "ak_live_SECRET" },
  body: JSON.stringify({ username: "ada", password: "correct-horse-SECRET", card: { number: "4242424242424242" } }),
});

/** Wait until the list shows exactly these routes, top to bottom. */
async function shows(page: Page, routes: string[]): Promise<void> {
  await page.waitForFunction((want) => JSON.stringify([...document.querySelectorAll("#list tbody tr.row td.route")].map((td) => td.textContent)) === want, JSON.stringify(routes), { timeout: 10_000 });
}

/** The rows of the list, top to bottom, as a user reads them. */
function rows(page: Page) {
  return page.locator("#list tbody tr.row").evaluateAll((trs) => trs.map((tr) => ({
    child: tr.classList.contains("child"),
    cells: [...tr.querySelectorAll("td")].map((td) => td.textContent ?? ""),
  })));
}

describe("the viewer in a browser", () => {
  let browser: Browser | undefined;
  let upstream: Listening;

  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await browser?.close();
    await upstream?.close();
  });

  test("no apiKey: live rows, nested outgoing calls, markers, the rules that fired, errors, filters, pause, drops", async (t) => {
    browser = await launchBrowser(t);
    if (!browser) return;
    const logger = recordingLogger();
    const app = await startApp({ viewer: true, logger, maxQueueBytes: 65536 }, upstream.url);
    t.after(async () => {
      await app.apitoolkit.close(2000);
      await app.close();
    });
    const url = await app.apitoolkit.viewerURL();
    assert.match(url ?? "", /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(logger.lines.filter((l) => l.startsWith("info") && l.includes(url!)).length, 1, "the URL is logged once at info level");
    assert.ok(!logger.lines.some((l) => l.includes("W_NO_API_KEY")), "no key with the viewer on is not a misconfiguration");

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url!.replace(/\/$/, "") });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => void (m.type() === "error" && pageErrors.push(m.text())));
    await page.goto(url!);
    await page.locator("#conn", { hasText: "live" }).waitFor();
    assert.deepEqual(await rows(page), []);

    // Rows arrive as traffic is captured, without a reload, newest first.
    assert.equal(await send(`${app.url}/users/42?fields=name&fields=email`), 200);
    await page.locator("#list tr.row", { hasText: "/users/:id" }).waitFor({ timeout: 10_000 });
    assert.equal(await login(app.url), 201);
    await page.locator("#list tr.row", { hasText: "/login" }).waitFor({ timeout: 10_000 });
    let list = await rows(page);
    assert.deepEqual(list.map((r) => r.cells.slice(1, 5)), [
      ["POST", "/login", "/login", "201"],
      ["GET", "/users/:id", "/users/42?fields=name&fields=email", "200"],
    ]);
    assert.match(list[0]!.cells[5]!, /\d+(\.\d+)? (µs|ms|s)$/, "duration shown");
    assert.equal(list[0]!.cells[6], "JsExpress");

    // The outgoing call is nested under the request that made it.
    assert.equal(await send(`${app.url}/checkout`), 200);
    await page.locator("#list tr.row.child").waitFor({ timeout: 10_000 });
    list = await rows(page);
    const at = list.findIndex((r) => r.cells[2] === "/checkout");
    assert.ok(at >= 0, "the /checkout row is shown");
    assert.equal(list[at + 1]?.child, true, "the row under /checkout is its outgoing call");
    assert.match(list[at + 1]!.cells[3]!, /^127\.0\.0\.1:\d+\/quote\?item=7$/);
    assert.equal(list[at + 1]!.cells[6], "JsOutgoing");

    // Open /login: the marker where each secret was, and which rule fired (paths and counts, no values).
    await page.locator("#list tr.row", { hasText: "/login" }).click();
    await page.locator("#redactions tr.hit").first().waitFor();
    const body = await page.locator("#request-body pre").textContent();
    assert.match(body!, /"password": "\[CLIENT_REDACTED\]"/, "pretty JSON with the marker");
    assert.equal(await page.locator("#request-body mark.redacted").count(), 2);
    assert.match((await page.locator("#response-body pre").textContent())!, /"token": "\[CLIENT_REDACTED\]"/);
    const hits = await page.locator("#redactions tr.hit").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    assert.deepEqual(hits.sort(), [
      ["$.card.number", "request body", "$.card.number", "1"],
      ["$.password", "request body", "$.password", "1"],
      ["$.token", "response body", "$.token", "1"],
      ["cookie", "request headers", "cookie", "1"],
      ["x-api-key", "request headers", "x-api-key", "1"],
    ]);
    await screenshot(page, "viewer-login-opened");
    const detail = (await page.locator("#detail").textContent())!;
    for (const secret of SECRETS) assert.ok(!detail.includes(secret), `the page never shows ${secret}`);

    // Copy as curl, with the redacted values.
    const curl = (await page.locator("#curl").textContent())!;
    assert.match(curl, /^curl -X POST 'http:\/\/127\.0\.0\.1:\d+\/login'/);
    assert.match(curl, /-H 'cookie: \[CLIENT_REDACTED\]'/);
    assert.match(curl, /--data-raw '\{"username":"ada","password":"\[CLIENT_REDACTED\]"/);
    await page.locator("#copy-curl").click();
    await page.locator(".actions", { hasText: "copied" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), curl);

    // The outgoing call: its redacted authorization header; the parent is one click away.
    await page.locator("#list tr.row.child").click();
    await page.locator("#redactions tr.hit").first().waitFor();
    assert.deepEqual(await page.locator("#redactions tr.hit td").allTextContents(), ["authorization", "request headers", "authorization", "1"]);

    // Errors with their stacks.
    assert.equal(await send(`${app.url}/fail`), 500);
    await page.locator("#list tr.row", { hasText: "/fail" }).click();
    await page.locator("#errors .error-head").waitFor();
    assert.equal(await page.locator("#errors .error-head").textContent(), "Error: payment provider unreachable");
    assert.match((await page.locator("#errors").textContent())!, /root cause: TypeError: ECONNREFUSED 10\.0\.0\.7:443/);
    assert.match((await page.locator("#errors pre.stack").textContent())!, /^Error: payment provider unreachable\n\s+at /);

    // A body that is not text: a marker, not mojibake.
    assert.equal(await send(`${app.url}/bin`), 200);
    await page.locator("#list tr.row", { hasText: "/bin" }).click();
    assert.equal(await page.locator("#response-body pre.binary").textContent(), "[binary body, 5 bytes: not shown]");

    // Filters: method, status class, route, text search.
    const all = ["/bin", "/fail", "/checkout", "/quote", "/login", "/users/:id"];
    await shows(page, all);
    await page.selectOption("#f-status", "5xx");
    await shows(page, ["/fail"]);
    await page.selectOption("#f-status", "");
    await page.selectOption("#f-method", "POST");
    await shows(page, ["/login"]);
    await page.selectOption("#f-method", "");
    await page.fill("#f-route", "users");
    await shows(page, ["/users/:id"]);
    await page.fill("#f-route", "");
    await page.fill("#f-q", "ECONNREFUSED");
    await shows(page, ["/fail"]);
    await page.fill("#f-q", "correct-horse"); // the secret never reached the viewer: nothing to find
    await shows(page, []);
    await page.fill("#f-q", "");
    await shows(page, all);

    // Pause: new exchanges wait, counted, until resumed.
    const before = await page.locator("#list tbody tr.row").count();
    await page.click("#pause");
    assert.equal(await send(`${app.url}/users/7`), 200);
    await page.locator("#pause", { hasText: "Resume (1 new)" }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#list tbody tr.row").count(), before);
    await page.fill("#f-route", "users"); // filtering while paused does not let it in either
    await shows(page, ["/users/:id"]);
    assert.deepEqual((await rows(page)).map((r) => r.cells[3]), ["/users/42?fields=name&fields=email"]);
    await page.fill("#f-route", "");
    await shows(page, all);
    await page.click("#pause");
    await page.locator("#list tr.row", { hasText: "/users/7" }).waitFor();

    // A drop, counted by reason: a message larger than maxQueueBytes (64 KiB) is queue_full.
    assert.equal(await send(`${app.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ blob: "x".repeat(50_000) }) }), 200);
    await page.locator("#drops tr[data-reason=queue_full]", { hasText: "1" }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#drops tr[data-reason=queue_full] td.count").textContent(), "1");
    assert.equal(await page.locator("#stat-dropped").textContent(), "1");
    assert.equal(app.apitoolkit.stats().dropped.queue_full, 1);
    // The chart is fed once a second.
    await page.waitForFunction(() => document.querySelectorAll("#spark polyline.cap").length === 1);

    await page.locator("#list tr.row", { hasText: "/login" }).click();
    await page.locator("#redactions tr.hit").first().waitFor();
    await screenshot(page, "viewer");
    assert.deepEqual(pageErrors, [], "no script error on the page");
    await context.close();
  });

  test("with an apiKey too: the page shows byte for byte what Pub/Sub received, project id stamped", async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const topic: TestTopic = await createTestTopic("viewer");
    const meta: MetadataServer = await startMetadataServer(topic.topicId);
    // A subscription of this test that keeps the raw bytes.
    const pubsub = new PubSub({ projectId: TEST_PROJECT, credentials: { client_email: "test@example.com", private_key: "unused" } });
    const [sub] = await pubsub.topic(topic.topicId).createSubscription(`${topic.topicId}-raw`);
    const published: string[] = [];
    sub.on("message", (m) => {
      m.ack();
      published.push(m.data.toString("utf8"));
    });
    const app = await startApp({ apiKey: GOOD_KEY, rootURL: meta.url, viewer: true, logger: recordingLogger() }, upstream.url);
    t.after(async () => {
      await app.apitoolkit.close(2000);
      await app.close();
      await sub.close();
      await pubsub.close();
      await topic.close();
      await meta.close();
    });
    const page = await browser.newPage();
    await page.goto((await app.apitoolkit.viewerURL())!);
    await page.locator("#conn", { hasText: "live" }).waitFor();
    assert.equal(await login(app.url), 201);
    assert.equal(await send(`${app.url}/checkout`), 200);
    assert.ok(await app.apitoolkit.flush(10_000));
    await page.waitForFunction(() => document.querySelectorAll("#list tbody tr.row").length === 3, undefined, { timeout: 10_000 });
    const deadline = Date.now() + 15_000;
    while (published.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(published.length, 3, "three messages on Pub/Sub");

    // What the page holds: the text of each exchange, exactly as it came over the stream.
    const shown: string[] = [];
    for (const row of await page.locator("#list tbody tr.row").all()) {
      await row.click();
      shown.push((await page.locator("#detail pre.raw").textContent())!);
    }
    assert.deepEqual([...shown].sort(), [...published].sort(), "the same bytes");
    for (const text of shown) assert.equal(JSON.parse(text).project_id, PROJECT_ID);
    for (const secret of SECRETS) assert.ok(!shown.join("\n").includes(secret), `${secret} is not shown`);
    await page.close();
  });

  test("who is calling: the user, tenant and session the app set are shown on the exchange", async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const app = await startApp({ viewer: true, logger: recordingLogger() }, upstream.url);
    t.after(async () => {
      await app.apitoolkit.close(2000);
      await app.close();
    });
    const page = await browser.newPage();
    await page.goto((await app.apitoolkit.viewerURL())!);
    await page.locator("#conn", { hasText: "live" }).waitFor();
    assert.equal(await send(`${app.url}/who/42`), 200);
    await page.locator("#list tr.row", { hasText: "/who/" }).click();
    const table = await page.locator("#detail table.kv").first().locator("tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    const shown = Object.fromEntries(table.map(([k, v]) => [k, v]));
    assert.equal(shown["user.id"], "u_42");
    assert.equal(shown["user.email"], "ann@example.com");
    assert.equal(shown["user.full_name"], "Ann Lee");
    assert.equal(shown["tenant.id"], "t_7");
    assert.equal(shown["tenant.name"], "Acme");
    assert.equal(shown["session.id"], "s_9f8e");
    assert.match(String(shown.tags), /plan:pro, seats:3/, "the app's own attributes are in the tags");
    await page.close();
  });
});

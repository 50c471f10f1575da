// The viewer off costs nothing: its code is not even loaded (watched with a module loader hook in a
// fresh process). And the pieces that need no browser: the option's validation, the redaction
// report worked out from a redacted message, the history's byte budget.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { APIToolkit, REDACTED, type WireMessage } from "../../src/index.js";
import { compileRules, redactionReport, FAIL_CLOSED } from "../../src/viewer/report.js";
import { History } from "../../src/viewer/history.js";

const root = path.resolve(import.meta.dirname, "../..");

// Reports every module URL the process loads, through a MessagePort, to the main thread.
const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) { port.postMessage(url); return next(url, context); }
`;

/** The source files a fresh process loads while it serves one request through Express with these options. */
async function modulesLoaded(options: string): Promise<string[]> {
  const script = `
    import { register } from "node:module";
    import { MessageChannel } from "node:worker_threads";
    const { port1, port2 } = new MessageChannel();
    const loaded = [];
    port1.on("message", (u) => loaded.push(u));
    port1.unref();
    register("data:text/javascript," + encodeURIComponent(${JSON.stringify(HOOKS)}), { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
    const { APIToolkit } = await import("./src/index.ts");
    const { expressMiddleware } = await import("./src/integrations/express/index.ts");
    const { default: express } = await import("express5");
    const sent = [];
    const apitoolkit = new APIToolkit({ logger: { info() {}, warn() {}, error() {} }, publishIntervalMs: 5,
      transport: () => ({ send: async (m) => void sent.push(...m), close: async () => {} }), ...${options} });
    await apitoolkit.viewerURL();
    const app = express();
    app.use(expressMiddleware(apitoolkit));
    app.get("/users/:id", (req, res) => res.json({ id: req.params.id }));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const r = await fetch("http://127.0.0.1:" + server.address().port + "/users/1");
    await r.text();
    await apitoolkit.flush(2000);
    await apitoolkit.close(1000);
    server.close();
    await new Promise((r) => setTimeout(r, 200)); // the last loader messages
    if (sent.length < 1) throw new Error("nothing was delivered: the probe is broken");
    console.log(JSON.stringify(loaded.filter((u) => u.includes("/src/")).map((u) => new URL(u).pathname)));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, timeout: 60_000 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as string[];
}

describe("the viewer off costs nothing", () => {
  test("without the option, no module of src/viewer/ is loaded, capture and delivery running", async () => {
    const loaded = await modulesLoaded("{}");
    assert.ok(loaded.some((p) => p.endsWith("/src/client.ts")), "the probe sees the SDK's modules load");
    assert.ok(loaded.some((p) => p.endsWith("/src/integrations/express/index.ts")));
    assert.deepEqual(loaded.filter((p) => p.includes("/src/viewer/")), []);
  });

  test("viewer: false is off too; viewer: true loads it (the probe can tell)", async () => {
    assert.deepEqual((await modulesLoaded("{ viewer: false }")).filter((p) => p.includes("/src/viewer/")), []);
    const on = await modulesLoaded("{ viewer: true }");
    assert.ok(on.some((p) => p.endsWith("/src/viewer/index.ts")), "loaded when the option is set");
    assert.ok(on.some((p) => p.endsWith("/src/viewer/server.ts")));
  });

  test("viewerURL() is undefined when the viewer is off", async () => {
    const a = new APIToolkit({ transport: () => ({ send: async () => {}, close: async () => {} }), logger: { info() {}, warn() {}, error() {} } });
    assert.equal(await a.viewerURL(), undefined);
    await a.close(100);
  });
});

describe("the viewer option", () => {
  test("invalid values throw at construction, naming the option", () => {
    const bad: Array<[unknown, RegExp]> = [
      ["yes", /viewer must be true, false or an object/],
      [{ prt: 7070 }, /unknown option "viewer\.prt"/],
      [{ port: 70000 }, /viewer\.port must be an integer between 0 and 65535/],
      [{ port: 1.5 }, /viewer\.port/],
      [{ host: "" }, /viewer\.host must be a non-empty string/],
      [{ maxHistoryBytes: 10 }, /viewer\.maxHistoryBytes must be an integer/],
    ];
    for (const [viewer, message] of bad) {
      assert.throws(() => new APIToolkit({ viewer: viewer as never }), (err: Error & { code?: string }) => err.code === "ERR_INVALID_OPTION" && message.test(err.message), String(JSON.stringify(viewer)));
    }
  });
});

const b64 = (s: string) => Buffer.from(s).toString("base64");
function message(over: Partial<WireMessage>): WireMessage {
  return {
    duration: 1, host: "api.local", method: "POST", path_params: {}, project_id: "00000000-0000-4000-8000-000000000000",
    proto_major: 1, proto_minor: 1, query_params: {}, raw_url: "/x", referer: "", request_body: "", request_headers: {},
    response_body: "", response_headers: {}, sdk_type: "JsExpress", status_code: 200, timestamp: "2026-01-01T00:00:00.000Z",
    msg_id: "8d2f1a8e-6c1b-4a53-9e55-2f3c1c0b9a11", errors: [], ...over,
  };
}

describe("the redaction report, worked out from the redacted message", () => {
  const rules = compileRules({
    redactRequestBody: ["$.password", "$..cvv"],
    redactResponseBody: ["$.token"],
    outgoing: { redactRequestBody: ["$.secret"], destinations: [{ host: "api.stripe.com", redactRequestBody: ["$.card"] }] },
  });

  test("headers by name, body paths by the rule that selects them, with counts and no values", () => {
    const m = message({
      request_headers: { authorization: [REDACTED], "set-cookie": [REDACTED, REDACTED], accept: ["*/*"] },
      request_body: b64(JSON.stringify({ password: REDACTED, card: { cvv: REDACTED }, items: [{ cvv: REDACTED }], note: "fine" })),
      response_body: b64(JSON.stringify({ token: REDACTED, id: 1 })),
    });
    assert.deepEqual(redactionReport(m, rules), [
      { rule: "authorization", where: "request headers", paths: ["authorization"], count: 1 },
      { rule: "set-cookie", where: "request headers", paths: ["set-cookie"], count: 2 },
      { rule: "$.password", where: "request body", paths: ["$.password"], count: 1 },
      { rule: "$..cvv", where: "request body", paths: ["$.card.cvv", "$.items[0].cvv"], count: 2 },
      { rule: "$.token", where: "response body", paths: ["$.token"], count: 1 },
    ]);
  });

  test("a whole body that could not be checked is named as such; a form body is read as a form", () => {
    const m = message({
      request_headers: { "content-type": ["application/x-www-form-urlencoded"] },
      request_body: b64(`user=ada&password=${encodeURIComponent(REDACTED)}`),
      response_body: b64(JSON.stringify(REDACTED)),
    });
    assert.deepEqual(redactionReport(m, rules), [
      { rule: "$.password", where: "request body", paths: ["$.password"], count: 1 },
      { rule: FAIL_CLOSED, where: "response body", paths: ["$"], count: 1 },
    ]);
  });

  test("outgoing rules count for outgoing calls only", () => {
    const body = b64(JSON.stringify({ secret: REDACTED, card: REDACTED }));
    assert.deepEqual(redactionReport(message({ sdk_type: "JsOutgoing", request_body: body }), rules).map((h) => h.rule), [
      "outgoing: $.secret",
      "outgoing.destinations[0] (api.stripe.com): $.card",
    ]);
    const incoming = redactionReport(message({ request_body: body }), rules);
    assert.deepEqual(incoming.map((h) => [h.rule, h.paths]), [["marker with no configured path (another rule or a depth cap)", ["$.secret", "$.card"]]]);
  });

  test("nothing redacted, nothing reported; a body with no marker is not even parsed", () => {
    assert.deepEqual(redactionReport(message({ request_body: b64('{"a":1}'), response_body: b64("not json") }), rules), []);
  });
});

describe("the history", () => {
  test("holds the newest within its byte budget, counts what it dropped, finds by sequence number", () => {
    const h = new History(100);
    for (let i = 0; i < 10; i++) h.add(`m${i}`.padEnd(30, "."), 30);
    assert.equal(h.size, 3);
    assert.equal(h.bytes, 90);
    assert.equal(h.evicted, 7);
    assert.deepEqual(h.since(0).map((m) => m.seq), [8, 9, 10]);
    assert.deepEqual(h.since(9).map((m) => m.seq), [10]);
    assert.equal(h.get(9)?.text.slice(0, 2), "m8");
    assert.equal(h.get(2), undefined);
    const big = h.add("x".repeat(200), 200);
    assert.equal(big.seq, 11);
    assert.equal(h.get(11), undefined, "larger than the budget: shown live, never held");
    assert.equal(h.evicted, 8);
    assert.equal(h.size, 3);
  });
});

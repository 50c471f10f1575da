// The client's life cycle: options validated once, bootstrap that never blocks or crashes the app
// (wrong key, unreachable rootURL, no key), and errors normalised into the wire's six fields.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import express from "express5";
import { APIToolkit, APIToolkitConfigError, reportError } from "../src/index.js";
import { normalizeError } from "../src/capture/errors.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { startMetadataServer, GOOD_KEY } from "./helpers/metadata.js";
import { listen } from "./helpers/server.js";
import { freePort } from "../scripts/emulator.mjs";

function recordingLogger() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };
}

async function appServes(apitoolkit: APIToolkit, n = 5) {
  const app = express();
  app.use(express.json());
  app.use(expressMiddleware(apitoolkit));
  app.post("/echo", (req, res) => res.json(req.body));
  const srv = await listen(http.createServer(app));
  try {
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${srv.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ i }) });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { i });
    }
  } finally {
    await srv.close();
  }
}

async function until(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

describe("options", () => {
  test("an invalid JSONPath throws at construction, naming the option and the path", () => {
    assert.throws(
      () => new APIToolkit({ apiKey: "k", redactRequestBody: ["$.ok", "$.user[?"], logger: recordingLogger() }),
      (err: unknown) => err instanceof APIToolkitConfigError && err.code === "ERR_INVALID_JSONPATH" && /redactRequestBody/.test(err.message) && err.message.includes("$.user[?"),
    );
  });
  test("unknown options, bad types and bad URLs throw coded errors", () => {
    assert.throws(() => new APIToolkit({ apiKey: "k", nope: 1 } as never), /ERR_INVALID_OPTION.*unknown option "nope"/);
    assert.throws(() => new APIToolkit({ apiKey: "k", maxBodyBytes: -1 }), /ERR_INVALID_OPTION.*maxBodyBytes/);
    assert.throws(() => new APIToolkit({ apiKey: "k", redactHeaders: "authorization" as never }), /redactHeaders must be an array/);
    assert.throws(() => new APIToolkit({ apiKey: "k", rootURL: "ftp://x" }), /ERR_INVALID_URL/);
  });
  test("no API key: one warning, the SDK is disabled and the app is unaffected", async () => {
    const logger = recordingLogger();
    const saved = process.env.APITOOLKIT_KEY;
    delete process.env.APITOOLKIT_KEY;
    try {
      const a = new APIToolkit({ logger });
      await appServes(a);
      assert.equal(a.stats().state, "disabled");
      assert.equal(a.stats().captured, 0);
      assert.equal(logger.lines.filter((l) => l.startsWith("warn")).length, 1);
      assert.match(logger.lines[0]!, /W_NO_API_KEY/);
      assert.equal(await a.flush(100), true);
      await a.close(100);
    } finally {
      if (saved !== undefined) process.env.APITOOLKIT_KEY = saved;
    }
  });
});

describe("bootstrap", () => {
  test("the constructor returns before client_metadata answers", async () => {
    const meta = await startMetadataServer("unused-topic", { delayMs: 1500 });
    const a = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, logger: recordingLogger(), transport: () => ({ send: async () => {}, close: async () => {} }) });
    assert.equal(a.stats().state, "pending");
    assert.ok(await until(() => a.stats().state === "ready"));
    assert.equal(meta.calls[0]!.authorization, `Bearer ${GOOD_KEY}`);
    await a.close(500);
    await meta.close();
  });

  test("a wrong key: one 'invalid API key' line, publishing disabled, the app serves normally", async () => {
    const meta = await startMetadataServer("unused-topic");
    const logger = recordingLogger();
    const a = new APIToolkit({ apiKey: "wrong-key", rootURL: meta.url, logger });
    assert.ok(await until(() => a.stats().state === "disabled"));
    await appServes(a, 10);
    const warnings = logger.lines.filter((l) => l.startsWith("warn"));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /invalid API key/);
    assert.ok(!logger.lines.join("\n").includes("wrong-key"), "the key is never logged");
    assert.equal(meta.calls.length, 1, "no retry after a 401");
    await a.close(500);
    await meta.close();
  });

  test("an unreachable rootURL: the app serves normally, exchanges wait (bounded) in the queue", async () => {
    const port = await freePort();
    const logger = recordingLogger();
    const a = new APIToolkit({ apiKey: GOOD_KEY, rootURL: `http://127.0.0.1:${port}`, logger, debug: true, monitorOutgoing: false });
    await appServes(a, 10);
    const s = a.stats();
    assert.equal(s.state, "pending");
    assert.equal(s.captured, 10);
    assert.equal(s.queueItems, 10);
    assert.ok(s.queueBytes > 0);
    assert.ok(logger.lines.some((l) => l.includes("W_BOOTSTRAP_RETRY")));
    assert.ok(!logger.lines.join("\n").includes(GOOD_KEY), "debug output never shows the key");
    assert.equal(await a.flush(200), false, "flush is bounded and says it timed out");
    await a.close(200);
    assert.equal(a.stats().dropped.shutdown, 10, "what could not be published is counted");
  });

  test("5xx answers are retried until client_metadata works, then the queue is published", async () => {
    const meta = await startMetadataServer("unused-topic", { status: 503 });
    const sent: Buffer[] = [];
    const a = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, logger: recordingLogger(), publishIntervalMs: 10, monitorOutgoing: false, transport: () => ({ send: async (m) => void sent.push(...m), close: async () => {} }) });
    await appServes(a, 3);
    assert.ok(await until(() => meta.calls.length >= 1));
    meta.setStatus(200);
    assert.equal(await a.flush(10_000), true);
    assert.equal(sent.length, 3);
    assert.ok(meta.calls.length >= 2);
    await a.close(500);
    await meta.close();
  });
});

describe("errors", () => {
  test("normalizeError handles cause chains, AggregateError, strings, objects and null", () => {
    const e = normalizeError(new Error("top", { cause: new Error("mid", { cause: new SyntaxError("root") }) }));
    assert.equal(e.error_type, "Error");
    assert.equal(e.root_error_type, "SyntaxError");
    assert.equal(e.root_error_message, "root");
    assert.match(e.stack_trace, /top/);
    const agg = normalizeError(new AggregateError([new Error("a"), "b"], "many"));
    assert.equal(agg.error_type, "AggregateError");
    assert.match(agg.message, /many.*a.*b/);
    assert.deepEqual(Object.keys(normalizeError("plain")).sort(), ["error_type", "message", "root_error_message", "root_error_type", "stack_trace", "when"]);
    assert.equal(normalizeError("plain").message, "plain");
    assert.equal(normalizeError({ code: 42 }).message, '{"code":42}');
    assert.equal(normalizeError(null).error_type, "null");
    const cyclic: { cause?: unknown } & Error = new Error("loop");
    cyclic.cause = cyclic;
    assert.equal(normalizeError(cyclic).root_error_message, "loop");
    for (const v of Object.values(normalizeError(undefined))) assert.equal(typeof v, "string");
  });
  test("reportError outside a request neither throws nor rejects", () => {
    assert.doesNotThrow(() => reportError(new Error("nowhere")));
    assert.doesNotThrow(() => reportError(undefined));
  });
  test("previewRedaction shows what a rule hides", async () => {
    const a = new APIToolkit({ apiKey: "k", rootURL: "http://127.0.0.1:9", redactRequestBody: ["$..password", "$.cards[*].cvv"], logger: recordingLogger() });
    assert.equal(
      a.previewRedaction("request", { user: { password: "p" }, cards: [{ cvv: "1", n: 2 }] }),
      '{"user":{"password":"[CLIENT_REDACTED]"},"cards":[{"cvv":"[CLIENT_REDACTED]","n":2}]}',
    );
    assert.equal(a.previewRedaction("request", "{not json"), '"[CLIENT_REDACTED]"');
    await a.close(100);
  });
});

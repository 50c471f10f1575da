// Delivery accounting and bounds, through the public API: real Express apps on loopback, the
// client_metadata stand-in, and custom transports (the emulator is not needed for what is tested here).
// Every loss is counted under one reason and gives one warning; flush and close keep their bounds;
// one classification of transport errors; ignorePaths RegExps with /g or /y match every request.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import zlib from "node:zlib";
import express from "express5";
import { APIToolkit, type Transport, type WireMessage } from "../../src/index.js";
import { expressMiddleware } from "../../src/integrations/express/index.js";
import { WARNINGS } from "../../src/registry/codes.js";
import { newStats } from "../../src/delivery/stats.js";
import { GIVE_UP_AFTER_FAILURES, SPLIT_AFTER_FAILURES } from "../../src/delivery/delivery.js";
import { startMetadataServer, GOOD_KEY } from "../helpers/metadata.js";
import { listen, b64text, type Listening } from "../helpers/server.js";
import { freePort } from "../../scripts/emulator.mjs";

function recordingLogger() {
  const lines: string[] = [];
  return {
    lines,
    warnings: (code: string) => lines.filter((l) => l.startsWith("warn") && l.includes(`${code}:`)).length,
    info: (m: string) => void lines.push(`info ${m}`),
    warn: (m: string) => void lines.push(`warn ${m}`),
    error: (m: string) => void lines.push(`error ${m}`),
  };
}

/** A transport that keeps what it is sent (decoded). */
function memoryTransport() {
  const sent: WireMessage[] = [];
  const transport: Transport = {
    send: async (messages) => void sent.push(...messages.map((m) => JSON.parse(m.toString("utf8")) as WireMessage)),
    close: async () => undefined,
  };
  return { sent, factory: () => transport };
}

/** Failures after which a message alone could be given up: one split (9 -> 5 + 4 ...) and the give-up count. */
const GIVE_UP_TOTAL = SPLIT_AFTER_FAILURES + GIVE_UP_AFTER_FAILURES;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(20);
  return cond();
}

type Setup = (app: express.Express) => void;
async function serve(apitoolkit: APIToolkit, setup: Setup = () => undefined): Promise<Listening> {
  const app = express();
  app.use(expressMiddleware(apitoolkit));
  app.use(express.json());
  setup(app);
  app.get("/ping", (_req, res) => void res.send("pong"));
  app.get("/health", (_req, res) => void res.send("ok"));
  app.post("/echo", (req, res) => void res.json(req.body));
  return listen(http.createServer(app));
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

describe("drops are settled and counted", () => {
  test("a 401 arriving after exchanges were queued: close() returns at once, the drops are invalid_api_key", async () => {
    const meta = await startMetadataServer("unused-topic", { delayMs: 700 });
    const logger = recordingLogger();
    const a = new APIToolkit({ apiKey: "wrong-key", rootURL: meta.url, logger, monitorOutgoing: false });
    const srv = await serve(a);
    try {
      for (let i = 0; i < 4; i++) assert.deepEqual(await get(`${srv.url}/ping`), { status: 200, body: "pong" });
      assert.equal(a.stats().state, "pending", "the requests were made before client_metadata answered");
      assert.equal(a.stats().captured, 4);
      assert.ok(await until(() => a.stats().state === "disabled"));
      const t0 = Date.now();
      assert.equal(await a.flush(3000), true, "flush settles: the dropped exchanges are accounted for");
      await a.close(3000);
      assert.ok(Date.now() - t0 < 1000, `close() took ${Date.now() - t0} ms`);
      const s = a.stats();
      assert.equal(s.dropped.invalid_api_key, 4);
      assert.equal(s.queueItems, 0);
      assert.equal(logger.warnings("W_INVALID_API_KEY"), 1);
    } finally {
      await srv.close();
      await meta.close();
    }
  });

  test("queuePeakBytes keeps the highest queueBytes, never above maxQueueBytes, after the queue drains", async () => {
    // A transport held until released: the queue fills to its budget, the rest is queue_full.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const sent: Buffer[] = [];
    const transport: Transport = { send: async (m) => { await held; sent.push(...m); }, close: async () => undefined };
    const a = new APIToolkit({ transport: () => transport, logger: recordingLogger(), monitorOutgoing: false, publishIntervalMs: 10, maxQueueBytes: 64 * 1024 });
    const srv = await serve(a);
    try {
      const body = JSON.stringify({ pad: "x".repeat(8000) });
      let highest = 0;
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${srv.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body });
        assert.equal(r.status, 200);
        await r.text();
        highest = Math.max(highest, a.stats().queueBytes);
      }
      const full = a.stats();
      assert.ok(full.dropped.queue_full > 0, "the budget was reached");
      assert.ok(highest > 32 * 1024, `the queue filled (${highest} bytes)`);
      assert.ok(full.queuePeakBytes >= highest && full.queuePeakBytes <= 64 * 1024, `peak ${full.queuePeakBytes}, highest seen ${highest}`);
      release();
      assert.equal(await a.flush(5000), true);
      const after = a.stats();
      assert.equal(after.queueBytes, 0);
      assert.equal(after.queuePeakBytes, full.queuePeakBytes, "the peak stays after the queue drains");
      assert.equal(sent.length, full.captured, "everything the budget held was delivered");
    } finally {
      release();
      await a.close(500);
      await srv.close();
    }
  });

  test("a request in flight when close() is called is counted as a shutdown drop, its response unchanged", async () => {
    const mem = memoryTransport();
    const a = new APIToolkit({ transport: mem.factory, logger: recordingLogger(), monitorOutgoing: false, publishIntervalMs: 10 });
    const srv = await serve(a, (app) => app.get("/slow", (_req, res) => void setTimeout(() => res.send("late"), 400)));
    try {
      const pending = get(`${srv.url}/slow`);
      await sleep(50);
      await a.close(100);
      assert.deepEqual(await pending, { status: 200, body: "late" });
      assert.ok(await until(() => a.stats().dropped.shutdown === 1, 2000), JSON.stringify(a.stats()));
      assert.equal(mem.sent.length, 0);
    } finally {
      await srv.close();
    }
  });

  test("a capture that fails (a parsedBody getter that throws) is counted as capture_failed; the response is unchanged", async () => {
    const mem = memoryTransport();
    const logger = recordingLogger();
    const a = new APIToolkit({ transport: mem.factory, logger, monitorOutgoing: false, publishIntervalMs: 10 });
    const srv = await serve(a, (app) => {
      app.get("/trap", (req, res) => {
        Object.defineProperty(req, "body", { configurable: true, get() { throw new Error("body getter exploded"); } });
        res.json({ ok: true });
      });
    });
    try {
      for (let i = 0; i < 3; i++) assert.deepEqual(await get(`${srv.url}/trap`), { status: 200, body: '{"ok":true}' });
      assert.deepEqual(await get(`${srv.url}/ping`), { status: 200, body: "pong" });
      assert.equal(await a.flush(2000), true);
      const s = a.stats();
      assert.equal(s.dropped.capture_failed, 3);
      assert.equal(s.published, 1, "the other requests are still captured");
      assert.equal(logger.warnings("W_CAPTURE_FAILED"), 1, "warned once");
      assert.ok(logger.lines.some((l) => l.includes("body getter exploded")));
    } finally {
      await a.close(500);
      await srv.close();
    }
  });

  test("a capture that fails while starting is counted once as capture_failed, and not delivered as well", async () => {
    const mem = memoryTransport();
    const logger = recordingLogger();
    const a = new APIToolkit({ transport: mem.factory, logger, monitorOutgoing: false, publishIntervalMs: 10 });
    const app = express();
    // Mounted before the SDK: a request property the SDK cannot observe (the route tracker redefines it).
    app.use((req, _res, next) => {
      if (req.url === "/locked") Object.defineProperty(req, "baseUrl", { value: "", writable: true, configurable: false });
      next();
    });
    app.use(expressMiddleware(a));
    app.get("/locked", (_req, res) => void res.send("still served"));
    app.get("/ping", (_req, res) => void res.send("pong"));
    const srv = await listen(http.createServer(app));
    try {
      assert.deepEqual(await get(`${srv.url}/locked`), { status: 200, body: "still served" });
      assert.deepEqual(await get(`${srv.url}/ping`), { status: 200, body: "pong" });
      assert.equal(await a.flush(2000), true);
      const s = a.stats();
      assert.equal(s.dropped.capture_failed, 1);
      assert.equal(s.captured, 1, "a failed capture is not also captured");
      assert.deepEqual(mem.sent.map((m) => m.raw_url), ["/ping"]);
      assert.equal(logger.warnings("W_CAPTURE_FAILED"), 1);
    } finally {
      await a.close(500);
      await srv.close();
    }
  });

  test("every drop reason has one warning, logged once: too_large and shutdown included", async () => {
    const { DROP_WARNINGS } = (await import("../../src/registry/drops.js")) as { DROP_WARNINGS: Record<string, string> };
    for (const reason of Object.keys(newStats().dropped)) {
      const code = DROP_WARNINGS[reason];
      assert.ok(code && code in WARNINGS, `drop reason ${reason} has a warning`);
    }

    // too_large: a serviceVersion of 10 MB makes every message larger than Pub/Sub accepts.
    const mem = memoryTransport();
    const logger = recordingLogger();
    const big = new APIToolkit({ transport: mem.factory, logger, monitorOutgoing: false, publishIntervalMs: 10, serviceVersion: "v".repeat(10 * 1024 * 1024) });
    const srv = await serve(big);
    try {
      for (let i = 0; i < 3; i++) assert.deepEqual(await get(`${srv.url}/ping`), { status: 200, body: "pong" });
      assert.equal(await big.flush(10_000), true);
      assert.equal(big.stats().dropped.too_large, 3);
      assert.equal(logger.warnings("W_MESSAGE_TOO_LARGE"), 1);
    } finally {
      await big.close(500);
      await srv.close();
    }

    // shutdown: what is still queued at close().
    const port = await freePort();
    const log2 = recordingLogger();
    const stuck = new APIToolkit({ apiKey: GOOD_KEY, rootURL: `http://127.0.0.1:${port}`, logger: log2, monitorOutgoing: false });
    const srv2 = await serve(stuck);
    try {
      for (let i = 0; i < 3; i++) await get(`${srv2.url}/ping`);
      await stuck.close(100);
      assert.equal(stuck.stats().dropped.shutdown, 3);
      assert.equal(log2.warnings("W_SHUTDOWN_DROPPED"), 1);
    } finally {
      await srv2.close();
    }
  });
});

describe("transport errors: one classification", () => {
  const grpc = (code: number) => Object.assign(new Error(`grpc ${code}`), { code });
  const kinds: Array<{ name: string; error: () => unknown; permanent: boolean }> = [
    { name: "INVALID_ARGUMENT (3)", error: () => grpc(3), permanent: true },
    { name: "FAILED_PRECONDITION (9)", error: () => grpc(9), permanent: true },
    { name: "OUT_OF_RANGE (11)", error: () => grpc(11), permanent: true },
    { name: "UNIMPLEMENTED (12)", error: () => grpc(12), permanent: true },
    { name: "{ permanent: true }", error: () => Object.assign(new Error("custom"), { permanent: true }), permanent: true },
    { name: "DEADLINE_EXCEEDED (4)", error: () => grpc(4), permanent: false },
    { name: "NOT_FOUND (5)", error: () => grpc(5), permanent: false },
    { name: "UNAVAILABLE (14)", error: () => grpc(14), permanent: false },
    { name: "a plain Error", error: () => new Error("socket hang up"), permanent: false },
    { name: "a rejection with no reason", error: () => undefined, permanent: false },
  ];
  for (const kind of kinds) {
    test(`${kind.name} is ${kind.permanent ? "permanent: dropped as rejected, not retried" : "transient: retried, then published"}`, async () => {
      let calls = 0;
      let delivered = 0;
      const logger = recordingLogger();
      // A long interval: the three exchanges wait, then flush() sends them as one batch.
      const a = new APIToolkit({
        logger, monitorOutgoing: false, publishIntervalMs: 60_000,
        transport: () => ({
          send: async (messages) => {
            if (calls++ === 0) throw kind.error();
            delivered += messages.length;
          },
          close: async () => undefined,
        }),
      });
      const srv = await serve(a);
      try {
        for (let i = 0; i < 3; i++) await get(`${srv.url}/ping`);
        assert.equal(await a.flush(5000), true);
        const s = a.stats();
        if (kind.permanent) {
          assert.equal(s.dropped.rejected, 3);
          assert.equal(s.retries, 0);
          assert.equal(calls, 1, "not retried");
          assert.equal(logger.warnings("W_PUBLISH_REJECTED"), 1);
        } else {
          assert.equal(s.dropped.rejected, 0);
          assert.ok(s.retries >= 1);
          assert.equal(s.published, 3);
          assert.equal(delivered, 3);
          assert.equal(logger.warnings("W_PUBLISH_FAILED"), 1);
        }
      } finally {
        await a.close(500);
        await srv.close();
      }
    });
  }
});

describe("a custom transport's fits(): each batch is one call", () => {
  test("fits says two per call: five exchanges go as calls of 2, 2 and 1; one failed call is retried alone", async () => {
    const calls: number[][] = [];
    let failed = false;
    const a = new APIToolkit({
      logger: recordingLogger(), monitorOutgoing: false, publishIntervalMs: 60_000,
      transport: () => ({
        fits: (_messages, max) => Math.min(max, 2),
        send: async (messages) => {
          const ids = messages.map((m) => Number(new URL((JSON.parse(m.toString("utf8")) as WireMessage).raw_url, "http://x").searchParams.get("i")));
          calls.push(ids);
          if (!failed && ids.includes(2)) {
            failed = true;
            throw new Error("socket hang up");
          }
        },
        close: async () => undefined,
      }),
    });
    const srv = await serve(a);
    try {
      for (let i = 0; i < 5; i++) await get(`${srv.url}/ping?i=${i}`);
      assert.equal(await a.flush(10_000), true);
      assert.ok(calls.every((c) => c.length <= 2), JSON.stringify(calls));
      assert.deepEqual(calls.flat().sort((x, y) => x - y), [0, 1, 2, 2, 3, 3, 4], `only the failed call's messages went twice: ${JSON.stringify(calls)}`);
      const s = a.stats();
      assert.equal(s.published, 5);
      assert.equal(s.batches, 3);
      assert.equal(s.retries, 1);
    } finally {
      await a.close(500);
      await srv.close();
    }
  });
});

describe("a message that keeps failing does not hold up the queue", () => {
  /** A transport that fails transiently while `failing(batch)` says so, and keeps the urls it delivered. */
  function flakyTransport(failing: (urls: string[]) => boolean) {
    const delivered: string[] = [];
    let calls = 0;
    const factory = () => ({
      send: async (messages: Buffer[]) => {
        calls++;
        const urls = messages.map((m) => (JSON.parse(m.toString("utf8")) as WireMessage).raw_url);
        if (failing(urls)) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        delivered.push(...urls);
      },
      close: async () => undefined,
    });
    return { delivered, factory, calls: () => calls };
  }
  const urls = (n: number, poison?: number) => Array.from({ length: n }, (_, i) => (i === poison ? "/poison" : `/ping?i=${i}`));

  test("the batch is split until the one message is alone; it is given up (retries_exhausted), every other one delivered once", async () => {
    const flaky = flakyTransport((sent) => sent.includes("/poison"));
    const logger = recordingLogger();
    const a = new APIToolkit({ logger, monitorOutgoing: false, publishIntervalMs: 60_000, transport: flaky.factory });
    const srv = await serve(a, (app) => app.get("/poison", (_req, res) => void res.send("ok")));
    try {
      const sent = urls(24, 13);
      for (const u of sent) await get(`${srv.url}${u}`);
      assert.equal(await a.flush(30_000), true, "flush settles: nothing is stuck behind the failing message");
      const s = a.stats();
      assert.equal(s.dropped.retries_exhausted, 1);
      assert.equal(s.published, 23);
      assert.deepEqual([...flaky.delivered].sort(), sent.filter((u) => u !== "/poison").sort(), "every other message delivered exactly once");
      assert.equal(logger.warnings("W_RETRIES_EXHAUSTED"), 1);
      assert.ok(s.retries >= 3, `retried before splitting (${s.retries})`);
    } finally {
      await a.close(500);
      await srv.close();
    }
  });

  test("an outage (nothing goes through) gives nothing up: everything arrives once the endpoint is back", async () => {
    const backAt = Date.now() + 3000;
    const flaky = flakyTransport(() => Date.now() < backAt);
    const logger = recordingLogger();
    const a = new APIToolkit({ logger, monitorOutgoing: false, publishIntervalMs: 10, transport: flaky.factory });
    const srv = await serve(a);
    try {
      const sent = urls(9);
      for (const u of sent) await get(`${srv.url}${u}`);
      assert.equal(await a.flush(30_000), true);
      const s = a.stats();
      assert.ok(flaky.calls() > GIVE_UP_TOTAL, `the outage outlasted the split and give-up thresholds (${flaky.calls()} calls)`);
      assert.equal(s.dropped.retries_exhausted, 0);
      assert.equal(s.published, 9);
      assert.deepEqual([...flaky.delivered].sort(), [...sent].sort());
    } finally {
      await a.close(500);
      await srv.close();
    }
  });
});

describe("close(timeoutMs) is bounded by timeoutMs", () => {
  test("a transport whose close() never resolves does not extend close()", async () => {
    const a = new APIToolkit({
      logger: recordingLogger(), monitorOutgoing: false, publishIntervalMs: 10,
      transport: () => ({ send: async () => undefined, close: () => new Promise<void>(() => undefined) }),
    });
    const srv = await serve(a);
    try {
      await get(`${srv.url}/ping`);
      assert.ok(await until(() => a.stats().state === "ready"));
      const t0 = Date.now();
      await a.close(300);
      const took = Date.now() - t0;
      assert.ok(took < 300 + 150, `close(300) took ${took} ms`);
      assert.equal(a.stats().state, "closed");
    } finally {
      await srv.close();
    }
  });
});

describe("bootstrap", () => {
  test("a 200 with an unusable body: W_BOOTSTRAP_BAD_RESPONSE once, retried until the body is right", async () => {
    const meta = await startMetadataServer("unused-topic", { body: '{"project_id":"not-a-uuid"}' });
    const logger = recordingLogger();
    const mem = memoryTransport();
    const a = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, logger, monitorOutgoing: false, publishIntervalMs: 10, transport: mem.factory });
    try {
      assert.ok(await until(() => meta.calls.length >= 1, 5000));
      meta.setBody("not json at all");
      assert.ok(await until(() => meta.calls.length >= 2, 5000), "retried");
      assert.equal(a.stats().state, "pending");
      meta.setBody(undefined);
      assert.ok(await until(() => a.stats().state === "ready", 10_000), "retried until the body is right");
      assert.ok(meta.calls.length >= 3);
      assert.equal(logger.warnings("W_BOOTSTRAP_BAD_RESPONSE"), 1, "warned once for two unusable bodies");
      assert.equal(logger.warnings("W_BOOTSTRAP_RETRY"), 0, "not reported as a generic retry");
    } finally {
      await a.close(500);
      await meta.close();
    }
  });
});

describe("ignorePaths", () => {
  test("a RegExp with /g or /y in top-level ignorePaths matches every request", async () => {
    const mem = memoryTransport();
    const a = new APIToolkit({ transport: mem.factory, logger: recordingLogger(), monitorOutgoing: false, publishIntervalMs: 10, ignorePaths: [/^\/health/g, /\/echo/y] });
    const srv = await serve(a);
    try {
      for (let i = 0; i < 4; i++) {
        assert.deepEqual(await get(`${srv.url}/health`), { status: 200, body: "ok" });
        const r = await fetch(`${srv.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"i":1}' });
        assert.deepEqual(await r.json(), { i: 1 });
      }
      await get(`${srv.url}/ping`);
      assert.equal(await a.flush(2000), true);
      assert.deepEqual(mem.sent.map((m) => m.raw_url), ["/ping"]);
    } finally {
      await a.close(500);
      await srv.close();
    }
  });

  test("outgoing ignorePaths and ignoreHosts with /g match every call", async () => {
    const mem = memoryTransport();
    const target = await listen(http.createServer((_req, res) => res.end("t")));
    const host = new URL(target.url).host;
    const a = new APIToolkit({
      transport: mem.factory, logger: recordingLogger(), publishIntervalMs: 10,
      outgoing: { ignorePaths: [/^\/skip/g], ignoreHosts: [/^nowhere\.invalid/g] },
    });
    try {
      for (let i = 0; i < 4; i++) {
        assert.equal(await (await fetch(`${target.url}/skip/${i}`)).text(), "t");
      }
      assert.equal(await (await fetch(`${target.url}/keep`)).text(), "t");
      assert.equal(await a.flush(2000), true);
      assert.deepEqual(mem.sent.map((m) => `${m.host}${m.raw_url}`), [`${host}/keep`]);
    } finally {
      await a.close(500);
      await target.close();
    }
  });
});

describe("compressed bodies", () => {
  test("a compressed body larger than maxBodyBytes once decompressed is reported cut, never sent as raw compressed bytes", async () => {
    const mem = memoryTransport();
    const a = new APIToolkit({ transport: mem.factory, logger: recordingLogger(), monitorOutgoing: false, publishIntervalMs: 10, maxBodyBytes: 1024 });
    const json = JSON.stringify({ data: "x".repeat(100_000) });
    const srv = await serve(a, (app) => {
      for (const enc of ["deflate", "br", "gzip"]) {
        app.get(`/${enc}`, (_req, res) => {
          const body = enc === "deflate" ? zlib.deflateSync(json) : enc === "br" ? zlib.brotliCompressSync(json) : zlib.gzipSync(json);
          res.setHeader("content-type", "application/json");
          res.setHeader("content-encoding", enc);
          res.end(body);
        });
      }
    });
    try {
      for (const enc of ["deflate", "br", "gzip"]) {
        const r = await fetch(`${srv.url}/${enc}`);
        assert.equal(await r.text(), json, "the client gets the whole body");
      }
      assert.equal(await a.flush(2000), true);
      assert.equal(mem.sent.length, 3);
      for (const m of mem.sent) {
        const enc = m.raw_url.slice(1);
        assert.match(b64text(m.response_body), new RegExp(`^\\[compressed body \\(${enc}\\), \\d+ bytes, over 1024 bytes decompressed\\]$`));
      }
    } finally {
      await a.close(500);
      await srv.close();
    }
  });
});

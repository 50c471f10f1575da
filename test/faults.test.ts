// Delivery under faults, against a DEDICATED Pub/Sub emulator this file starts, stops and restarts
// (same port). Outage under load, queue budget, failing bootstrap, hanging Pub/Sub, shutdown through
// SIGTERM in a child process, wrong key and unreachable rootURL. Every published message is checked
// with the wire-format validator.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PubSub } from "@google-cloud/pubsub";
import express5 from "express5";
import { APIToolkit, type WireMessage } from "../src/index.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { createTestTopic, TEST_PROJECT } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, type MetadataServer } from "./helpers/metadata.js";
import { listen } from "./helpers/server.js";
import { assertWireMessage } from "./helpers/wire.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
interface Emulator { host: string; port: number; stop(): Promise<void> }
type EmulatorModule = { startEmulator(o?: { port?: number }): Promise<Emulator> };
const emulatorModule = pathToFileURL(path.join(ROOT, "scripts/emulator.mjs")).href;

const warnings: string[] = [];
const logger = { info() {}, warn: (m: string) => void warnings.push(m), error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, boundMs: number): Promise<boolean> {
  const end = Date.now() + boundMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(50);
  }
  return cond();
}

/** Re-create a topic and its subscription by name (the emulator forgets them when it restarts). */
async function recreateTopic(topicId: string): Promise<void> {
  const pubsub = new PubSub({ projectId: TEST_PROJECT });
  try {
    const [topic] = await pubsub.createTopic(topicId);
    await topic.createSubscription(`${topicId}-sub`);
  } finally {
    await pubsub.close();
  }
}

function app(apitoolkit: APIToolkit): http.Server {
  const a = express5();
  a.use(expressMiddleware(apitoolkit));
  a.use(express5.json());
  a.post("/orders", (req, res) => void res.status(201).json({ id: 1, echo: req.body }));
  a.get("/ping", (_req, res) => void res.send("pong"));
  return http.createServer(a);
}

async function hit(url: string, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i += 25) {
    const wave = Array.from({ length: Math.min(25, n - i) }, (_, j) =>
      fetch(`${url}/orders?i=${i + j}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ i: i + j, pad: "x".repeat(900) }) })
        .then(async (r) => (await r.arrayBuffer(), r.status)));
    statuses.push(...(await Promise.all(wave)));
  }
  return statuses;
}

/**
 * Every message is a wire message; the same msg_id twice is one publish retried after its answer was
 * lost (Pub/Sub is at least once; the server de-duplicates on msg_id): the same message, byte for
 * byte. Returns the messages by msg_id.
 */
function check(msgs: WireMessage[]): Map<string, WireMessage> {
  const byId = new Map<string, WireMessage>();
  for (const m of msgs) {
    assertWireMessage(m);
    const seen = byId.get(m.msg_id);
    if (seen) assert.deepEqual(m, seen, "a duplicate is a retry of the same message");
    else byId.set(m.msg_id, m);
  }
  return byId;
}

/** Run a module in a child process (through tsx); resolves with its exit code and output once it exits ON ITS OWN. */
function child(code: string, env: Record<string, string>, opts: { boundMs: number; onLine?: (line: string, proc: ReturnType<typeof spawn>) => void }) {
  return new Promise<{ code: number | null; signal: string | null; out: string; killed: boolean }>((resolve) => {
    const proc = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", code], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    let killed = false;
    proc.stdout!.on("data", (c: Buffer) => {
      const text = c.toString();
      out += text;
      for (const line of text.split("\n").filter(Boolean)) opts.onLine?.(line, proc);
    });
    const t = setTimeout(() => {
      killed = true;
      proc.kill("SIGKILL");
    }, opts.boundMs);
    proc.on("exit", (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, out, killed });
    });
  });
}

const SRC = pathToFileURL(path.join(ROOT, "src/index.ts")).href;
const EXPRESS = pathToFileURL(path.join(ROOT, "src/integrations/express/index.ts")).href;

describe("delivery under faults (dedicated emulator)", () => {
  let emulator: Emulator;
  let savedHost: string | undefined;
  let meta: MetadataServer;
  const closers: Array<() => Promise<unknown>> = [];

  before(async () => {
    const { startEmulator } = (await import(emulatorModule)) as EmulatorModule;
    emulator = await startEmulator();
    savedHost = process.env.PUBSUB_EMULATOR_HOST;
    process.env.PUBSUB_EMULATOR_HOST = emulator.host; // read when the SDK's transport and the test topics are created
  });

  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await meta?.close();
    await emulator.stop();
    if (savedHost === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
    else process.env.PUBSUB_EMULATOR_HOST = savedHost;
  });

  test("emulator down under load, then back on the same port: all within budget published, overflow counted, app unaffected", async () => {
    const big = await createTestTopic("outage");
    const small = await createTestTopic("budget");
    meta = await startMetadataServer(big.topicId);
    const metaSmall = await startMetadataServer(small.topicId);
    closers.push(() => metaSmall.close(), () => big.close(), () => small.close());
    const roomy = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, logger, publishIntervalMs: 20, publishTimeoutMs: 1000, monitorOutgoing: false });
    const tight = new APIToolkit({ apiKey: GOOD_KEY, rootURL: metaSmall.url, logger, publishIntervalMs: 20, publishTimeoutMs: 1000, maxQueueBytes: 64 * 1024, monitorOutgoing: false });
    closers.push(() => roomy.close(2000), () => tight.close(2000));
    const s1 = await listen(app(roomy));
    const s2 = await listen(app(tight));
    closers.push(() => s1.close(), () => s2.close());
    assert.ok(await until(() => roomy.stats().state === "ready" && tight.stats().state === "ready", 15_000), "bootstrapped");

    assert.deepEqual(new Set(await hit(s1.url, 20)), new Set([201]));
    // Counted by msg_id: under load a publish can outlive publishTimeoutMs, be retried and arrive
    // twice (at least once; the server de-duplicates on msg_id), so 20 pulled messages may hold fewer
    // than 20 exchanges, and an exchange missing from them would be counted as one of the outage's.
    const beforeIds = new Set<string>();
    for (let i = 0; i < 5 && beforeIds.size < 20; i++) for (const m of await big.pull(20 - beforeIds.size, 10_000)) beforeIds.add(m.msg_id);
    assert.equal(beforeIds.size, 20, "each exchange before the outage delivered");

    await emulator.stop();
    const during = [...(await hit(s1.url, 150)), ...(await hit(s2.url, 150))];
    assert.equal(during.length, 300);
    assert.ok(during.every((s) => s === 201), "every response served while Pub/Sub is down");
    assert.ok(await until(() => roomy.stats().retries > 0, 15_000), "publishing was retried");
    const t = tight.stats();
    assert.ok(t.dropped.queue_full > 0, "the tight budget overflowed");
    assert.equal(t.captured + t.dropped.queue_full, 150, "every exchange is either queued or counted as queue_full");
    assert.ok(warnings.some((w) => w.includes("W_QUEUE_FULL")));

    const { startEmulator } = (await import(emulatorModule)) as EmulatorModule;
    emulator = await startEmulator({ port: emulator.port });
    await recreateTopic(big.topicId);
    await recreateTopic(small.topicId);
    const bigSub = new PubSub({ projectId: TEST_PROJECT }).subscription(`${big.topicId}-sub`);
    const smallSub = new PubSub({ projectId: TEST_PROJECT }).subscription(`${small.topicId}-sub`);
    const received = { big: [] as WireMessage[], small: [] as WireMessage[] };
    bigSub.on("message", (m) => { m.ack(); received.big.push(JSON.parse(m.data.toString())); });
    smallSub.on("message", (m) => { m.ack(); received.small.push(JSON.parse(m.data.toString())); });
    closers.push(() => bigSub.close(), () => smallSub.close());

    assert.equal(await roomy.flush(45_000), true, "everything queued during the outage is published after recovery");
    assert.equal(await tight.flush(45_000), true);
    const r = roomy.stats();
    assert.equal(r.captured, 170);
    assert.equal(r.published, 170);
    assert.equal(Object.values(r.dropped).reduce((a, b) => a + b, 0), 0, "nothing dropped within budget");
    assert.ok(r.retries > 0);
    const tt = tight.stats();
    assert.equal(tt.published + tt.dropped.queue_full, 150, "published + dropped == captured (requests served)");
    assert.equal(tt.published, tt.captured);
    // A batch the old emulator stored as it stopped (its answer lost) is published again now: the
    // new topic may also see some of the 20 from before the outage, never anything else.
    const outage = () => [...check(received.big).values()].filter((m) => !beforeIds.has(m.msg_id));
    assert.ok(await until(() => outage().length >= 150 && check(received.small).size >= tt.published, 20_000));
    await sleep(500);
    assert.equal(outage().length, 150, "each exchange of the outage arrived (once per msg_id)");
    assert.equal(check(received.small).size, tt.published);
    assert.equal(new Set(outage().map((m) => Number(m.query_params.i![0]))).size, 150);
  });

  test("bootstrap failing (503) then answering (200) publishes what was queued meanwhile", async () => {
    const topic = await createTestTopic("boot");
    const m = await startMetadataServer(topic.topicId, { status: 503 });
    closers.push(() => m.close(), () => topic.close());
    const sdk = new APIToolkit({ apiKey: GOOD_KEY, rootURL: m.url, logger, publishIntervalMs: 20, monitorOutgoing: false });
    closers.push(() => sdk.close(1000));
    const s = await listen(app(sdk));
    closers.push(() => s.close());
    assert.ok(await until(() => m.calls.length >= 1, 10_000));
    assert.deepEqual(new Set(await hit(s.url, 30)), new Set([201]));
    assert.equal(sdk.stats().state, "pending");
    assert.equal(sdk.stats().captured, 30);
    m.setStatus(200);
    assert.equal(await sdk.flush(20_000), true);
    const msgs = await topic.pull(30);
    assert.equal(msgs.length, 30);
    check(msgs);
    assert.ok(m.calls.length >= 2, "bootstrap was retried");
    assert.equal(sdk.stats().published, 30);
  });

  test("a permanent Pub/Sub error drops the batch as rejected, without retrying it", async () => {
    const m = await startMetadataServer("not a valid topic name!");
    closers.push(() => m.close());
    const sdk = new APIToolkit({ apiKey: GOOD_KEY, rootURL: m.url, logger, publishIntervalMs: 20, monitorOutgoing: false });
    closers.push(() => sdk.close(1000));
    const s = await listen(app(sdk));
    closers.push(() => s.close());
    assert.deepEqual(new Set(await hit(s.url, 10)), new Set([201]));
    assert.ok(await until(() => sdk.stats().dropped.rejected === 10, 15_000), JSON.stringify(sdk.stats()));
    assert.equal(sdk.stats().published, 0);
    assert.equal(sdk.stats().retries, 0);
  });

  test("wrong key (401) and unreachable rootURL: the app serves normally, stats show why", async () => {
    const topic = await createTestTopic("key");
    const m = await startMetadataServer(topic.topicId);
    closers.push(() => m.close(), () => topic.close());
    const before = warnings.length;
    const wrong = new APIToolkit({ apiKey: "wrong-key", rootURL: m.url, logger, monitorOutgoing: false });
    const dead = await new Promise<number>((r) => {
      const srv = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => r(port));
      });
    });
    const unreachable = new APIToolkit({ apiKey: GOOD_KEY, rootURL: `http://127.0.0.1:${dead}`, logger, monitorOutgoing: false });
    closers.push(() => wrong.close(500), () => unreachable.close(500));
    const s1 = await listen(app(wrong));
    const s2 = await listen(app(unreachable));
    closers.push(() => s1.close(), () => s2.close());
    assert.ok(await until(() => wrong.stats().state === "disabled", 10_000));
    assert.deepEqual(new Set(await hit(s1.url, 10)), new Set([201]));
    assert.deepEqual(new Set(await hit(s2.url, 10)), new Set([201]));
    assert.equal(wrong.stats().captured, 0);
    assert.equal(unreachable.stats().state, "pending");
    assert.equal(unreachable.stats().captured, 10, "queued (bounded) while rootURL is unreachable");
    const fresh = warnings.slice(before).join("\n");
    assert.match(fresh, /W_INVALID_API_KEY/);
    assert.match(fresh, /W_BOOTSTRAP_RETRY/);
    assert.deepEqual(await topic.drain(300), [], "nothing published with a wrong key");
  });

  test("close(timeoutMs) returns within its bound when Pub/Sub hangs, and the process exits on its own", async () => {
    const sockets: net.Socket[] = [];
    const hang = net.createServer((sock) => void sockets.push(sock)); // accepts, never answers
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
    const hangHost = `127.0.0.1:${(hang.address() as net.AddressInfo).port}`;
    const m = await startMetadataServer("hang-topic");
    closers.push(() => m.close(), () => new Promise((r) => { for (const s of sockets) s.destroy(); hang.close(r); }));

    // In this process: close() is bounded and accounts for everything.
    const saved = process.env.PUBSUB_EMULATOR_HOST;
    process.env.PUBSUB_EMULATOR_HOST = hangHost;
    let sdk: APIToolkit;
    try {
      sdk = new APIToolkit({ apiKey: GOOD_KEY, rootURL: m.url, logger, publishIntervalMs: 20, publishTimeoutMs: 60_000, monitorOutgoing: false });
      assert.ok(await until(() => sdk.stats().state === "ready", 10_000));
    } finally {
      process.env.PUBSUB_EMULATOR_HOST = saved;
    }
    const s = await listen(app(sdk));
    assert.deepEqual(new Set(await hit(s.url, 5)), new Set([201]));
    await s.close();
    const bound = sleep(1500 + 5000).then(() => "timeout");
    assert.equal(await Promise.race([sdk.close(1500).then(() => "closed"), bound]), "closed", "close(1500) resolved within its bound");
    assert.ok(await until(() => { const st = sdk.stats(); return st.published + st.dropped.shutdown === st.captured; }, 5000), JSON.stringify(sdk.stats()));
    assert.equal(sdk.stats().dropped.shutdown, 5);

    // In a child process: create, serve, close; it must then exit on its own (no leftover handles).
    const code = `
      import http from "node:http";
      import { APIToolkit } from ${JSON.stringify(SRC)};
      import { expressMiddleware } from ${JSON.stringify(EXPRESS)};
      import express from "express5";
      const sdk = new APIToolkit({ apiKey: ${JSON.stringify(GOOD_KEY)}, rootURL: ${JSON.stringify(m.url)}, publishIntervalMs: 20, publishTimeoutMs: 60000, monitorOutgoing: false, logger: { info() {}, warn() {}, error() {} } });
      while (sdk.stats().state !== "ready") await new Promise((r) => setTimeout(r, 20));
      const app = express(); app.use(expressMiddleware(sdk)); app.get("/", (_q, r) => r.send("ok"));
      const server = http.createServer(app).listen(0, "127.0.0.1");
      await new Promise((r) => server.once("listening", r));
      for (let i = 0; i < 5; i++) await (await fetch("http://127.0.0.1:" + server.address().port + "/", { headers: { connection: "close" } })).text();
      await new Promise((r) => server.close(r));
      const t0 = Date.now();
      await sdk.close(1000);
      console.log(JSON.stringify({ closeMs: Date.now() - t0, stats: sdk.stats() }));
    `;
    const r = await child(code, { PUBSUB_EMULATOR_HOST: hangHost }, { boundMs: 20_000 });
    assert.equal(r.killed, false, `the child did not exit on its own after close(): ${r.out}`);
    assert.equal(r.code, 0, r.out);
    const { stats } = JSON.parse(r.out.trim().split("\n").at(-1)!) as { stats: { captured: number; dropped: { shutdown: number } } };
    assert.equal(stats.captured, 5);
  });

  test("SIGTERM: the SDK installs no signal handler; the documented pattern delivers what is queued", async () => {
    const topic = await createTestTopic("sigterm");
    const m = await startMetadataServer(topic.topicId);
    closers.push(() => m.close(), () => topic.close());
    const code = `
      import http from "node:http";
      import { APIToolkit } from ${JSON.stringify(SRC)};
      import { expressMiddleware } from ${JSON.stringify(EXPRESS)};
      import express from "express5";
      const before = process.listenerCount("SIGTERM");
      const apitoolkit = new APIToolkit({ apiKey: ${JSON.stringify(GOOD_KEY)}, rootURL: ${JSON.stringify(m.url)}, publishIntervalMs: 60000, monitorOutgoing: false, logger: { info() {}, warn() {}, error() {} } });
      while (apitoolkit.stats().state !== "ready") await new Promise((r) => setTimeout(r, 20));
      const after = process.listenerCount("SIGTERM");
      process.on("SIGTERM", () => apitoolkit.close(5000).then(() => { console.log(JSON.stringify({ closed: apitoolkit.stats() })); process.exit(0); }));
      const app = express(); app.use(expressMiddleware(apitoolkit)); app.get("/item/:id", (q, r) => r.json({ id: q.params.id }));
      const server = http.createServer(app).listen(0, "127.0.0.1");
      await new Promise((r) => server.once("listening", r));
      for (let i = 0; i < 12; i++) await (await fetch("http://127.0.0.1:" + server.address().port + "/item/" + i)).text();
      console.log(JSON.stringify({ before, after, queued: apitoolkit.stats() }));
    `;
    let first: { before: number; after: number; queued: { captured: number; published: number } } | undefined;
    const r = await child(code, { PUBSUB_EMULATOR_HOST: emulator.host }, {
      boundMs: 30_000,
      onLine: (line, proc) => {
        if (first || !line.startsWith('{"before"')) return;
        first = JSON.parse(line);
        proc.kill("SIGTERM");
      },
    });
    assert.ok(first, r.out);
    assert.equal(first.before, 0);
    assert.equal(first.after, first.before, "no SIGTERM listener installed by the SDK");
    assert.equal(first.queued.captured, 12);
    assert.equal(first.queued.published, 0, "still queued when SIGTERM arrives (60 s batching)");
    assert.equal(r.killed, false);
    assert.equal(r.code, 0, r.out);
    const msgs = await topic.pull(12);
    assert.equal(msgs.length, 12);
    check(msgs);
    assert.deepEqual(new Set(msgs.map((x) => x.url_path)), new Set(["/item/:id"]));
  });
});

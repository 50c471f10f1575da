// The viewer's server as an app's operator meets it, over real HTTP on loopback: where it listens
// and who it answers, what it holds (a byte budget, oldest dropped and counted), that a retried
// batch is shown once, that it never holds the process open, and that it never affects the app.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { spawn } from "node:child_process";
import express from "express5";
import { APIToolkit, type APIToolkitOptions } from "../src/index.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { listen } from "./helpers/server.js";
import { freePort } from "../scripts/emulator.mjs";

function recordingLogger() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await cond()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

/** An Express app with the client; POST /echo answers the body it got. */
async function appWith(options: APIToolkitOptions) {
  const apitoolkit = new APIToolkit({ publishIntervalMs: 10, monitorOutgoing: false, logger: recordingLogger(), ...options });
  const app = express();
  app.use(expressMiddleware(apitoolkit));
  app.use(express.json());
  app.post("/echo", (req, res) => void res.json(req.body));
  app.get("/hi", (_req, res) => void res.send("hi"));
  const srv = await listen(http.createServer(app));
  return {
    apitoolkit,
    url: srv.url,
    async close() {
      await apitoolkit.close(1000);
      await srv.close();
    },
  };
}

/** One GET through node:http with a Host header of our choosing (fetch does not let a caller set it). */
function get(url: string, host?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: host ? { host } : {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
  });
}

/** The events of the stream that arrive within `ms`, as { event, id, data }. */
async function readEvents(url: string, ms = 500): Promise<Array<{ event: string; id?: string; data: string }>> {
  const ctrl = new AbortController();
  const res = await fetch(`${url}events`, { signal: ctrl.signal });
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  let text = "";
  const reader = res.body!.getReader();
  const timer = setTimeout(() => ctrl.abort(), ms);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString("utf8");
    }
  } catch {
    /* aborted: the stream stays open until the page leaves */
  }
  clearTimeout(timer);
  return text.split("\n\n").filter((b) => /^(event|data|id):/m.test(b)).map((block) => {
    const ev: { event: string; id?: string; data: string } = { event: "message", data: "" };
    for (const line of block.split("\n")) {
      const [k, ...rest] = line.split(": ");
      if (k === "event") ev.event = rest.join(": ");
      else if (k === "id") ev.id = rest.join(": ");
      else if (k === "data") ev.data += (ev.data ? "\n" : "") + rest.join(": ");
    }
    return ev;
  });
}

describe("where the viewer listens", () => {
  test("viewer: { port } listens on 127.0.0.1 at that port; the page, its assets and a strict CSP", async () => {
    const port = await freePort();
    const logger = recordingLogger();
    const app = await appWith({ viewer: { port }, logger });
    try {
      const url = await app.apitoolkit.viewerURL();
      assert.equal(url, `http://127.0.0.1:${port}/`);
      assert.equal(await app.apitoolkit.viewerURL(), url, "the same answer every time");
      assert.deepEqual(logger.lines.filter((l) => l.includes(url!)), [`info [apitoolkit] viewer: watch the captured traffic at ${url}`]);
      assert.ok(!logger.lines.some((l) => l.startsWith("warn")), "no warning on loopback, none for the missing key");
      const page = await get(url!);
      assert.equal(page.status, 200);
      assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
      assert.match(String(page.headers["content-security-policy"]), /script-src 'self'/);
      assert.ok(!/<script>|style=/.test(page.body), "no inline script or style");
      for (const asset of ["viewer.js", "viewer.css"]) assert.equal((await get(url + asset)).status, 200, asset);
      assert.equal((await get(`${url}nope`)).status, 404);
    } finally {
      await app.close();
    }
  });

  test("on loopback it answers only requests addressed to loopback names (no DNS rebinding)", async () => {
    const app = await appWith({ viewer: true });
    try {
      const url = (await app.apitoolkit.viewerURL())!;
      const port = new URL(url).port;
      assert.equal((await get(url, "evil.example")).status, 403);
      assert.equal((await get(url, `evil.example:${port}`)).status, 403);
      assert.equal((await get(`${url}api/stats`, `attacker.test:${port}`)).status, 403);
      assert.equal((await get(url, `localhost:${port}`)).status, 200);
      assert.equal((await get(url, `127.0.0.1:${port}`)).status, 200);
    } finally {
      await app.close();
    }
  });

  test("a host given explicitly that is not loopback: one warning, and it serves there", async () => {
    const logger = recordingLogger();
    const app = await appWith({ viewer: { host: "0.0.0.0" }, logger });
    try {
      const url = (await app.apitoolkit.viewerURL())!;
      assert.match(url, /^http:\/\/0\.0\.0\.0:\d+\/$/);
      const warnings = logger.lines.filter((l) => l.startsWith("warn"));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /W_VIEWER_NOT_LOOPBACK/);
      assert.equal((await get(`http://127.0.0.1:${new URL(url).port}/`, `my-laptop.lan:${new URL(url).port}`)).status, 200);
    } finally {
      await app.close();
    }
  });

  test("a port already taken: one warning, viewerURL() is undefined, the app is unaffected", async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as net.AddressInfo).port;
    const logger = recordingLogger();
    const app = await appWith({ viewer: { port }, logger });
    try {
      assert.equal(await app.apitoolkit.viewerURL(), undefined);
      const warnings = logger.lines.filter((l) => l.startsWith("warn"));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /W_VIEWER_FAILED.*EADDRINUSE/);
      const r = await fetch(`${app.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { a: 1 });
      assert.ok(await until(() => app.apitoolkit.stats().state === "disabled"), "viewer only, and no viewer: nothing captures");
    } finally {
      await app.close();
      taken.close();
    }
  });

  test("close() stops it: the port is released and viewerURL() is undefined", async () => {
    const app = await appWith({ viewer: true });
    const url = (await app.apitoolkit.viewerURL())!;
    assert.equal((await get(url)).status, 200);
    await app.close();
    assert.equal(await app.apitoolkit.viewerURL(), undefined);
    await assert.rejects(get(url), /ECONNREFUSED/);
  });

  test("it never keeps the process alive, even with a page open", async () => {
    const script = `
      import { APIToolkit } from "./src/index.ts";
      const a = new APIToolkit({ viewer: true, logger: { info() {}, warn() {}, error() {} } });
      console.log(await a.viewerURL());
      await new Promise((r) => setTimeout(r, 1500)); // the parent opens the stream meanwhile
      console.log("main done");`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (c: string) => (out += c));
    assert.ok(await until(() => /^http:/.test(out), 20_000), "the child printed its URL");
    const url = out.split("\n")[0]!;
    const ctrl = new AbortController();
    const stream = await fetch(`${url}events`, { signal: ctrl.signal });
    assert.equal(stream.status, 200);
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => resolve(-1), 15_000);
      child.on("exit", (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    ctrl.abort();
    assert.equal(code, 0, "the child exited on its own once its work was done");
    assert.match(out, /main done/);
  });
});

describe("what the viewer holds", () => {
  test("a byte budget: the oldest messages go first, counted; a page opened later gets the newest", async () => {
    const app = await appWith({ viewer: { maxHistoryBytes: 65536 } });
    try {
      const url = (await app.apitoolkit.viewerURL())!;
      for (let i = 0; i < 40; i++) {
        const r = await fetch(`${app.url}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ i, pad: "p".repeat(1500) }) });
        await r.arrayBuffer();
      }
      assert.ok(await app.apitoolkit.flush(5000));
      const stats = (await (await fetch(`${url}api/stats`)).json()) as { viewer: { held: number; heldBytes: number; evicted: number } };
      assert.ok(stats.viewer.heldBytes <= 65536, `held ${stats.viewer.heldBytes} bytes`);
      assert.ok(stats.viewer.evicted > 0);
      assert.equal(stats.viewer.held + stats.viewer.evicted, 40, "every message is either held or counted as dropped from the history");
      const events = await readEvents(url);
      const exchanges = events.filter((e) => e.event === "exchange");
      assert.equal(exchanges.length, stats.viewer.held);
      const is = exchanges.map((e) => JSON.parse(Buffer.from(JSON.parse(e.data).request_body, "base64").toString()).i as number);
      assert.deepEqual(is, Array.from({ length: is.length }, (_, k) => 40 - is.length + k), "the newest, in order");
      const ids = exchanges.map((e) => Number(e.id!.split(".")[1]));
      assert.equal(ids.at(-1), 40);
      // A page reconnecting with the last id it saw gets only what came after.
      const reconnect = await fetch(`${url}events`, { headers: { "last-event-id": exchanges.at(-3)!.id! } });
      const reader = reconnect.body!.getReader();
      let text = "";
      while (!/id: [^\n]*\.40\n/.test(text)) text += Buffer.from((await reader.read()).value!).toString();
      await reader.cancel();
      assert.equal((text.match(/^event: exchange$/gm) ?? []).length, 2);
    } finally {
      await app.close();
    }
  });

  test("tee with the transport option: a batch sent again after a failure is shown once, with the bytes the transport got", async () => {
    const sent: Buffer[][] = [];
    let fail = true;
    const app = await appWith({
      viewer: true,
      transport: () => ({
        send: async (m) => {
          sent.push(m.map((b) => Buffer.from(b)));
          if (fail) {
            fail = false;
            throw Object.assign(new Error("unavailable"), { code: 14 });
          }
        },
        close: async () => {},
      }),
    });
    try {
      const url = (await app.apitoolkit.viewerURL())!;
      const r = await fetch(`${app.url}/hi`);
      await r.text();
      assert.ok(await app.apitoolkit.flush(10_000));
      assert.equal(sent.length, 2, "sent, failed, sent again");
      assert.equal(app.apitoolkit.stats().retries, 1);
      const exchanges = (await readEvents(url)).filter((e) => e.event === "exchange");
      assert.equal(exchanges.length, 1, "shown once");
      assert.equal(exchanges[0]!.data, sent[1]![0]!.toString("utf8"), "byte for byte what the transport got");
    } finally {
      await app.close();
    }
  });

  test("stats() once a second on the stream, the drops among them", async () => {
    const app = await appWith({ viewer: true });
    try {
      const url = (await app.apitoolkit.viewerURL())!;
      await (await fetch(`${app.url}/hi`)).text();
      await app.apitoolkit.flush(2000);
      const events = await readEvents(url, 2300);
      const hello = events.find((e) => e.event === "hello")!;
      assert.ok(JSON.parse(hello.data).rules.headers.includes("authorization"));
      const history = JSON.parse(events.find((e) => e.event === "stats-history")!.data) as Array<{ stats: { captured: number } }>;
      assert.ok(history.length >= 1);
      const ticks = events.filter((e) => e.event === "stats").map((e) => JSON.parse(e.data) as { t: number; stats: { captured: number; dropped: Record<string, number> } });
      assert.ok(ticks.length >= 2, `${ticks.length} stats events in 2.3 s`);
      assert.equal(ticks.at(-1)!.stats.captured, 1);
      assert.equal(ticks.at(-1)!.stats.dropped.queue_full, 0);
      assert.ok(ticks[1]!.t - ticks[0]!.t >= 900);
    } finally {
      await app.close();
    }
  });
});

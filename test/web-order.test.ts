// The Web path (Hono served with Web Request/Response only, as on Workers, Bun or Deno; Next.js
// route handlers use the same capture) hands the Response back before the SDK serializes anything:
// the exchange becomes its message only after the caller has the Response and, for a streamed
// body, after the last chunk was handed on. Real Hono on @hono/node-server over loopback, real
// Pub/Sub emulator. "Serialized" is read from `stats().captured`, which counts a message once it is
// built; the server's own `writeHead` / `end` and the client's reads mark when the response moved.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import { APIToolkit } from "../src/index.js";
import { honoMiddleware } from "../src/integrations/hono/index.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, type MetadataServer } from "./helpers/metadata.js";
import { b64text } from "./helpers/server.js";
import { quietLogger } from "./helpers/logger.js";

describe("Hono, Web Request/Response only: the response is handed back before anything is serialized", () => {
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let server: http.Server;
  let url = "";
  /** What happened, in order, each with the number of messages built (serialized) at that moment. */
  let events: Array<[string, number]> = [];
  let releaseLast: () => void = () => undefined;
  const built = () => apitoolkit.stats().captured;
  const mark = (what: string) => events.push([what, built()]);

  before(async () => {
    topic = await createTestTopic("weborder");
    meta = await startMetadataServer(topic.topicId);
    apitoolkit = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, monitorOutgoing: false, publishIntervalMs: 20, logger: quietLogger });
    const app = new Hono();
    app.use(honoMiddleware(apitoolkit));
    app.get("/empty", (c) => c.body(null, 204));
    app.get("/stream", (c) => {
      const enc = new TextEncoder();
      let step = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          step++;
          if (step === 1) return controller.enqueue(enc.encode("first;"));
          if (step === 2) {
            // The last chunk waits until the test has seen the first one (5 s at most: a held-back
            // first chunk fails the assertions below instead of hanging the test).
            await new Promise<void>((r) => {
              releaseLast = r;
              setTimeout(r, 5000).unref();
            });
            mark("last chunk produced");
            return controller.enqueue(enc.encode("last"));
          }
          controller.close();
        },
      }, { highWaterMark: 0 });
      return c.body(body, 200, { "content-type": "text/plain" });
    });
    // Served without node's objects in the env: the Web path of the middleware.
    const listener = getRequestListener(async (req) => {
      const res = await app.fetch(req);
      mark("response handed back");
      return res;
    });
    server = http.createServer((req, res) => {
      const writeHead = res.writeHead;
      const end = res.end;
      res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
        mark("head written");
        return (writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
      } as typeof res.writeHead;
      res.end = function (this: http.ServerResponse, ...args: unknown[]) {
        mark("end written");
        return (end as (...a: unknown[]) => http.ServerResponse).apply(this, args);
      } as typeof res.end;
      void listener(req, res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await apitoolkit.close(3000);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await meta.close();
    await topic.close();
  });

  test("a response without a body: handed back and written before its exchange is serialized", async () => {
    await apitoolkit.flush(5000);
    const base = built();
    events = [];
    const res = await fetch(`${url}/empty`);
    mark("client has the response");
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
    assert.equal(await apitoolkit.flush(5000), true);
    mark("flushed");
    const when = Object.fromEntries(events.map(([what, n]) => [what, n - base]));
    assert.deepEqual(Object.keys(when), ["response handed back", "head written", "end written", "client has the response", "flushed"], "order of events");
    assert.equal(when["response handed back"], 0, "nothing serialized before the Response was handed back");
    assert.equal(when["end written"], 0, "nothing serialized before the response was written");
    assert.equal(when["flushed"], 1, "serialized once, after");
    const [m] = await topic.pull(1);
    assert.equal(m!.raw_url, "/empty");
    assert.equal(m!.status_code, 204);
    assert.equal(m!.url_path, "/empty");
  });

  test("a streamed response whose last chunk is delayed: headers and the first chunk reach the client, the end is written, then it is serialized", async () => {
    await apitoolkit.flush(5000);
    const base = built();
    events = [];
    const res = await fetch(`${url}/stream`);
    mark("client has the headers");
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first;");
    mark("client has the first chunk");
    releaseLast();
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    assert.equal(rest, "last");
    assert.equal(await apitoolkit.flush(5000), true);
    mark("flushed");
    const when = Object.fromEntries(events.map(([what, n]) => [what, n - base]));
    assert.deepEqual(
      Object.keys(when),
      ["response handed back", "head written", "client has the headers", "client has the first chunk", "last chunk produced", "end written", "flushed"],
      "order of events",
    );
    for (const what of ["response handed back", "client has the headers", "client has the first chunk", "last chunk produced", "end written"]) {
      assert.equal(when[what], 0, `nothing serialized when: ${what}`);
    }
    assert.equal(when["flushed"], 1, "serialized once, after the end was written");
    const [m] = await topic.pull(1);
    assert.equal(m!.raw_url, "/stream");
    assert.equal(m!.status_code, 200);
    assert.equal(b64text(m!.response_body), "first;last", "the whole body, as the client got it");
  });
});

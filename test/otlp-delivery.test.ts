// OTLP delivery under failure, through the same Delivery as Pub/Sub: outages retried (HTTP
// 429/502/503/504, gRPC UNAVAILABLE/RESOURCE_EXHAUSTED...) no sooner than the collector asks
// (Retry-After, RetryInfo), other answers dropped as `rejected`, batches bounded, large batches
// split without sending a span twice, the queue bounded while the collector is down, close() bounded.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import express from "express5";
import { APIToolkit, type APIToolkitOptions } from "../src/index.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { startExpress5 } from "./helpers/conformance-apps.js";
import { startOtlpReceiver, type OtlpReceiver } from "./helpers/otlp-receiver.js";
import { listen, rawRequest } from "./helpers/server.js";
import { quietLogger } from "./helpers/logger.js";
import { MAX_EXPORT_BYTES, createOtlpTransport } from "../src/transport/otlp/otlp.js";
import { resolveOptions } from "../src/config/options.js";
import { randomUUID } from "node:crypto";

const KEY = "otlp-delivery-key";

/** A client exporting to `receiver`, an Express app with it, and a logger that keeps the warnings. */
async function setup(receiver: OtlpReceiver, options: APIToolkitOptions = {}) {
  const warnings: string[] = [];
  const apitoolkit = new APIToolkit({
    apiKey: KEY,
    delivery: "otlp",
    otlp: { endpoint: receiver.url, protocol: receiver.protocol },
    publishIntervalMs: 20,
    monitorOutgoing: false,
    logger: { ...quietLogger, warn: (l) => void warnings.push(l) },
    ...options,
  });
  const srv = await startExpress5(apitoolkit);
  return {
    apitoolkit,
    srv,
    warnings,
    async close() {
      await srv.close();
      await apitoolkit.close(2000);
      await receiver.close();
    },
  };
}

const msgIds = (r: OtlpReceiver) => r.spans().map((s) => String(s.attributes["apitoolkit.msg_id"]));

describe("OTLP/HTTP failures", { concurrency: true }, () => {
  test("503 with Retry-After, then 200: retried after the delay asked, delivered once", async () => {
    const receiver = await startOtlpReceiver("http/protobuf");
    receiver.answers.push({ status: 503, retryAfter: "1" });
    const t = await setup(receiver);
    try {
      await rawRequest(`${t.srv.url}/users/1`);
      await receiver.waitForSpans(1, 10_000);
      assert.deepEqual(receiver.exports.map((e) => e.answered), [503, 200], "one failed attempt, then the retry");
      const gap = receiver.exports[1]!.at - receiver.exports[0]!.at;
      assert.ok(gap >= 900, `the retry waited for Retry-After: 1 (waited ${gap} ms)`);
      assert.deepEqual(receiver.exports[1]!.spans.map((s) => s.attributes["apitoolkit.msg_id"]), receiver.exports[0]!.spans.map((s) => s.attributes["apitoolkit.msg_id"]), "the same span again");
      assert.ok(await t.apitoolkit.flush(2000));
      const s = t.apitoolkit.stats();
      assert.equal(s.retries, 1);
      assert.equal(s.published, 1);
      assert.equal(Object.values(s.dropped).reduce((a, b) => a + b, 0), 0);
      assert.ok(t.warnings.some((w) => w.includes("W_PUBLISH_FAILED") && w.includes("503")), "one warning names the failure");
    } finally {
      await t.close();
    }
  });

  test("429, 502 and 504 are retried too", async () => {
    const receiver = await startOtlpReceiver("http/protobuf");
    receiver.answers.push({ status: 429 }, { status: 502 }, { status: 504 });
    const t = await setup(receiver);
    try {
      await rawRequest(`${t.srv.url}/users/1`);
      await receiver.waitForSpans(1, 15_000);
      assert.deepEqual(receiver.exports.map((e) => e.answered), [429, 502, 504, 200]);
      assert.equal(t.apitoolkit.stats().retries, 3);
      assert.equal(new Set(msgIds(receiver)).size, 1);
    } finally {
      await t.close();
    }
  });

  for (const status of [400, 401, 404, 413]) {
    test(`${status} is permanent: the batch is dropped as rejected, not retried`, async () => {
      const receiver = await startOtlpReceiver("http/protobuf");
      receiver.answers.push({ status });
      const t = await setup(receiver);
      try {
        await rawRequest(`${t.srv.url}/users/1`);
        assert.ok(await t.apitoolkit.flush(5000), "the drop settles the flush");
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(receiver.exports.length, 1, "no retry");
        const s = t.apitoolkit.stats();
        assert.equal(s.dropped.rejected, 1);
        assert.equal(s.published, 0);
        assert.equal(s.retries, 0);
        assert.ok(t.warnings.some((w) => w.includes("W_PUBLISH_REJECTED") && w.includes(String(status))));
      } finally {
        await t.close();
      }
    });
  }

  test("the queue stays bounded while the collector is down, and close() is bounded", async () => {
    const receiver = await startOtlpReceiver("http/protobuf");
    for (let i = 0; i < 1000; i++) receiver.answers.push({ status: 503 });
    const t = await setup(receiver, { maxQueueBytes: 64 * 1024 });
    try {
      const body = JSON.stringify({ pad: "x".repeat(4000) });
      for (let i = 0; i < 40; i++) await rawRequest(`${t.srv.url}/echo`, "POST", body);
      // The server hands an exchange over when its response finished, which may be just after the client read it.
      const settle = Date.now() + 2000;
      while (t.apitoolkit.stats().captured + t.apitoolkit.stats().dropped.queue_full < 40 && Date.now() < settle) await new Promise((r) => setTimeout(r, 10));
      const s = t.apitoolkit.stats();
      assert.ok(s.dropped.queue_full > 0, "new exchanges are dropped, counted, once the queue is full");
      assert.ok(s.queueBytes <= 64 * 1024, `the queue holds at most maxQueueBytes (${s.queueBytes})`);
      assert.equal(s.captured + s.dropped.queue_full, 40, "every exchange accounted for");
      const started = Date.now();
      await t.apitoolkit.close(500);
      assert.ok(Date.now() - started < 2000, "close() returns within its bound");
      assert.equal(t.apitoolkit.stats().state, "closed");
      // A batch still in flight at close() is counted when its (aborted) export returns.
      const deadline = Date.now() + 2000;
      let after = t.apitoolkit.stats();
      while (after.dropped.shutdown !== after.captured - after.published && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        after = t.apitoolkit.stats();
      }
      assert.equal(after.dropped.shutdown, after.captured - after.published, "what could not be sent is counted as shutdown");
      assert.equal(after.queueItems, 0);
    } finally {
      await t.close();
    }
  });
});

describe("OTLP/gRPC failures", { concurrency: true }, () => {
  test("UNAVAILABLE and RESOURCE_EXHAUSTED are retried, no sooner than RetryInfo asks", async () => {
    const receiver = await startOtlpReceiver("grpc");
    receiver.answers.push({ grpcCode: 14 }, { grpcCode: 8, details: "slow down", retryDelayMs: 1000 });
    const t = await setup(receiver);
    try {
      await rawRequest(`${t.srv.url}/users/1`);
      await receiver.waitForSpans(1, 10_000);
      assert.deepEqual(receiver.exports.map((e) => e.answered), [14, 8, 0]);
      const gap = receiver.exports[2]!.at - receiver.exports[1]!.at;
      assert.ok(gap >= 900, `RetryInfo's 1 s was honoured (waited ${gap} ms)`);
      assert.ok(await t.apitoolkit.flush(2000));
      assert.equal(t.apitoolkit.stats().retries, 2);
      assert.equal(t.apitoolkit.stats().published, 1);
    } finally {
      await t.close();
    }
  });

  for (const [code, name] of [[3, "INVALID_ARGUMENT"], [7, "PERMISSION_DENIED"], [16, "UNAUTHENTICATED"], [12, "UNIMPLEMENTED"]] as const) {
    test(`${name} is permanent: dropped as rejected`, async () => {
      const receiver = await startOtlpReceiver("grpc");
      receiver.answers.push({ grpcCode: code });
      const t = await setup(receiver);
      try {
        await rawRequest(`${t.srv.url}/users/1`);
        assert.ok(await t.apitoolkit.flush(5000));
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(receiver.exports.length, 1, "no retry");
        assert.equal(t.apitoolkit.stats().dropped.rejected, 1);
        assert.ok(t.warnings.some((w) => w.includes("W_PUBLISH_REJECTED") && w.includes(name)));
      } finally {
        await t.close();
      }
    });
  }
});

describe("batches", { concurrency: true }, () => {
  for (const protocol of ["http/protobuf", "grpc"] as const) {
    test(`${protocol}: at most maxBatchMessages spans per export, each request exactly once`, async () => {
      const receiver = await startOtlpReceiver(protocol);
      const t = await setup(receiver, { maxBatchMessages: 3, publishIntervalMs: 200 });
      try {
        await Promise.all(Array.from({ length: 8 }, (_, i) => rawRequest(`${t.srv.url}/users/${i}`)));
        await receiver.waitForSpans(8);
        assert.ok(receiver.exports.length >= 3, `8 spans in batches of at most 3 (${receiver.exports.length} exports)`);
        for (const e of receiver.exports) assert.ok(e.spans.length >= 1 && e.spans.length <= 3, `export of ${e.spans.length} span(s)`);
        assert.equal(new Set(msgIds(receiver)).size, 8);
        assert.deepEqual(receiver.spans().map((s) => s.attributes["url.path"]).sort(), Array.from({ length: 8 }, (_, i) => `/users/${i}`).sort());
      } finally {
        await t.close();
      }
    });
  }

  test("the transport, handed new Buffers of the same messages on a retry (Delivery's views of its reused memory), sends only what was not exported", async () => {
    const receiver = await startOtlpReceiver("http/protobuf");
    receiver.answers.push({ status: 200 }, { status: 503 });
    const transport = await createOtlpTransport({ otlp: resolveOptions({ apiKey: KEY, delivery: "otlp", otlp: { endpoint: receiver.url }, logger: quietLogger }).otlp!, apiKey: KEY, serviceVersion: undefined });
    try {
      // Four spans of ~1.5 MB: two exports of two (MAX_EXPORT_BYTES is ~4 MB); the second one fails.
      const messages = [0, 1, 2, 3].map((i) => Buffer.from(JSON.stringify({
        project_id: "00000000-0000-0000-0000-000000000000", msg_id: randomUUID(), timestamp: new Date().toISOString(), duration: 1_000_000,
        sdk_type: "JsExpress", method: "GET", host: "127.0.0.1:1", raw_url: `/r${i}`, url_path: `/r${i}`, proto_major: 1, proto_minor: 1, status_code: 200,
        path_params: {}, query_params: {}, referer: "", request_headers: {}, response_headers: {}, errors: [], request_body: "",
        response_body: Buffer.alloc(1_100_000, 97 + i).toString("base64"),
      })));
      const ids = Float64Array.from([10, 11, 12, 13]);
      const copies = () => messages.map((m) => Buffer.from(m)); // new Buffers, same bytes: what a retry gets
      await assert.rejects(transport.send(copies(), ids));
      assert.equal(receiver.exports.length, 2, "two exports, the second refused");
      await transport.send(copies(), ids);
      assert.equal(receiver.exports.length, 3);
      assert.equal(receiver.exports[2]!.spans.length, 2, "the retry exports only the two spans not accepted");
      const sent = msgIds(receiver);
      assert.equal(sent.length, 4, "every span accepted exactly once");
      assert.deepEqual(new Set(sent), new Set(messages.map((m) => JSON.parse(m.toString()).msg_id)));
    } finally {
      await transport.close();
      await receiver.close();
    }
  });

  test("a batch too large for one export is cut (one export per batch); a retry after a failure sends no span twice", async () => {
    const receiver = await startOtlpReceiver("http/protobuf");
    receiver.answers.push({ status: 200 }, { status: 503 });
    const apitoolkit = new APIToolkit({
      apiKey: KEY,
      delivery: "otlp",
      otlp: { endpoint: receiver.url },
      publishIntervalMs: 300,
      maxBodyBytes: 3 * 1024 * 1024,
      maxBatchBytes: 9 * 1024 * 1024,
      monitorOutgoing: false,
      logger: quietLogger,
    });
    const app = express();
    app.use(expressMiddleware(apitoolkit));
    app.use(express.json({ limit: "5mb" }));
    app.post("/big", (_req, res) => void res.json({ ok: true }));
    const srv = await listen(http.createServer(app));
    try {
      const body = JSON.stringify({ data: "y".repeat(2_000_000) });
      await Promise.all([0, 1, 2].map((i) => rawRequest(`${srv.url}/big?i=${i}`, "POST", body)));
      await receiver.waitForSpans(3, 15_000);
      assert.ok(await apitoolkit.flush(5000));
      const sizes = receiver.exports.map((e) => [e.spans.length, e.bytes] as const);
      for (const [n, bytes] of sizes) if (n > 1) assert.ok(bytes <= MAX_EXPORT_BYTES, `a multi-span export stays under the limit (${bytes} bytes)`);
      assert.ok(receiver.exports.length >= 3, `split into several exports (${JSON.stringify(sizes)})`);
      assert.equal(receiver.exports.filter((e) => e.answered === 503).length, 1);
      const ids = msgIds(receiver);
      assert.equal(ids.length, 3, "every span accepted exactly once, none twice after the retry");
      assert.equal(new Set(ids).size, 3);
      for (const s of receiver.spans()) assert.equal(JSON.parse(Buffer.from(String(s.attributes["http.request.body"]), "base64").toString()).data.length, 2_000_000);
      assert.equal(apitoolkit.stats().published, 3);
      // Each export is its own batch (Transport.fits cut them): one retried, three succeeded.
      assert.equal(apitoolkit.stats().batches, receiver.exports.filter((e) => e.answered === 200).length);
      assert.equal(apitoolkit.stats().retries, 1);
    } finally {
      await srv.close();
      await apitoolkit.close(2000);
      await receiver.close();
    }
  });
});

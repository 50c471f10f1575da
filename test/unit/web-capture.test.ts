// src/core/web.ts on real Web streams (no server): the pass-through hands every chunk on unchanged
// and at once, reads only what its consumer pulls, keeps at most maxBodyBytes, reports how the
// exchange ended, and never clones or tees a body.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { resolveOptions } from "../../src/config/options.js";
import type { CaptureSink } from "../../src/capture/sink.js";
import type { Exchange } from "../../src/capture/exchange.js";
import { passThrough, startWebCapture, headersRecord, type StreamOutcome } from "../../src/capture/web.js";
import { quietLogger } from "../helpers/logger.js";

function testSink(maxBodyBytes = 16, ignorePaths: string[] = []) {
  const accepted: Exchange[] = [];
  const warnings: string[] = [];
  const sink: CaptureSink = {
    config: resolveOptions({ apiKey: "k", maxBodyBytes, logger: quietLogger }),
    capturing: true,
    accept: (ex) => accepted.push(ex),
    defer: (task) => void setImmediate(task), // as the client does: after the current turn
    warnOnce: (code) => warnings.push(code),
    captureFailed: () => warnings.push("W_CAPTURE_FAILED"),
    flush: async () => true,
    ignores: (p) => ignorePaths.includes(p),
  };
  return { sink, accepted, warnings };
}

/** A source that produces a chunk only when asked (high-water mark 0), counting the asks. */
function countingSource(chunks: Uint8Array[], opts: { endless?: boolean; failAt?: number } = {}) {
  const state = { pulls: 0, cancelled: undefined as unknown, cancelCalled: false };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulls++;
      if (opts.failAt === i) return controller.error(new Error("source broke"));
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else if (opts.endless) controller.enqueue(new Uint8Array(8).fill(i++ % 256));
      else controller.close();
    },
    cancel(reason) {
      state.cancelCalled = true;
      state.cancelled = reason;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

/** Let the deferred hand-overs of this turn run. */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (ex: Exchange, which: "requestBody" | "responseBody") => Buffer.concat(ex[which].chunks).toString("utf8");

/** Make tee() and clone() throw while `fn` runs, to prove the SDK never calls them. */
async function withoutCloneOrTee(fn: () => Promise<void>) {
  const protos = [ReadableStream.prototype, Request.prototype, Response.prototype] as unknown as Array<Record<string, unknown>>;
  const names = ["tee", "clone", "clone"];
  const saved = protos.map((p, i) => p[names[i]!]);
  const calls: string[] = [];
  protos.forEach((p, i) => (p[names[i]!] = () => { calls.push(names[i]!); throw new Error("clone/tee called"); }));
  try {
    await fn();
  } finally {
    protos.forEach((p, i) => (p[names[i]!] = saved[i]));
  }
  assert.deepEqual(calls, [], "the SDK never clones or tees a body");
}

describe("passThrough", () => {
  test("hands on the very same chunks, in order, and reports the end", async () => {
    const chunks = [bytes("a"), bytes("bc"), new Uint8Array(0), bytes("def")];
    const { stream } = countingSource(chunks);
    const seen: Uint8Array[] = [];
    const outcomes: StreamOutcome[] = [];
    const out = passThrough(stream, { chunk: (c) => seen.push(c), done: (o) => outcomes.push(o) });
    const got: Uint8Array[] = [];
    for await (const c of out) got.push(c);
    assert.equal(got.length, chunks.length);
    got.forEach((c, i) => assert.equal(c, chunks[i], "the chunk object itself, not a copy"));
    assert.deepEqual(seen, chunks);
    assert.deepEqual(outcomes, ["end"]);
  });

  test("reads nothing ahead: one read downstream is one read upstream", async () => {
    const { stream, state } = countingSource([bytes("1"), bytes("2"), bytes("3")]);
    const out = passThrough(stream, { chunk() {}, done() {} });
    await new Promise((r) => setImmediate(r));
    assert.equal(state.pulls, 0, "nothing is read before the consumer asks");
    const reader = out.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "1");
    await new Promise((r) => setImmediate(r));
    assert.equal(state.pulls, 1);
    await reader.read();
    await new Promise((r) => setImmediate(r));
    assert.equal(state.pulls, 2);
  });

  test("a hook that throws does not break the stream", async () => {
    const { stream } = countingSource([bytes("x"), bytes("y")]);
    const out = passThrough(stream, { chunk() { throw new Error("hook"); }, done() { throw new Error("hook"); } });
    assert.equal(await new Response(out).text(), "xy");
  });

  test("source errors reach the consumer and are reported", async () => {
    const { stream } = countingSource([bytes("x")], { failAt: 1 });
    const outcomes: Array<[StreamOutcome, unknown]> = [];
    const out = passThrough(stream, { chunk() {}, done: (o, e) => outcomes.push([o, e]) });
    await assert.rejects(new Response(out).text(), /source broke/);
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]![0], "error");
    assert.match(String(outcomes[0]![1]), /source broke/);
  });

  test("cancel goes upstream with its reason and is reported", async () => {
    const { stream, state } = countingSource([], { endless: true });
    const outcomes: StreamOutcome[] = [];
    const out = passThrough(stream, { chunk() {}, done: (o) => outcomes.push(o) });
    const reader = out.getReader();
    await reader.read();
    await reader.cancel("client gone");
    assert.equal(state.cancelCalled, true);
    assert.equal(state.cancelled, "client gone");
    assert.deepEqual(outcomes, ["cancel"]);
  });
});

describe("startWebCapture", () => {
  test("request fields: method, host, raw url, headers with repeats, proto", () => {
    const { sink } = testSink();
    const headers = new Headers([["x-multi", "a"], ["x-multi", "b"], ["host", "api.example.com"], ["referer", "https://r.example/"]]);
    const cap = startWebCapture(sink, new Request("http://internal:3000/p/a%20b/?q=1&q=2#frag", { headers }), "JsNext")!;
    const ex = cap.exchange;
    assert.equal(ex.method, "GET");
    assert.equal(ex.host, "api.example.com");
    assert.equal(ex.rawUrl, "/p/a%20b/?q=1&q=2");
    assert.equal(ex.sdkType, "JsNext");
    assert.deepEqual([ex.protoMajor, ex.protoMinor], [1, 1]);
    assert.deepEqual((ex.requestHeaders as Record<string, string[]>)["x-multi"], ["a, b"], "Headers joins repeats; the values are all there");
    assert.equal(cap.ctx.msgId, ex.msgId);
    assert.equal(cap.ctx.errors, ex.errors);
    const h2 = startWebCapture(sink, new Request("http://x/"), "JsNext", { protoMajor: 2, protoMinor: 0, rawUrl: "/raw//path?a" })!.exchange;
    assert.deepEqual([h2.protoMajor, h2.protoMinor, h2.rawUrl, h2.host], [2, 0, "/raw//path?a", "x"]);
  });

  test("response set-cookie values stay apart", () => {
    const h = new Headers();
    h.append("set-cookie", "a=1; Path=/");
    h.append("set-cookie", "b=2");
    h.append("content-type", "text/plain");
    assert.deepEqual({ ...headersRecord(h) }, { "content-type": ["text/plain"], "set-cookie": ["a=1; Path=/", "b=2"] });
  });

  test("ignored paths and a disabled SDK capture nothing", () => {
    const { sink } = testSink(16, ["/health"]);
    assert.equal(startWebCapture(sink, new Request("http://x/health?full=1"), "JsExpress"), undefined);
    const off = { ...sink, capturing: false };
    assert.equal(startWebCapture(off, new Request("http://x/other"), "JsExpress"), undefined);
  });

  test("request and response bodies pass through unchanged, capped, handed over once at the end", async () => {
    const { sink, accepted } = testSink(16);
    await withoutCloneOrTee(async () => {
      const payload = JSON.stringify({ user: "ann", padding: "p".repeat(100) });
      const src = countingSource([bytes(payload.slice(0, 10)), bytes(payload.slice(10))]);
      const request = new Request("http://x/users", { method: "POST", body: src.stream, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
      const cap = startWebCapture(sink, request, "JsExpress")!;
      const wrapped = cap.wrapRequest(request);
      assert.notEqual(wrapped, request);
      assert.equal(wrapped.method, "POST");
      assert.equal(wrapped.headers.get("content-type"), "application/json");
      assert.deepEqual(await wrapped.json(), JSON.parse(payload), "the app reads the body through the SDK");
      assert.equal(cap.exchange.requestBody.totalBytes, payload.length);
      assert.equal(cap.exchange.requestBody.keptBytes, 16);
      assert.equal(text(cap.exchange, "requestBody"), payload.slice(0, 16));

      const big = "z".repeat(1000);
      const out = cap.wrapResponse(new Response(countingSource([bytes(big.slice(0, 400)), bytes(big.slice(400))]).stream, {
        status: 201, statusText: "Made", headers: [["content-type", "text/plain"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]],
      }));
      assert.equal(out.status, 201);
      assert.equal(out.statusText, "Made");
      assert.deepEqual(out.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.equal(accepted.length, 0, "not before the body was sent");
      assert.equal(await out.text(), big);
      assert.equal(accepted.length, 0, "not before the consumer had the end of the body");
    });
    await nextTurn();
    assert.equal(accepted.length, 1);
    const ex = accepted[0]!;
    assert.equal(ex.statusCode, 201);
    assert.equal(ex.responseBody.totalBytes, 1000);
    assert.equal(ex.responseBody.keptBytes, 16);
    assert.deepEqual((ex.responseHeaders as Record<string, string[]>)["set-cookie"], ["a=1", "b=2"]);
    assert.ok(ex.durationNs > 0);
  });

  test("a request body nobody reads is not read", async () => {
    const { sink, accepted } = testSink();
    const src = countingSource([bytes("upload")]);
    const request = new Request("http://x/up", { method: "PUT", body: src.stream, duplex: "half" } as RequestInit);
    const cap = startWebCapture(sink, request, "JsExpress")!;
    cap.wrapRequest(request);
    const out = cap.wrapResponse(new Response("ok"));
    await out.text();
    await new Promise((r) => setImmediate(r));
    assert.equal(src.state.pulls, 0);
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.requestBody.totalBytes, 0);
  });

  test("GET, HEAD and bodiless requests are given back as they are", () => {
    const { sink } = testSink();
    for (const r of [new Request("http://x/a"), new Request("http://x/a", { method: "HEAD" }), new Request("http://x/a", { method: "POST" })]) {
      assert.equal(startWebCapture(sink, r, "JsExpress")!.wrapRequest(r), r);
    }
  });

  test("a response without a body is handed over once the caller has it, not before", async () => {
    const { sink, accepted } = testSink();
    const cap = startWebCapture(sink, new Request("http://x/a", { method: "DELETE" }), "JsExpress")!;
    const res = new Response(null, { status: 204 });
    assert.equal(cap.wrapResponse(res), res);
    await Promise.resolve();
    assert.equal(accepted.length, 0, "nothing handed over (serialized) while the caller's promise chain runs");
    await nextTurn();
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.statusCode, 204);
    assert.equal(cap.wrapResponse(new Response("again")).status, 200, "later calls pass through");
    await nextTurn();
    assert.equal(accepted.length, 1);
  });

  test("a response the client cancels mid-stream is reported with its status; before any byte as 499", async () => {
    const { sink, accepted } = testSink();
    const cap = startWebCapture(sink, new Request("http://x/sse"), "JsExpress")!;
    const src = countingSource([], { endless: true });
    const reader = cap.wrapResponse(new Response(src.stream, { headers: { "content-type": "text/event-stream" } })).body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel(new Error("gone"));
    assert.equal(src.state.cancelCalled, true, "cancel reached the app's stream");
    await nextTurn();
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.statusCode, 200);
    assert.equal(accepted[0]!.responseBody.totalBytes, 16);

    const cap2 = startWebCapture(sink, new Request("http://x/early"), "JsExpress")!;
    await cap2.wrapResponse(new Response(countingSource([], { endless: true }).stream)).body!.cancel();
    await nextTurn();
    assert.equal(accepted.length, 2);
    assert.equal(accepted[1]!.statusCode, 499);
  });

  test("an aborted request signal hands the exchange over as 499", async () => {
    const { sink, accepted } = testSink();
    const ac = new AbortController();
    const cap = startWebCapture(sink, new Request("http://x/slow", { signal: ac.signal }), "JsExpress")!;
    ac.abort();
    await nextTurn();
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.statusCode, 499);
    const late = new Response("late");
    assert.equal(cap.wrapResponse(late), late, "a response after the abort is not observed");
    await nextTurn();
    assert.equal(accepted.length, 1);
  });

  test("a response stream that fails records the error", async () => {
    const { sink, accepted } = testSink();
    const cap = startWebCapture(sink, new Request("http://x/fail"), "JsExpress")!;
    const out = cap.wrapResponse(new Response(countingSource([bytes("partial")], { failAt: 1 }).stream, { status: 200 }));
    await assert.rejects(out.text(), /source broke/);
    await nextTurn();
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.errors.length, 1);
    assert.equal(accepted[0]!.errors[0]!.message, "source broke");
    assert.equal(text(accepted[0]!, "responseBody"), "partial");
  });

  test("finish() hands over a thrown handler's exchange after the turn; beforeFinish runs first", async () => {
    const { sink, accepted } = testSink();
    const cap = startWebCapture(sink, new Request("http://x/boom"), "JsNext")!;
    cap.beforeFinish = () => { cap.exchange.urlPath = "/boom"; };
    cap.finish(500);
    cap.finish(200);
    assert.equal(accepted.length, 0, "the throw reaches the caller first");
    await nextTurn();
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.statusCode, 500);
    assert.equal(accepted[0]!.urlPath, "/boom");
  });
});

describe("one capture per request", () => {
  test("a request (or its node alias) already captured is not captured again", () => {
    const { sink } = testSink();
    const request = new Request("http://x/once", { method: "POST", body: "b" });
    const incoming = {};
    const cap = startWebCapture(sink, request, "JsExpress", { alias: incoming })!;
    assert.ok(cap);
    assert.equal(startWebCapture(sink, request, "JsExpress"), undefined, "same Request");
    assert.equal(startWebCapture(sink, new Request("http://x/once"), "JsExpress", { alias: incoming }), undefined, "same node request");
    const wrapped = cap.wrapRequest(request);
    assert.equal(startWebCapture(sink, wrapped, "JsExpress"), undefined, "the request handed to the app");
    assert.ok(startWebCapture(sink, new Request("http://x/other"), "JsExpress"), "another request is captured");
  });
});

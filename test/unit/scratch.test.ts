// Scratch memory of the body pipeline (src/jsonpath/scratch.ts): reused between messages, so no
// message, and nothing handed out outside serialization, may share it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_SCRATCH, scratch, withScratch } from "../../src/jsonpath/scratch.js";
import { resolveOptions } from "../../src/config/options.js";
import { serializeExchange } from "../../src/wire/serialize.js";
import { renderBody } from "../../src/redact/body.js";
import type { CapturedBody, Exchange } from "../../src/capture/exchange.js";

function chunked(text: string, size = 100): CapturedBody {
  const buf = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return { chunks, keptBytes: buf.length, totalBytes: buf.length };
}

function exchange(req: string, res: string): Exchange {
  return {
    sdkType: "JsExpress", msgId: "m", startEpochMs: 0, durationNs: 1, method: "POST", host: "h", rawUrl: "/x", urlPath: "/x",
    pathParams: {}, protoMajor: 1, protoMinor: 1, statusCode: 200,
    requestHeaders: ["content-type", "application/json"], responseHeaders: { "content-type": "application/json" },
    requestBody: chunked(req), responseBody: chunked(res), errors: [],
  };
}

const cfg = resolveOptions({ apiKey: "k", redactRequestBody: ["$.password"], redactResponseBody: ["$[*].secret"] });

function bodiesOf(message: Buffer): [unknown, unknown] {
  const m = JSON.parse(message.toString()) as { request_body: string; response_body: string };
  return [JSON.parse(Buffer.from(m.request_body, "base64").toString()), JSON.parse(Buffer.from(m.response_body, "base64").toString())];
}

test("scratch memory is only handed out inside withScratch, and only up to its limit", () => {
  assert.equal(scratch(10), undefined);
  withScratch(() => {
    assert.ok(scratch(10) !== undefined);
    assert.equal(scratch(MAX_SCRATCH + 1), undefined);
  });
  assert.equal(scratch(10), undefined);
});

test("inside withScratch, buffers handed out do not overlap, across nested calls and a growth of the arena", () => {
  withScratch(() => {
    const a = scratch(1000)!;
    a.fill(1);
    withScratch(() => {
      scratch(300_000)!.fill(2); // grows the arena: a stays as it was
    });
    scratch(1000)!.fill(3); // the nested call returned: nothing is reused before the outer one does
    assert.ok(a.every((x) => x === 1));
  });
});

test("a message is not changed by the messages serialized after it (the bodies' scratch memory is reused)", () => {
  const items = (tag: string) => JSON.stringify(Array.from({ length: 60 }, (_, i) => ({ id: i, secret: `${tag}-${i}`, note: `${tag} note ${i}` })));
  const one = serializeExchange(exchange(JSON.stringify({ password: "p1", user: "ann" }), items("one")), cfg, cfg.redaction);
  const copy = Buffer.from(one);
  const two = serializeExchange(exchange(JSON.stringify({ password: "p2", user: "bob" }), items("two")), cfg, cfg.redaction);
  assert.deepEqual(one, copy);
  const [req1, res1] = bodiesOf(one);
  const [req2, res2] = bodiesOf(two);
  assert.deepEqual(req1, { password: "[CLIENT_REDACTED]", user: "ann" });
  assert.deepEqual(req2, { password: "[CLIENT_REDACTED]", user: "bob" });
  assert.equal((res1 as Array<{ note: string; secret: string }>)[59]!.note, "one note 59");
  assert.equal((res2 as Array<{ note: string; secret: string }>)[59]!.note, "two note 59");
  assert.ok((res1 as Array<{ secret: string }>).every((it) => it.secret === "[CLIENT_REDACTED]"));
});

test("renderBody outside serialization returns memory of its own", () => {
  const body = chunked(JSON.stringify({ password: "x", list: Array.from({ length: 50 }, (_, i) => i) }), 16);
  const a = renderBody(body, "application/json", undefined, cfg.redaction.request, 1 << 20);
  const copy = Buffer.from(a);
  serializeExchange(exchange(JSON.stringify({ password: "zzzzzzzzzzzzzzzz" }), "[]"), cfg, cfg.redaction);
  renderBody(chunked(JSON.stringify({ password: "y".repeat(300) }), 16), "application/json", undefined, cfg.redaction.request, 1 << 20);
  assert.deepEqual(a, copy);
});

// The OTLP transport's own encoder (src/transport/otlp/encode.ts) against the path it replaced:
// each queued wire message parsed whole, turned into a span by spanOf, serialized by
// OpenTelemetry's ProtobufTraceSerializer (@opentelemetry/otlp-transformer, a devDependency kept
// for this comparison). Both requests are decoded with the official opentelemetry-proto
// definitions and must carry the same spans, over generated exchanges: identity, errors with root
// causes, outgoing calls, traceparents, bodies (JSON, binary, empty, truncated), unicode in every
// text, empty values. Also: the split at the export size limit, messages of another shape, and the
// collector's partial-success answer.
import "../helpers/fast-check-seed.js";
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import fc from "fast-check";
import protobuf from "protobufjs";
import type { Exchange } from "../../src/capture/exchange.js";
import { resolveOptions } from "../../src/config/options.js";
import { serializeExchange } from "../../src/wire/serialize.js";
import { fixedResource, spanOf, type OtlpSpan, type OtlpWireMessage, type SpanTemplate } from "../../src/transport/otlp/span.js";
import { BufferPool, encodeRequests, headStats, parseMessage, readPartialSuccess, requestTemplate, type Skipped } from "../../src/transport/otlp/encode.js";
import { decodeExport, protoDir } from "../helpers/otlp-receiver.js";

const { ProtobufTraceSerializer } = (await import("@opentelemetry/otlp-transformer")) as unknown as {
  ProtobufTraceSerializer: { serializeRequest(spans: OtlpSpan[]): Uint8Array | undefined };
};

const TEMPLATE: SpanTemplate = {
  spanName: "monoscope.http",
  resource: fixedResource({ "service.name": "svc-ü", "service.version": "1.2.3", "telemetry.sdk.name": "apitoolkit-node", "at-project-key": "key" }),
  scope: { name: "apitoolkit-node" },
};
const OURS = requestTemplate(TEMPLATE);
const LIMIT = 4 * 1024 * 1024;

/** The request OpenTelemetry's serializer writes for the same messages (each parsed whole). */
function reference(messages: Buffer[]): Buffer {
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(messages.map((m) => spanOf(JSON.parse(m.toString("utf8")) as OtlpWireMessage, TEMPLATE)))!);
}

function body(bytes: Buffer | string, kept = Infinity): Exchange["requestBody"] {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const k = b.subarray(0, Math.min(b.length, kept));
  return { chunks: k.length ? [k] : [], keptBytes: k.length, totalBytes: b.length };
}

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 40 }), fc.constantFrom("", "ünï€😀", "a\"b\\c\n", "\u0000\u001f"));
const headerValue = fc.oneof(fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 60 }), fc.constantFrom("", "https", "http, https", "Mozilla/5.0 ü"));
const headers = fc.array(
  fc.tuple(fc.constantFrom("Host", "User-Agent", "X-Forwarded-Proto", "Content-Type", "x-custom", "Set-Cookie", "Authorization", "x-ü"), headerValue),
  { maxLength: 8 },
).map((pairs) => pairs.flat());
const bodyArb = fc.oneof(
  fc.constant(body("")),
  fc.json({ maxDepth: 3 }).map((j) => body(j)),
  fc.uint8Array({ maxLength: 300 }).map((u) => body(Buffer.from(u))),
  text.map((t) => body(t)),
  fc.string({ minLength: 200, maxLength: 2000 }).map((t) => body(t, 100)),
);
const errorArb = fc.record({
  when: fc.oneof(fc.constant("2026-12-01T10:00:00.123Z"), fc.constant("not a date")),
  error_type: text,
  root_error_type: text,
  root_error_message: text,
  message: text,
  stack_trace: text,
});
const identityArb = fc.option(fc.record({
  user: fc.option(fc.record({ id: text, email: text }, { requiredKeys: [] }), { nil: undefined }),
  tenant: fc.option(fc.record({ id: text, name: text }, { requiredKeys: ["id"] }), { nil: undefined }),
  session: fc.option(text, { nil: undefined }),
  attributes: fc.option(fc.dictionary(fc.constantFrom("plan", "seats", "ratio", "beta", "7", "ü-key", "big"), fc.oneof(text, fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(2 ** 60), fc.constant(-5))), { nil: undefined }),
}, { requiredKeys: [] }), { nil: undefined });

const exchangeArb = fc.record({
  outgoing: fc.boolean(),
  method: fc.constantFrom("GET", "post", "DELETE", "PATCH"),
  host: fc.constantFrom("example.com", "127.0.0.1:3000", "[::1]:8080", "[::1]", "", "ex.ü.com:99"),
  rawUrl: fc.oneof(fc.constantFrom("/", "/users/42?tag=x&tag=y", "/a?b=1#frag", "/p#only", "", "relative?x", "/ü/ä?q=€", "/?2=b&1=a"), fc.webPath()),
  urlPath: fc.option(fc.constantFrom("", "/users/:id", "/ü"), { nil: undefined }),
  pathParams: fc.dictionary(fc.constantFrom("id", "name", "ü"), text, { maxKeys: 2 }),
  proto: fc.constantFrom([1, 1], [1, 0], [2, 0], [3, 0]),
  status: fc.constantFrom(0, 200, 201, 304, 404, 499, 500, 503),
  durationNs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 ** 12 })),
  startEpochMs: fc.oneof(fc.constant(1_764_583_200_123.456), fc.integer({ min: 0, max: 4_102_444_800_000 })),
  requestHeaders: headers,
  responseHeaders: headers,
  requestBody: bodyArb,
  responseBody: bodyArb,
  errors: fc.array(errorArb, { maxLength: 2 }),
  traceparent: fc.option(fc.constantFrom(
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-00",
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    "garbage",
  ), { nil: undefined }),
  scheme: fc.option(fc.constantFrom("http" as const, "https" as const), { nil: undefined }),
  identity: identityArb,
  msgId: fc.oneof(fc.uuid(), fc.constant("not-a-uuid")),
  parentId: fc.uuid(),
  tags: fc.option(fc.array(text, { maxLength: 3 }), { nil: undefined }),
  serviceVersion: fc.option(text, { nil: undefined }),
});

/** Text JSON writes without an escape (the head the encoder scans from its bytes). */
const plainText = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: "grapheme", maxLength: 30 })).filter((t) => JSON.stringify(t) === `"${t}"`);
/** Exchanges whose head has no escape, no errors and no identity: the messages the scan writes. */
const plainExchangeArb = fc.record({
  pathParams: fc.dictionary(fc.constantFrom("id", "name", "ü"), plainText, { maxKeys: 2 }),
  requestHeaders: fc.array(fc.tuple(fc.constantFrom("Host", "User-Agent", "X-Forwarded-Proto", "x-ü", "Set-Cookie"), plainText), { maxLength: 6 }).map((p) => p.flat()),
  responseHeaders: fc.array(fc.tuple(fc.constantFrom("Content-Type", "x-custom", "Set-Cookie"), plainText), { maxLength: 6 }).map((p) => p.flat()),
  tags: fc.option(fc.array(plainText, { maxLength: 3 }), { nil: undefined }),
  serviceVersion: fc.option(plainText, { nil: undefined }),
}).chain((plain) => exchangeArb.map((d) => ({ ...d, ...plain, errors: [], identity: undefined })));

type Drawn = typeof exchangeArb extends fc.Arbitrary<infer T> ? T : never;

function messageOf(d: Drawn): Buffer {
  const ex: Exchange = {
    sdkType: d.outgoing ? "JsOutgoing" : "JsExpress",
    msgId: d.msgId,
    parentId: d.outgoing ? d.parentId : undefined,
    startEpochMs: d.startEpochMs,
    durationNs: d.durationNs,
    method: d.method,
    host: d.host,
    rawUrl: d.rawUrl,
    urlPath: d.urlPath,
    pathParams: d.pathParams,
    protoMajor: d.proto[0]!,
    protoMinor: d.proto[1]!,
    statusCode: d.status,
    requestHeaders: d.requestHeaders,
    responseHeaders: d.responseHeaders,
    requestBody: d.requestBody,
    responseBody: d.responseBody,
    errors: d.errors,
    traceparent: d.traceparent,
    scheme: d.scheme,
    identity: d.identity as Exchange["identity"],
  };
  const cfg = resolveOptions({
    apiKey: "k", delivery: "otlp", otlp: { endpoint: "http://127.0.0.1:1" }, tags: d.tags, serviceVersion: d.serviceVersion,
    redactHeaders: ["authorization"], redactRequestBody: ["$.password"], redactResponseBody: ["$..secret"],
  });
  return serializeExchange(ex, { ...cfg, delivery: "otlp" }, cfg.redaction);
}

describe("the OTLP encoder writes what OpenTelemetry's serializer writes", () => {
  test("over generated exchanges: the same spans, decoded with the official protos (and the same bytes)", () => {
    fc.assert(fc.property(fc.array(exchangeArb, { minLength: 1, maxLength: 4 }), (drawn) => {
      const messages = drawn.map(messageOf);
      const parts = encodeRequests(messages, OURS, LIMIT);
      assert.equal(parts.length, 1);
      assert.deepEqual(parts[0]!.sources, messages);
      const expected = reference(messages);
      assert.deepEqual(decodeExport(parts[0]!.bytes), decodeExport(expected));
      assert.ok(parts[0]!.bytes.equals(expected), "byte for byte");
    }), { numRuns: 300 });
  });

  test("the head scanned from the bytes writes what the head parsed writes, and anything unusual takes the parse", () => {
    const before = { ...headStats };
    fc.assert(fc.property(fc.array(fc.oneof(exchangeArb, plainExchangeArb), { minLength: 1, maxLength: 4 }), (drawn) => {
      const messages = drawn.map(messageOf);
      const expected = reference(messages);
      const [scanned] = encodeRequests(messages, OURS, LIMIT);
      const [parsed] = encodeRequests(messages, OURS, LIMIT, [], undefined, false);
      assert.ok(scanned!.bytes.equals(parsed!.bytes));
      assert.ok(scanned!.bytes.equals(expected));
    }), { numRuns: 300 });
    assert.ok(headStats.scanned - before.scanned > 100, `scanned ${headStats.scanned - before.scanned}`);
    assert.ok(headStats.parsed - before.parsed > 100, `parsed ${headStats.parsed - before.parsed}`);
  });

  test("each unusual head: the same span as OpenTelemetry's serializer writes, by the path it must take", () => {
    const plain = fc.sample(exchangeArb, { numRuns: 1, seed: 7 })[0]!;
    const base: Drawn = {
      ...plain, outgoing: false, errors: [], identity: undefined, traceparent: undefined, tags: undefined, serviceVersion: undefined,
      host: "example.com", rawUrl: "/a?b=1", urlPath: "/users/:id", pathParams: {}, requestHeaders: ["User-Agent", "ua"], responseHeaders: [],
      startEpochMs: 1_764_583_200_123,
    };
    const cases: Array<[string, Record<string, unknown>, "scanned" | "parsed"]> = [
      ["the common shape", {}, "scanned"],
      ["unicode everywhere", { host: "ex.ü.com:99", rawUrl: "/ü/ä?q=€#😀", urlPath: "/ü", pathParams: { ü: "ä😀" }, requestHeaders: ["x-ü", "Mozilla/5.0 ü", "User-Agent", "é"], tags: ["ü", ""], serviceVersion: "1.ü" }, "scanned"],
      ["an outgoing call with its parent, a 5xx, X-Forwarded-Proto", { outgoing: true, status: 503, requestHeaders: ["X-Forwarded-Proto", " HTTPS , http"] }, "scanned"],
      ["no response", { outgoing: true, status: 0 }, "scanned"],
      ["a traceparent and a captured scheme", { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", scheme: "https" }, "scanned"],
      ["an invalid traceparent", { traceparent: "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }, "scanned"],
      ["empty URL, host and headers", { rawUrl: "", host: "", urlPath: undefined, requestHeaders: [], responseHeaders: [] }, "scanned"],
      ["IPv6 hosts", { host: "[::1]:8080" }, "scanned"],
      ["IPv6 without a port", { host: "[::1]" }, "scanned"],
      ["a bracket not closed", { host: "[ab:80" }, "parsed"],
      ["text after the bracket", { host: "[ab]x:80" }, "parsed"],
      ["a port too long for the scan", { host: "h:12345678901" }, "parsed"],
      ["odd hosts", { host: ":80" }, "scanned"],
      ["repeated headers, empty values, a ] in a value", { requestHeaders: ["A", "1", "a", "", "B", "x]y,[z}:{"] }, "scanned"],
      ["a header value with an escape", { requestHeaders: ["A", 'say "hi"'] }, "parsed"],
      ["a header named by digits (an object reorders it)", { responseHeaders: ["x", "1", "123", "2"] }, "parsed"],
      ["query keys that are digits", { rawUrl: "/?2=b&1=a" }, "parsed"],
      ["a route parameter", { pathParams: { id: "42", name: "x" } }, "scanned"],
      ["a date before 1970 is not written (out of range): a timestamp in the year 2100", { startEpochMs: 4_102_444_800_000 }, "scanned"],
      ["errors", { errors: [{ when: "2026-12-01T10:00:00.123Z", error_type: "E", root_error_type: "R", root_error_message: "m", message: "m", stack_trace: "s" }] }, "parsed"],
      ["an identity", { identity: { user: { id: "u1" } } }, "parsed"],
      ["an empty identity", { identity: {} }, "scanned"],
      ["a long duration", { durationNs: 10 ** 12 + 999_999_999 }, "scanned"],
      ["a msg_id that is not a UUID, its parent a zero UUID", { outgoing: true, msgId: "not-a-uuid", parentId: "00000000-0000-0000-0000-000000000000" }, "scanned"],
      ["an upper-case UUID", { msgId: "0AF76519-16CD-43DD-8448-EB211C80319C" }, "scanned"],
    ];
    for (const [name, change, path] of cases) {
      const m = messageOf({ ...base, ...change } as Drawn);
      const before = { ...headStats };
      const [part] = encodeRequests([m], OURS, LIMIT);
      assert.equal(headStats[path] - before[path], 1, `${name}: ${path}`);
      const expected = reference([m]);
      assert.deepEqual(decodeExport(part!.bytes), decodeExport(expected), name);
      assert.ok(part!.bytes.equals(expected), `${name}: byte for byte`);
    }
  });

  test("bodies are copied from the message, the head parsed; a message of another shape is parsed whole, to the same span", () => {
    const m = messageOf(fc.sample(exchangeArb, { numRuns: 1, seed: 7 })[0]!);
    const head = parseMessage(m);
    assert.equal(typeof head.response_body, "object", "the body is left in the message");
    // The same message with its keys in another order, and a body holding a JSON escape (`\/`).
    const whole = JSON.parse(m.toString("utf8")) as Record<string, unknown>;
    const reordered = Buffer.from(JSON.stringify({ response_body: whole.response_body, ...whole }));
    const escaped = Buffer.from(JSON.stringify({ ...whole, response_body: "YWJj/w==" }).replace("YWJj/w==", "YWJj\\/w=="));
    for (const other of [reordered, escaped]) {
      assert.equal(typeof parseMessage(other).response_body, "string");
      const [part] = encodeRequests([other], OURS, LIMIT);
      assert.deepEqual(decodeExport(part!.bytes), decodeExport(reference([other])));
    }
  });

  test("a message that is not a wire message is skipped and reported, the others exported", () => {
    const good = messageOf(fc.sample(exchangeArb, { numRuns: 1, seed: 3 })[0]!);
    const skipped: Skipped[] = [];
    const bad = [Buffer.from("not json"), Buffer.from('{"msg_id":1,"request_body":"","response_body":""}'), Buffer.from("[]")];
    const parts = encodeRequests([bad[0]!, good, bad[1]!, bad[2]!], OURS, LIMIT, skipped);
    assert.deepEqual(skipped.map((s) => s.message), bad);
    assert.equal(parts.length, 1);
    assert.deepEqual(parts[0]!.sources, [good]);
    assert.equal(decodeExport(parts[0]!.bytes).length, 1);
  });

  test("a batch past the size limit is split into requests under it, in order; a span larger than the limit goes alone", () => {
    const drawn = fc.sample(exchangeArb, { numRuns: 40, seed: 11 });
    const big = { ...drawn[0]!, responseHeaders: ["Content-Type", "application/json"], responseBody: body(JSON.stringify({ a: "x".repeat(30_000) })) };
    const messages = [...drawn.slice(1, 20).map(messageOf), messageOf(big), ...drawn.slice(20).map(messageOf)];
    const limit = 6000;
    const parts = encodeRequests(messages, OURS, limit);
    assert.ok(parts.length > 3, `split into ${parts.length} requests`);
    assert.deepEqual(parts.flatMap((p) => p.sources), messages, "every message once, in order");
    for (const p of parts) {
      if (p.sources.length > 1) assert.ok(p.bytes.length <= limit, `a request of several spans stays under the limit (${p.bytes.length})`);
      assert.deepEqual(decodeExport(p.bytes), decodeExport(reference(p.sources)));
    }
    assert.ok(parts.some((p) => p.sources.length === 1 && p.bytes.length > limit), "the large span alone");
  });

  test("the output memory is reused once a request is given back, never while it is out", () => {
    const pool = new BufferPool();
    const first = fc.sample(exchangeArb, { numRuns: 30, seed: 5 }).map(messageOf);
    const second = fc.sample(exchangeArb, { numRuns: 30, seed: 6 }).map(messageOf);
    const [a] = encodeRequests(first, OURS, LIMIT, [], pool);
    const expectedA = Buffer.from(a!.bytes);
    const [b] = encodeRequests(second, OURS, LIMIT, [], pool);
    assert.notEqual(b!.memory.buffer, a!.memory.buffer, "a request not given back keeps its memory");
    assert.ok(a!.bytes.equals(expectedA), "and its bytes");
    pool.give(a!.memory);
    pool.give(b!.memory);
    const [c] = encodeRequests(first, OURS, LIMIT, [], pool);
    assert.ok(c!.memory === a!.memory || c!.memory === b!.memory, "memory given back is used again");
    assert.deepEqual(decodeExport(c!.bytes), decodeExport(reference(first)));
    assert.ok(c!.bytes.equals(expectedA));
  });

  test("the collector's partial success is read from its ExportTraceServiceResponse", () => {
    const root = new protobuf.Root();
    root.resolvePath = (_o, target) => path.join(protoDir(), target);
    root.loadSync("opentelemetry/proto/collector/trace/v1/trace_service.proto");
    const Response = root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse");
    const encode = (o: object) => Response.encode(Response.fromObject(o)).finish();
    assert.equal(readPartialSuccess(encode({})), undefined);
    assert.deepEqual(readPartialSuccess(encode({ partialSuccess: { rejectedSpans: 3, errorMessage: "too old ü" } })), { rejectedSpans: 3, errorMessage: "too old ü" });
    assert.deepEqual(readPartialSuccess(encode({ partialSuccess: {} })), { rejectedSpans: 0, errorMessage: "" });
    assert.throws(() => readPartialSuccess(Buffer.from([0x0a, 0x05, 0x08])));
  });
});

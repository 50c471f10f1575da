// The Pub/Sub REST publisher without Pub/Sub: the self-signed JWT (verified against a key pair made
// here), the publish body (decoded back, byte for byte), and Google's answers played by a loopback
// node:http server on port 0 (statuses, Retry-After, timeouts, keep-alive, close, the emulator mode).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import express from "express5";
import { APIToolkit, type WireMessage } from "../../src/index.js";
import { expressMiddleware } from "../../src/integrations/express/index.js";
import { isPermanentError, retryDelayMs } from "../../src/delivery/transport.js";
import { serviceAccountAuthorizer, PUBSUB_AUDIENCE } from "../../src/transport/pubsub/auth.js";
import { encodePublishBodies, encodePublishBody, fittingCount, MAX_REQUEST_BYTES, publishBodyBytes } from "../../src/transport/pubsub/encode.js";
import { Delivery, MAX_MESSAGE_BYTES } from "../../src/delivery/delivery.js";
import { newStats } from "../../src/delivery/stats.js";
import type { Exchange } from "../../src/capture/exchange.js";
import { createPubSubTransport } from "../../src/transport/pubsub/pubsub.js";
import { CHUNK_BYTES, PublishBodyWriter } from "../../src/transport/pubsub/body-stream.js";
import type { ClientMetadata } from "../../src/wire/types.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID } from "../helpers/metadata.js";
import { listen, type Listening } from "../helpers/server.js";

const EMAIL = "publisher@apitoolkit-test.iam.gserviceaccount.com";
let privatePem: string;
let publicKey: KeyObject;
before(() => {
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  privatePem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  publicKey = pair.publicKey;
});

const account = (extra: Record<string, unknown> = {}) => ({ type: "service_account", client_email: EMAIL, private_key: privatePem, private_key_id: "key-123", ...extra });
const metadata = (sa: Record<string, unknown>, topic = "events"): ClientMetadata =>
  ({ project_id: PROJECT_ID, pubsub_project_id: "gcp-proj", topic_id: topic, pubsub_push_service_account: sa });

/** The parts of a `Bearer <jwt>` header value, decoded, and whether its signature verifies. */
function decodeJwt(authorization: string) {
  assert.match(authorization, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  const [h, c, s] = authorization.slice("Bearer ".length).split(".") as [string, string, string];
  const json = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  return { header: json(h), claims: json(c), valid: verify("sha256", Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s, "base64url")), h, c, s };
}

describe("self-signed JWT", () => {
  test("RS256, signed by the account's key: header with kid, claims iss=sub=client_email, aud, iat, exp=iat+3600", () => {
    const t = 1_780_000_000_123;
    const jwt = decodeJwt(serviceAccountAuthorizer(account(), () => t)());
    assert.equal(jwt.valid, true, "the signature verifies with the public key");
    assert.deepEqual(jwt.header, { alg: "RS256", typ: "JWT", kid: "key-123" });
    assert.deepEqual(jwt.claims, { iss: EMAIL, sub: EMAIL, aud: PUBSUB_AUDIENCE, iat: 1_780_000_000, exp: 1_780_003_600 });
    assert.equal(PUBSUB_AUDIENCE, "https://pubsub.googleapis.com/");
    // The check can fail: other claims under the same signature do not verify.
    const forged = Buffer.from(JSON.stringify({ ...jwt.claims, iss: "someone@else" })).toString("base64url");
    assert.equal(verify("sha256", Buffer.from(`${jwt.h}.${forged}`), publicKey, Buffer.from(jwt.s, "base64url")), false);
  });

  test("no kid without private_key_id", () => {
    const jwt = decodeJwt(serviceAccountAuthorizer(account({ private_key_id: undefined }))());
    assert.deepEqual(jwt.header, { alg: "RS256", typ: "JWT" });
    assert.equal(jwt.valid, true);
  });

  test("cached, and re-made 10 minutes before it expires", () => {
    let now = 1_780_000_000_000;
    const authorize = serviceAccountAuthorizer(account(), () => now);
    const first = authorize();
    now += 2999_000;
    assert.equal(authorize(), first, "the same token until 50 minutes have passed");
    now += 1000;
    const second = authorize();
    assert.notEqual(second, first);
    assert.equal(decodeJwt(second).claims.iat, 1_780_000_000 + 3000);
    assert.equal(decodeJwt(second).valid, true);
    assert.equal(authorize(), second);
  });

  test("an account that cannot sign: a permanent error on use, never at creation, never naming the key", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    for (const [sa, why] of [
      [account({ private_key: "unused-on-the-emulator" }), /private_key is not a usable PEM private key/],
      [account({ private_key: undefined }), /has no private_key/],
      [account({ client_email: "" }), /has no client_email/],
      [account({ private_key: ec }), /not RSA/],
      [{}, /has no client_email/],
    ] as const) {
      const authorize = serviceAccountAuthorizer(sa);
      assert.throws(authorize, (err: Error) => {
        assert.match(err.message, why);
        assert.equal(isPermanentError(err), true);
        assert.ok(!err.message.includes("BEGIN") && !err.message.includes("unused-on-the-emulator"), err.message);
        return true;
      });
    }
  });
});

describe("publish body", () => {
  const decode = (body: Buffer): Buffer[] =>
    (JSON.parse(body.toString("utf8")) as { messages: Array<{ data: string }> }).messages.map((m) => Buffer.from(m.data, "base64"));

  test("every message's bytes round-trip, in order, and the Buffer is exactly as long as its JSON", () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 20 }), (arrays) => {
      const messages = arrays.map((a) => Buffer.from(a));
      const body = encodePublishBody(messages);
      assert.deepEqual(decode(body), messages);
      assert.equal(body.toString("utf8"), JSON.stringify({ messages: messages.map((m) => ({ data: m.toString("base64") })) }));
    }));
  });

  test("written into a reused buffer (stale bytes, larger than needed): the same body, in that buffer's memory; too small: a new one", () => {
    const reused = Buffer.alloc(64 * 1024, 0x7a);
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 15 }), (arrays) => {
      const messages = arrays.map((a) => Buffer.from(a));
      const fresh = encodePublishBody(messages);
      assert.equal(publishBodyBytes(messages), fresh.length);
      const body = encodePublishBody(messages, reused);
      assert.deepEqual(body, fresh);
      assert.equal(body.buffer, reused.buffer, "written into the reused buffer");
    }));
    const small = Buffer.alloc(10);
    const body = encodePublishBody([Buffer.alloc(100, 1)], small);
    assert.notEqual(body.buffer, small.buffer);
    assert.deepEqual(decode(body), [Buffer.alloc(100, 1)]);
  });

  test("written in chunks (PublishBodyWriter): the chunks joined are encodePublishBody's bytes, whatever the chunk size", () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 16, max: 5000 }), (arrays, size) => {
      const messages = arrays.map((a) => Buffer.from(a));
      const writer = new PublishBodyWriter(messages);
      const parts: Buffer[] = [];
      for (let i = 0; !writer.done; i++) {
        assert.ok(i < 100_000, "the writer makes progress");
        const chunk = Buffer.alloc(size, 0x7a);
        const n = writer.fill(chunk);
        assert.ok(n > 0 && n <= size);
        parts.push(chunk.subarray(0, n));
      }
      const joined = Buffer.concat(parts);
      assert.deepEqual(joined, encodePublishBody(messages));
      assert.equal(writer.written, publishBodyBytes(messages));
      assert.equal(writer.fill(Buffer.alloc(size)), 0, "nothing more once done");
    }));
  });

  test("a batch whose JSON passes the request limit is split into bodies that fit, in order", () => {
    const messages = Array.from({ length: 10 }, (_, i) => Buffer.alloc(100 + i, i));
    assert.equal(encodePublishBodies(messages).length, 1, "far under the limit: one body");
    const exact = encodePublishBody(messages).length;
    assert.equal(encodePublishBodies(messages, exact).length, 1, "exactly at the limit: one body");
    const bodies = encodePublishBodies(messages, 500);
    assert.ok(bodies.length > 1);
    for (const b of bodies) assert.ok(b.length <= 500, `${b.length} <= 500`);
    assert.deepEqual(bodies.flatMap(decode), messages);
    assert.deepEqual(encodePublishBodies([Buffer.alloc(1000)], 500).map((b) => decode(b)[0]!.length), [1000], "too large alone: sent alone");
    assert.equal(MAX_REQUEST_BYTES, 10_000_000);
  });

  test("the largest message Delivery keeps (MAX_MESSAGE_BYTES) fits one publish request alone; one byte more would not", () => {
    assert.ok(encodePublishBody([Buffer.alloc(MAX_MESSAGE_BYTES)]).length <= MAX_REQUEST_BYTES);
    assert.ok(encodePublishBody([Buffer.alloc(MAX_MESSAGE_BYTES + 3)]).length > MAX_REQUEST_BYTES);
  });

  test("fittingCount (how Delivery cuts a batch) agrees with the first body encodePublishBodies makes", () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 400 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 100, max: 3000 }), fc.integer({ min: 1, max: 40 }), (sizes, limit, max) => {
      const messages = sizes.map((n) => Buffer.alloc(n, 7));
      const n = fittingCount(messages, max, limit);
      assert.ok(n >= 1 && n <= Math.min(max, messages.length));
      const first = encodePublishBodies(messages.slice(0, Math.min(max, messages.length)), limit)[0]!;
      assert.equal(decode(first).length, n);
    }));
  });
});

/** A stand-in for pubsub.googleapis.com: records each request, answers what `answer` says. */
interface FakeGoogle extends Listening {
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }>;
  connections: number;
  answer: (res: http.ServerResponse) => void;
}
async function fakeGoogle(): Promise<FakeGoogle> {
  const fake = { requests: [], connections: 0, answer: (res: http.ServerResponse) => void res.writeHead(200, { "content-type": "application/json" }).end('{"messageIds":["1"]}') } as unknown as FakeGoogle;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      fake.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      fake.answer(res);
    });
  });
  server.on("connection", () => void fake.connections++);
  return Object.assign(fake, await listen(server));
}

const googleError = (status: number, name: string, message: string) => (res: http.ServerResponse) =>
  void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: status, message, status: name } }));

describe("the transport against a loopback Google", () => {
  let google: FakeGoogle;
  before(async () => {
    google = await fakeGoogle();
  });
  after(() => google.close());

  test("one authorized POST per batch to .../topics/{topic}:publish, over one kept-alive socket", async () => {
    google.requests.length = 0;
    const before = google.connections;
    const now = 1_780_000_000_000;
    const t = createPubSubTransport(metadata(account(), "wire events"), 5000, { endpoint: google.url, now: () => now });
    const batches = [[Buffer.from('{"a":1}'), Buffer.from("\u00e9\u0000\xff")], [Buffer.from("x".repeat(5000))]];
    for (const b of batches) await t.send(b);
    await t.close();
    assert.equal(google.requests.length, 2);
    assert.equal(google.connections - before, 1, "the second publish reused the socket");
    for (const [i, r] of google.requests.entries()) {
      assert.equal(r.method, "POST");
      assert.equal(r.url, "/v1/projects/gcp-proj/topics/wire%20events:publish");
      assert.equal(r.headers["content-type"], "application/json");
      assert.equal(Number(r.headers["content-length"]), r.body.length);
      const jwt = decodeJwt(r.headers.authorization!);
      assert.equal(jwt.valid, true);
      assert.equal(jwt.claims.iat, now / 1000);
      const sent = (JSON.parse(r.body.toString("utf8")) as { messages: Array<{ data: string }> }).messages.map((m) => Buffer.from(m.data, "base64"));
      assert.deepEqual(sent, batches[i]);
    }
  });

  test("a batch of several chunks' worth goes out as one body of its Content-Length, every message intact", async () => {
    google.requests.length = 0;
    const t = createPubSubTransport(metadata(account()), 5000, { endpoint: google.url });
    // ~2.4 MB of base64 in all: nine chunks and more, messages cut across chunk boundaries.
    const batch = Array.from({ length: 9 }, (_, i) => Buffer.alloc(200_000 + i * 7, i + 1));
    await t.send(batch);
    await t.close();
    assert.equal(google.requests.length, 1);
    const r = google.requests[0]!;
    assert.ok(r.body.length > 8 * CHUNK_BYTES);
    assert.equal(Number(r.headers["content-length"]), r.body.length);
    assert.deepEqual(r.body, encodePublishBody(batch));
  });

  test("an endpoint that reads slowly: the body still arrives whole, chunk by chunk as the socket takes them", async () => {
    const received: Buffer[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.pause(); // the socket fills; the transport waits for it before encoding more
      setTimeout(() => {
        req.on("data", (c: Buffer) => chunks.push(c));
        req.resume();
      }, 200);
      req.on("end", () => {
        received.push(Buffer.concat(chunks));
        res.writeHead(200, { "content-type": "application/json" }).end('{"messageIds":["1"]}');
      });
    });
    const s = await listen(server);
    try {
      const t = createPubSubTransport(metadata(account()), 10_000, { endpoint: s.url });
      const batch = Array.from({ length: 7 }, (_, i) => Buffer.alloc(1_000_000, i + 1));
      await t.send(batch);
      await t.close();
      assert.equal(received.length, 1);
      assert.deepEqual(received[0], encodePublishBody(batch));
    } finally {
      await s.close();
    }
  });

  test("an answer before the whole body was read (413): the send fails with its code, the next one goes out on a new socket", async () => {
    let calls = 0;
    const received: Buffer[] = [];
    const server = http.createServer((req, res) => {
      if (calls++ === 0) {
        res.writeHead(413, { "content-type": "application/json", connection: "close" }).end(JSON.stringify({ error: { code: 413, message: "too big", status: "INVALID_ARGUMENT" } }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push(Buffer.concat(chunks));
        res.writeHead(200, { "content-type": "application/json" }).end('{"messageIds":["1"]}');
      });
    });
    const s = await listen(server);
    try {
      const t = createPubSubTransport(metadata(account()), 5000, { endpoint: s.url });
      const big = Array.from({ length: 4 }, (_, i) => Buffer.alloc(1_000_000, i));
      await assert.rejects(t.send(big), (err: unknown) => isPermanentError(err));
      const small = [Buffer.from('{"after":true}')];
      await t.send(small);
      await t.close();
      assert.deepEqual(received, [encodePublishBody(small)]);
    } finally {
      await s.close();
    }
  });

  test("HTTP answers become the gRPC codes isPermanentError knows; Retry-After (seconds or a date) becomes retryAfterMs", async () => {
    const t = createPubSubTransport(metadata(account()), 5000, { endpoint: google.url });
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    const cases: Array<[string, (res: http.ServerResponse) => void, { code: number; permanent: boolean; retryAfterMs?: [number, number]; message: RegExp }]> = [
      ["400 INVALID_ARGUMENT", googleError(400, "INVALID_ARGUMENT", "Invalid [topics] name: (name=projects/p/topics/x!)"), { code: 3, permanent: true, message: /^Pub\/Sub publish answered HTTP 400 INVALID_ARGUMENT: Invalid \[topics\] name/ }],
      ["400 FAILED_PRECONDITION", googleError(400, "FAILED_PRECONDITION", "no"), { code: 9, permanent: true, message: /HTTP 400 FAILED_PRECONDITION: no$/ }],
      ["401", googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), { code: 16, permanent: false, message: /HTTP 401 UNAUTHENTICATED/ }],
      ["403", googleError(403, "PERMISSION_DENIED", "User not authorized to perform this action."), { code: 7, permanent: false, message: /HTTP 403 PERMISSION_DENIED: User not authorized/ }],
      ["404 (a topic being re-created)", googleError(404, "NOT_FOUND", "Resource not found (resource=events)."), { code: 5, permanent: false, message: /HTTP 404 NOT_FOUND/ }],
      ["413 from a proxy, HTML", (res) => void res.writeHead(413, { "content-type": "text/html" }).end("<html>\n<b>Request Entity Too Large</b></html>"), { code: 3, permanent: true, message: /^Pub\/Sub publish answered HTTP 413 INVALID_ARGUMENT: <html> <b>Request Entity Too Large/ }],
      ["429 Retry-After: 7", (res) => void res.writeHead(429, { "retry-after": "7", "content-type": "application/json" }).end(JSON.stringify({ error: { code: 429, message: "quota", status: "RESOURCE_EXHAUSTED" } })), { code: 8, permanent: false, retryAfterMs: [7000, 7000], message: /HTTP 429 RESOURCE_EXHAUSTED: quota/ }],
      ["503 Retry-After: <date>", (res) => void res.writeHead(503, { "retry-after": inAMinute }).end("unavailable"), { code: 14, permanent: false, retryAfterMs: [55_000, 60_000], message: /HTTP 503 UNAVAILABLE: unavailable/ }],
      ["500 no body", (res) => void res.writeHead(500).end(), { code: 13, permanent: false, message: /HTTP 500 INTERNAL$/ }],
      ["418 unknown", (res) => void res.writeHead(418).end("teapot"), { code: 2, permanent: false, message: /HTTP 418 UNKNOWN: teapot/ }],
      ["400 echoing the token", (res) => void res.writeHead(400).end(`bad request from ${google.requests.at(-1)?.headers.authorization}`), { code: 3, permanent: true, message: /bad request from Bearer \[token\]$/ }],
    ];
    try {
      for (const [name, answer, want] of cases) {
        google.answer = answer;
        const err = await t.send([Buffer.from("{}")]).then(() => assert.fail(`${name}: resolved`), (e: unknown) => e as Error & { code: number; retryAfterMs?: number });
        assert.equal(err.code, want.code, name);
        assert.equal(isPermanentError(err), want.permanent, name);
        assert.match(err.message, want.message, name);
        assert.ok(!err.message.includes("\n") && !/eyJ/.test(err.message), `${name}: one line, no token: ${err.message}`);
        if (want.retryAfterMs) {
          assert.ok(err.retryAfterMs! >= want.retryAfterMs[0] && err.retryAfterMs! <= want.retryAfterMs[1], `${name}: retryAfterMs ${err.retryAfterMs}`);
          assert.ok(retryDelayMs(err, 0) >= want.retryAfterMs[0], `${name}: the pause honours it`);
        } else assert.equal(err.retryAfterMs, undefined, name);
      }
    } finally {
      google.answer = (res) => void res.writeHead(200).end("{}");
      await t.close();
    }
  });

  /** The stand-in stops answering: the responses it holds, and how to answer again (a 200 `{}`). */
  function hangAnswers(): { hung: http.ServerResponse[]; restore(): void } {
    const hung: http.ServerResponse[] = [];
    google.answer = (res) => void hung.push(res);
    return {
      hung,
      restore: () => {
        for (const r of hung) r.destroy();
        google.answer = (res) => void res.writeHead(200).end("{}");
      },
    };
  }

  test("no answer within publishTimeoutMs: a transient DEADLINE_EXCEEDED, on time", async () => {
    const stall = hangAnswers();
    const t = createPubSubTransport(metadata(account()), 300, { endpoint: google.url });
    const t0 = Date.now();
    try {
      const err = await t.send([Buffer.from("{}")]).then(() => assert.fail("resolved"), (e: unknown) => e as Error & { code: number });
      assert.ok(Date.now() - t0 < 2000, `rejected after ${Date.now() - t0} ms`);
      assert.equal(err.message, "Pub/Sub publish timed out after 300 ms");
      assert.equal(err.code, 4);
      assert.equal(isPermanentError(err), false);
    } finally {
      stall.restore();
      await t.close();
    }
  });

  test("close() fails a publish in flight at once; a send after close rejects", async () => {
    const stall = hangAnswers();
    const t = createPubSubTransport(metadata(account()), 60_000, { endpoint: google.url });
    try {
      const inFlight = t.send([Buffer.from("{}")]).then(() => "resolved", () => "rejected");
      while (stall.hung.length === 0) await new Promise((r) => setTimeout(r, 10));
      await t.close();
      assert.equal(await inFlight, "rejected");
      await assert.rejects(t.send([Buffer.from("{}")]), /closed/);
    } finally {
      stall.restore();
    }
  });

  test("PUBSUB_EMULATOR_HOST: plain HTTP to that host, no Authorization, no key needed", async () => {
    google.requests.length = 0;
    const saved = process.env.PUBSUB_EMULATOR_HOST;
    process.env.PUBSUB_EMULATOR_HOST = new URL(google.url).host;
    let t;
    try {
      t = createPubSubTransport(metadata(account({ private_key: "unused-on-the-emulator" })), 5000);
    } finally {
      if (saved === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
      else process.env.PUBSUB_EMULATOR_HOST = saved;
    }
    await t.send([Buffer.from('{"n":1}')]);
    await t.close();
    assert.equal(google.requests.length, 1);
    assert.equal(google.requests[0]!.url, "/v1/projects/gcp-proj/topics/events:publish");
    assert.equal(google.requests[0]!.headers.authorization, undefined);
  });
});

describe("a batch larger than one publish body (maxBatchBytes 9 MiB)", () => {
  test("each POST is its own unit: one fails, only its messages are sent again; published, batches, retries count POSTs", async () => {
    const google = await fakeGoogle();
    const MiB = 1024 * 1024;
    // Four messages of 2 MiB: 8 MiB, under maxBatchBytes, but 11.2 MB as a publish body (base64).
    const messages = Array.from({ length: 4 }, (_, i) => Buffer.alloc(2 * MiB, 97 + i));
    let failedOnce = false;
    google.answer = (res) => {
      const r = google.requests.at(-1)!;
      const sent = (JSON.parse(r.body.toString("utf8")) as { messages: Array<{ data: string }> }).messages;
      if (!failedOnce && sent.some((m) => Buffer.from(m.data, "base64")[0] === 100)) { // the 4th message ("d")
        failedOnce = true;
        return googleError(503, "UNAVAILABLE", "try again")(res);
      }
      res.writeHead(200, { "content-type": "application/json" }).end('{"messageIds":["1"]}');
    };
    const stats = newStats();
    const retries: unknown[] = [];
    const delivery = new Delivery({
      maxQueueBytes: 64 * MiB, maxBatchMessages: 1000, maxBatchBytes: 9 * MiB, publishIntervalMs: 10, stats,
      build: (ex) => ex as unknown as Buffer, stamp: () => undefined, onDrop: () => undefined, onRetry: (err) => void retries.push(err),
    });
    const transport = createPubSubTransport(metadata(account()), 10_000, { endpoint: google.url });
    try {
      for (const m of messages) delivery.enqueue(m as unknown as Exchange);
      delivery.start(transport, PROJECT_ID);
      assert.equal(await delivery.flush(20_000), true);
      const posts = google.requests.map((r) => (JSON.parse(r.body.toString("utf8")) as { messages: Array<{ data: string }> }).messages.map((m) => Buffer.from(m.data, "base64")[0]!));
      for (const r of google.requests) assert.ok(r.body.length <= MAX_REQUEST_BYTES, `a body of ${r.body.length} bytes`);
      assert.equal(posts.length, 3, `POSTs: ${JSON.stringify(posts)}`);
      assert.deepEqual(posts.flat().sort((a, b) => a - b), [97, 98, 99, 100, 100], "the three that went through were not sent again");
      assert.equal(stats.published, 4);
      assert.equal(stats.batches, 2, "two POSTs succeeded");
      assert.equal(stats.retries, 1, "one POST retried");
      assert.equal(retries.length, 1);
      assert.equal(Object.values(stats.dropped).reduce((a, b) => a + b, 0), 0);
    } finally {
      delivery.shutdown();
      await transport.close();
      await google.close();
    }
  });
});

describe("through the client", () => {
  async function app(sdk: APIToolkit): Promise<Listening> {
    const a = express();
    a.use(expressMiddleware(sdk));
    a.get("/ping", (_req, res) => void res.send("pong"));
    return listen(http.createServer(a));
  }

  test("a service account without a usable key: bootstrap completes, batches are dropped as rejected, warned once, without the key", async () => {
    const meta = await startMetadataServer("events", {
      body: JSON.stringify({ project_id: PROJECT_ID, pubsub_project_id: "gcp-proj", topic_id: "events", pubsub_push_service_account: JSON.stringify({ client_email: EMAIL, private_key: "-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n" }) }),
    });
    const lines: string[] = [];
    const sdk = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 10, monitorOutgoing: false, logger: { info() {}, warn: (m) => void lines.push(m), error: (m) => void lines.push(m) } });
    const s = await app(sdk);
    try {
      for (let i = 0; i < 3; i++) await (await fetch(`${s.url}/ping`)).text();
      assert.equal(await sdk.flush(5000), true);
      const st = sdk.stats();
      assert.equal(st.state, "ready");
      assert.equal(st.dropped.rejected, 3, JSON.stringify(st));
      assert.equal(st.retries, 0);
      assert.equal(lines.filter((l) => l.includes("W_PUBLISH_REJECTED")).length, 1, lines.join("\n"));
      assert.match(lines.join("\n"), /private_key is not a usable PEM private key/);
      assert.ok(!lines.join("\n").includes("not-a-key"));
      assert.ok(!lines.some((l) => l.includes("W_TRANSPORT_INIT_FAILED")));
    } finally {
      await s.close();
      await sdk.close(1000);
      await meta.close();
    }
  });

  test("the SDK's own publishes are not captured as outgoing calls", async () => {
    const google = await fakeGoogle();
    const meta = await startMetadataServer("events");
    const saved = process.env.PUBSUB_EMULATOR_HOST;
    process.env.PUBSUB_EMULATOR_HOST = new URL(google.url).host; // read when the transport is created
    const sdk = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, publishIntervalMs: 10, monitorOutgoing: true, logger: { info() {}, warn() {}, error() {} } });
    const s = await app(sdk);
    try {
      for (let i = 0; i < 3; i++) {
        await (await fetch(`${s.url}/ping`)).text();
        assert.equal(await sdk.flush(5000), true);
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await sdk.flush(5000), true);
      const published = google.requests.flatMap((r) => (JSON.parse(r.body.toString("utf8")) as { messages: Array<{ data: string }> }).messages)
        .map((m) => JSON.parse(Buffer.from(m.data, "base64").toString("utf8")) as WireMessage);
      // The test's own fetch calls are outgoing calls of this process, and captured as such.
      assert.equal(published.filter((m) => m.sdk_type === "JsOutgoing" && m.host === new URL(s.url).host).length, 3, "outgoing capture is on");
      const own = published.filter((m) => m.host === new URL(google.url).host || m.host === new URL(meta.url).host);
      assert.deepEqual(own, [], "no publish (and no bootstrap) was captured");
      assert.ok(google.requests.length >= 2, "several publishes happened");
    } finally {
      if (saved === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
      else process.env.PUBSUB_EMULATOR_HOST = saved;
      await s.close();
      await sdk.close(1000);
      await meta.close();
      await google.close();
    }
  });
});

// "Put a secret of each kind anywhere": an Express 5 app with the SDK (every value detector on),
// real HTTP on loopback, outgoing fetch calls to a real upstream, publishing to the real Pub/Sub
// emulator. Generated secrets (card numbers, JWTs, bearer tokens, AWS keys, PEM private keys,
// e-mail addresses, IBANs, a user RegExp's account ids) go into nested body values, arrays, text
// bodies, forms in bracket notation, query strings, path segments, header values, error messages,
// and the outgoing calls the handlers make; none of them may be published.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fc from "fast-check";
import "./helpers/fast-check-seed.js";
import express5 from "express5";
import { APIToolkit, type WireMessage } from "../src/index.js";
import { expressMiddleware, expressErrorHandler } from "../src/integrations/express/index.js";
import { runSuppressed } from "../src/capture/context.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, type MetadataServer } from "./helpers/metadata.js";
import { listen, b64text, type Listening } from "./helpers/server.js";
import { assertWireMessage } from "./helpers/wire.js";
import { quietLogger } from "./helpers/logger.js";
import { ALL_DETECTORS, assertNotPublished, awsKeyArb, accountArb, bearerArb, cardArb, emailArb, ibanArb, jwtArb, privateKeyArb } from "./helpers/secrets.js";

const R = "[CLIENT_REDACTED]";
const RU = "%5BCLIENT_REDACTED%5D";

/** Upstream (a partner API): echoes what it got, with the secret it was sent in a Location header and in its body. */
function upstream(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const note = req.headers["x-note"] ?? "";
    res.writeHead(201, { "content-type": "application/json", location: `/v1/done?token=${encodeURIComponent(String(note))}`, "x-echo": String(note) });
    res.end(JSON.stringify({ url: req.url, got: Buffer.concat(chunks).toString("utf8"), note }));
  });
}

function buildApp(apitoolkit: APIToolkit, upstreamUrl: string) {
  const app = express5();
  app.set("env", "test"); // no error logging; the error page holds the message (and the secret), to be redacted too
  app.use(expressMiddleware(apitoolkit)); // first: it sees the bytes as the parsers read them
  app.use(express5.json());
  app.use(express5.urlencoded({ extended: true })); // qs: user[password] becomes req.body.user.password
  app.use(express5.text({ type: "text/*" }));
  app.post("/echo/:id", async (req, res) => {
    // an outgoing call carrying the secret in its path, query, a header and its body
    const secret = String((req.body as { secret?: string }).secret ?? "");
    const r = await fetch(`${upstreamUrl}/v1/items/${encodeURIComponent(secret)}?api_key=k-${req.params.id}&note=${encodeURIComponent(secret)}`, {
      method: "POST", headers: { "content-type": "application/json", "x-note": secret.replace(/\n/g, " ") }, body: JSON.stringify({ nested: { list: [secret] } }),
    });
    const upstreamBody = await r.text();
    res.set("x-echo", secret.replace(/\n/g, " ")).json({ youSent: req.body, upstream: JSON.parse(upstreamBody) as unknown });
  });
  app.post("/form", (req, res) => {
    const b = req.body as { user?: { note?: string }; tags?: string[] };
    res.json({ note: b.user?.note, tags: b.tags }); // not the password: response bodies have their own rules
  });
  app.post("/text", (req, res) => void res.type("text/plain").send(`you said: ${String(req.body)}`));
  app.get("/reset-password/:token", (req, res) => void res.type("text/html").send(`<p>reset for ${req.params.token}</p>`));
  app.get("/boom", (req) => {
    throw new Error(`rejected ${String(req.query.q)}`);
  });
  app.use(expressErrorHandler(apitoolkit));
  return app;
}

describe("a secret of each kind, anywhere, is never published (Express 5, incoming and outgoing)", () => {
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let up: Listening;
  let srv: Listening;

  before(async () => {
    topic = await createTestTopic("secrets");
    meta = await startMetadataServer(topic.topicId);
    apitoolkit = new APIToolkit({
      apiKey: GOOD_KEY, rootURL: meta.url, logger: quietLogger, publishIntervalMs: 20,
      redactValues: [...ALL_DETECTORS], redactQueryParams: ["session"], redactRequestBody: ["$.user.password"],
    });
    up = await listen(http.createServer(upstream));
    srv = await listen(http.createServer(buildApp(apitoolkit, up.url)));
  });

  after(async () => {
    await apitoolkit.close(3000);
    await srv.close();
    await up.close();
    await meta.close();
    await topic.close();
  });

  const kinds = {
    creditCard: cardArb, jwt: jwtArb, bearerToken: bearerArb, awsAccessKey: awsKeyArb, privateKey: privateKeyArb, email: emailArb, iban: ibanArb, acct: accountArb,
  } as const;

  for (const [kind, arb] of Object.entries(kinds)) {
    test(kind, async () => {
      await fc.assert(fc.asyncProperty(arb, fc.integer({ min: 1, max: 1e6 }), async (secret, id) => {
        const inline = secret.replace(/\n/g, " ");
        const q = encodeURIComponent(`see ${secret} here`);
        const sent = await runSuppressed(() => Promise.all([
          fetch(`${srv.url}/echo/${id}?session=s-${id}&q=${q}`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-note": `note ${inline}`, "x-plain": inline },
            body: JSON.stringify({ secret, deep: { list: [1, { text: `my ${secret}!` }] }, arr: [secret] }),
          }),
          fetch(`${srv.url}/form?id=${id}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `user[password]=${encodeURIComponent(`pw-${id}`)}&user[note]=${encodeURIComponent(secret)}&tags[]=${encodeURIComponent(secret)}` }),
          fetch(`${srv.url}/text?id=${id}`, { method: "POST", headers: { "content-type": "text/plain" }, body: `line one\n${secret}\nline three` }),
          fetch(`${srv.url}/reset-password/${encodeURIComponent(secret)}?id=${id}`),
          fetch(`${srv.url}/boom?id=${id}&q=${encodeURIComponent(inline)}`),
        ]));
        await Promise.all(sent.map((r) => r.text()));
        assert.deepEqual(sent.map((r) => r.status), [200, 200, 200, 200, 500]);
        const msgs = await topic.pull(6);
        assert.equal(msgs.length, 6, "5 incoming requests and 1 outgoing call");
        for (const m of msgs) assertWireMessage(m);
        assertNotPublished(msgs as unknown as Record<string, unknown>[], [{ kind, secret }, { kind: "password", secret: `pw-${id}` }, { kind: "session", secret: `s-${id}` }]);
        const out = msgs.find((m) => m.sdk_type === "JsOutgoing");
        const echo = msgs.find((m) => m.raw_url.startsWith("/echo/"));
        assert.ok(out && echo, "the outgoing call and its parent");
        assert.equal(out.parent_id, echo.msg_id);
        assert.deepEqual(out.query_params.api_key, [R]);
        assert.match(out.raw_url, new RegExp(`^/v1/items/${RU.replace(/%/g, "%")}\\?api_key=${RU}&note=`));
        assert.deepEqual(echo.query_params.session, [R]);
        const form = msgs.find((m) => m.raw_url.startsWith("/form"))!;
        assert.match(b64text(form.request_body), new RegExp(`^user\\[password\\]=${RU}&`));
      }), { numRuns: 6 });
    });
  }

  test("stats().redactions counts what fired, by rule", async () => {
    const r = apitoolkit.stats().redactions;
    for (const rule of ["value:creditCard", "value:jwt", "value:bearerToken", "value:awsAccessKey", "value:privateKey", "value:email", "value:iban", "value:/acct-\\d{6}/", "query:session", "query:api_key", "body:$.user.password", "path:token"]) {
      assert.ok((r[rule] ?? 0) > 0, `${rule} counted: ${JSON.stringify(r)}`);
    }
    assert.equal(apitoolkit.stats().dropped.build_failed, 0);
  });
});

describe("the defaults, as shipped", () => {
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let srv: Listening;

  before(async () => {
    topic = await createTestTopic("secrets-defaults");
    meta = await startMetadataServer(topic.topicId);
    apitoolkit = new APIToolkit({ apiKey: GOOD_KEY, rootURL: meta.url, logger: quietLogger, publishIntervalMs: 20, monitorOutgoing: false });
    const app = express5();
    app.use(expressMiddleware(apitoolkit));
    app.use(express5.json());
    app.get("/orders/:id", (req, res) => void res.json({ id: req.params.id, placed: "2024-06-11T10:00:00.123Z", total: "1299.00", trace: "4bf92f3577b34da6a3ce929d0e0e4736", customer: "ann@example.com" }));
    srv = await listen(http.createServer(app));
  });

  after(async () => {
    await apitoolkit.close(3000);
    await srv.close();
    await meta.close();
    await topic.close();
  });

  test("query credentials and JWTs are redacted by default; ordinary data is not", async () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    const res = await fetch(`${srv.url}/orders/ORD-2024-000123?access_token=at-1&page=2&note=${encodeURIComponent(`jwt ${jwt}`)}&id=1790123456789012342`);
    assert.equal(res.status, 200);
    const [m] = (await topic.pull(1)) as [WireMessage];
    assert.equal(m.raw_url, `/orders/ORD-2024-000123?access_token=${RU}&page=2&note=jwt%20${RU}&id=1790123456789012342`, "a Luhn-valid 64-bit id stays: creditCard is opt-in");
    assert.deepEqual(m.query_params, { access_token: [R], page: ["2"], note: [`jwt ${R}`], id: ["1790123456789012342"] });
    assert.deepEqual(m.path_params, { id: "ORD-2024-000123" });
    assert.deepEqual(JSON.parse(b64text(m.response_body)), { id: "ORD-2024-000123", placed: "2024-06-11T10:00:00.123Z", total: "1299.00", trace: "4bf92f3577b34da6a3ce929d0e0e4736", customer: "ann@example.com" }, "e-mail (and card numbers) are not default detectors");
  });
});

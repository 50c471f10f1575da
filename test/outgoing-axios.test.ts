// axios capture (observeAxios) end to end, and THE acceptance test: an Express handler calling two
// upstreams (fetch + axios) yields exactly three messages, linked and redacted. Real servers on
// loopback, bootstrap through a local client_metadata stand-in, the real Pub/Sub emulator.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import axios, { AxiosError } from "axios";
import express5 from "express5";
import { APIToolkit } from "../src/index.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { observeAxios } from "../src/integrations/axios/index.js";
import { runInRequest, runSuppressed } from "../src/capture/context.js";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { listen, b64json, b64text, withoutHost, type Listening } from "./helpers/server.js";
import { one } from "./helpers/messages.js";
import { quietLogger } from "./helpers/logger.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const R = "[CLIENT_REDACTED]";

function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (req.url === "/redirect") return void res.writeHead(302, { location: "/final" }).end();
    if (req.url === "/stall") return; // never answers: the caller times out
    const body = Buffer.concat(chunks).toString("utf8");
    res.writeHead(req.url?.startsWith("/missing") ? 404 : 200, { "content-type": "application/json", "x-upstream-secret": "up-secret" });
    res.end(JSON.stringify({ url: req.url, got: body ? JSON.parse(body) : null, token: "tok-SECRET", apiKey: "key-SECRET" }));
  });
}

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe("axios", () => {
  let topic: TestTopic;
  let meta: MetadataServer;
  let apitoolkit: APIToolkit;
  let up1: Listening;
  let up2: Listening;
  let app: Listening;

  before(async () => {
    topic = await createTestTopic("outgoing-axios");
    meta = await startMetadataServer(topic.topicId);
    up1 = await listen(http.createServer(upstreamHandler));
    up2 = await listen(http.createServer(upstreamHandler));
    apitoolkit = new APIToolkit({
      apiKey: GOOD_KEY,
      rootURL: meta.url,
      redactHeaders: ["x-upstream-secret"],
      redactRequestBody: ["$.password"],
      redactResponseBody: ["$.token"],
      publishIntervalMs: 20,
      logger: quietLogger,
      outgoing: {
        redactHeaders: ["x-partner-key"],
        redactRequestBody: ["$.card.number"],
        urlTemplates: ["/v1/customers/:id"],
        destinations: [{ host: new URL(up2.url).host, redactResponseBody: ["$.apiKey"] }],
      },
    });
    const partner = observeAxios(apitoolkit, axios.create({ baseURL: up2.url, headers: { "x-partner-key": "partner-secret" } }), {
      urlTemplates: ["/v2/charges/:chargeId"],
    });
    const e = express5();
    e.use(expressMiddleware(apitoolkit));
    e.post("/checkout/:id", express5.json(), async (req, res) => {
      const customer = await fetch(`${up1.url}/v1/customers/${req.params.id}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer user-token" },
        body: JSON.stringify({ password: "hunter2", card: { number: "4111", exp: "12/30" } }),
      }).then((r) => r.json() as Promise<{ url: string }>);
      const charge = await partner.post(`/v2/charges/ch_${req.params.id}?capture=true`, { amount: 10, card: { number: "4242" } });
      res.json({ customer: customer.url, charge: (charge.data as { url: string }).url });
    });
    app = await listen(http.createServer(e));
  });

  after(async () => {
    await apitoolkit.close(3000);
    await app.close();
    await up1.close();
    await up2.close();
    await meta.close();
    await topic.close();
  });

  test("acceptance: a handler calling two upstreams (fetch + axios) yields exactly three messages, linked and redacted", async () => {
    const res = await runSuppressed(() => fetch(`${app.url}/checkout/42`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ basket: 1 }),
    }));
    assert.deepEqual(await res.json(), { customer: "/v1/customers/42", charge: "/v2/charges/ch_42?capture=true" });

    const msgs = await topic.pull(3);
    assert.equal(msgs.length, 3);
    assert.deepEqual(await topic.drain(1000), [], "exactly three messages");
    for (const m of msgs) {
      assert.equal(m.project_id, PROJECT_ID);
      assert.match(m.msg_id, UUID);
      assert.ok(Number.isInteger(m.duration) && m.duration > 0);
      assert.equal(m.proto_major, 1);
      assert.equal(m.proto_minor, 1);
      assert.deepEqual(m.errors, []);
    }
    assert.equal(new Set(msgs.map((m) => m.msg_id)).size, 3);
    const incoming = one(msgs, "/checkout/42", { sdkType: "JsExpress" });
    assert.equal(incoming.url_path, "/checkout/:id");
    assert.equal(incoming.parent_id, undefined);

    const f = one(msgs, "/v1/customers/42", { sdkType: "JsOutgoing" });
    assert.equal(f.parent_id, incoming.msg_id);
    assert.equal(f.host, new URL(up1.url).host);
    assert.equal(f.method, "POST");
    assert.equal(f.status_code, 200);
    assert.equal(f.url_path, "/v1/customers/:id");
    assert.deepEqual(f.path_params, { id: "42" });
    assert.deepEqual(b64json(f.request_body), { password: R, card: { number: R, exp: "12/30" } });
    assert.deepEqual(f.request_headers.authorization, [R]);
    assert.deepEqual(f.response_headers["x-upstream-secret"], [R]);
    assert.deepEqual(b64json(f.response_body), {
      url: "/v1/customers/42", got: { password: "hunter2", card: { number: "4111", exp: "12/30" } }, token: R, apiKey: "key-SECRET",
    }, "response rules only (request rules never touch response bodies); no destination rule for up1");

    const a = one(msgs, "/v2/charges/ch_42?capture=true", { sdkType: "JsAxiosOutgoing" });
    assert.equal(a.parent_id, incoming.msg_id);
    assert.equal(a.host, new URL(up2.url).host);
    assert.equal(a.method, "POST");
    assert.equal(a.status_code, 200);
    assert.equal(a.url_path, "/v2/charges/:chargeId");
    assert.deepEqual(a.path_params, { chargeId: "ch_42" });
    assert.deepEqual(a.query_params, { capture: ["true"] });
    assert.deepEqual(b64json(a.request_body), { amount: 10, card: { number: R } });
    assert.deepEqual(a.request_headers["x-partner-key"], [R]);
    assert.deepEqual(a.request_headers["content-type"], ["application/json"]);
    assert.deepEqual(a.response_headers["x-upstream-secret"], [R]);
    assert.deepEqual(a.response_headers["content-type"], ["application/json"]);
    assert.deepEqual(b64json(a.response_body), { url: "/v2/charges/ch_42?capture=true", got: { amount: 10, card: { number: "4242" } }, token: R, apiKey: R },
      "destination rule $.apiKey applies to up2 only");
    // The host header carries the upstream's random port (34111, ...): a port is not a secret.
    const everything = JSON.stringify(msgs.map((m) => [withoutHost(m.request_headers), m.response_headers, b64text(m.request_body)]));
    for (const s of ["hunter2", "4111", "4242\"}}", "partner-secret", "user-token", "up-secret"]) {
      if (s === "4242\"}}") continue; // 4242 is echoed in the up2 response body on purpose (no rule for $.got)
      assert.ok(!everything.includes(s), `${s} must not be published`);
    }
  });

  test("the default axios instance; errors reach the caller unchanged and are reported once", async () => {
    assert.equal(observeAxios(apitoolkit, axios), axios, "returns the instance");
    observeAxios(apitoolkit, axios); // twice: still one message per call
    const port = await closedPort();
    const bare = axios.create();
    const errorOf = (p: Promise<unknown>) => p.then(() => assert.fail("should fail"), (e: AxiosError) => [e.constructor.name, e.code, e.message, e.response?.status]);
    const [refused, refusedBare, missing, missingBare] = await Promise.all([
      errorOf(runInRequest({ msgId: "00000000-0000-4000-8000-00000000000a", errors: [], owner: {} }, () => axios.get(`http://127.0.0.1:${port}/refused`))),
      errorOf(runSuppressed(() => bare.get(`http://127.0.0.1:${port}/refused`))),
      errorOf(axios.get(`${up1.url}/missing/1`)),
      errorOf(runSuppressed(() => bare.get(`${up1.url}/missing/1`))),
    ]);
    assert.deepEqual(refused, refusedBare);
    assert.deepEqual(missing, missingBare);
    assert.equal(refused[1], "ECONNREFUSED");
    assert.equal(missing[3], 404);
    const ok = await axios.get(`${up1.url}/plain?a=1&a=2`);
    assert.equal((ok.data as { url: string }).url, "/plain?a=1&a=2");

    const msgs = await topic.pull(3);
    assert.deepEqual(await topic.drain(800), [], "one message per call: not captured again by fetch/node:http");
    const r = one(msgs, "/refused", { sdkType: "JsAxiosOutgoing" });
    assert.equal(r.status_code, 0);
    assert.equal(r.parent_id, "00000000-0000-4000-8000-00000000000a");
    assert.equal(r.host, `127.0.0.1:${port}`);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.error_type, "AxiosError");
    assert.match(r.errors[0]!.message + r.errors[0]!.root_error_message, /ECONNREFUSED/);
    const m = one(msgs, "/missing/1", { sdkType: "JsAxiosOutgoing" });
    assert.equal(m.status_code, 404);
    assert.equal(m.method, "GET");
    assert.equal(m.parent_id, undefined);
    assert.deepEqual(b64json(m.response_body), { url: "/missing/1", got: null, token: R, apiKey: "key-SECRET" });
    const p = one(msgs, "/plain?a=1&a=2", { sdkType: "JsAxiosOutgoing" });
    assert.deepEqual(p.query_params, { a: ["1", "2"] });
    assert.equal(p.url_path, "/plain");
    assert.equal(p.request_body, "");
  });

  test("axios with the fetch adapter, redirects and timeouts: captured once, by axios", async () => {
    const viaFetch = observeAxios(apitoolkit, axios.create({ adapter: "fetch" }));
    const r1 = await viaFetch.post(`${up1.url}/v1/customers/9`, { password: "pw" });
    assert.equal((r1.data as { url: string }).url, "/v1/customers/9");
    const r2 = await axios.get(`${up1.url}/redirect`);
    assert.equal((r2.data as { url: string }).url, "/final");
    const errorOf = (p: Promise<unknown>) => p.then(() => assert.fail("should time out"), (e: AxiosError) => [e.constructor.name, e.code, e.message]);
    const timedOut = await errorOf(axios.get(`${up1.url}/stall`, { timeout: 300 }));
    const timedOutBare = await runSuppressed(() => errorOf(axios.create().get(`${up1.url}/stall`, { timeout: 300 })));
    assert.deepEqual(timedOut, timedOutBare, "the caller's error is unchanged");
    assert.equal(timedOut[1], "ECONNABORTED");

    const msgs = await topic.pull(3);
    assert.deepEqual(await topic.drain(800), [], "no JsOutgoing duplicate (undici for the fetch adapter, node:http for the redirect hop)");
    const f = one(msgs, "/v1/customers/9", { sdkType: "JsAxiosOutgoing" });
    assert.equal(f.url_path, "/v1/customers/:id");
    assert.deepEqual(b64json(f.request_body), { password: R });
    assert.equal(f.status_code, 200);
    const red = one(msgs, "/redirect", { sdkType: "JsAxiosOutgoing" });
    assert.equal(red.status_code, 200, "the final status after following the redirect");
    const t = one(msgs, "/stall", { sdkType: "JsAxiosOutgoing" });
    assert.equal(t.status_code, 0);
    assert.equal(t.errors[0]!.error_type, "AxiosError");
    assert.match(t.errors[0]!.message, /timeout/);
  });

  test("calls made after an awaited axios call are captured normally (the axios mark does not leak)", async () => {
    const created = observeAxios(apitoolkit, axios.create({ baseURL: up1.url }));
    await created.get("/after/created");
    await axios.get(`${up1.url}/after/default`);
    await fetch(`${up1.url}/after/fetch`).then((r) => r.text());
    await new Promise<void>((resolve) => http.get(`${up1.url}/after/http`, (r) => r.resume().on("end", resolve)));
    const msgs = await topic.pull(4);
    one(msgs, "/after/created", { sdkType: "JsAxiosOutgoing" });
    one(msgs, "/after/default", { sdkType: "JsAxiosOutgoing" });
    one(msgs, "/after/fetch", { sdkType: "JsOutgoing" });
    one(msgs, "/after/http", { sdkType: "JsOutgoing" });
    assert.deepEqual(await topic.drain(800), []);
  });

  test("a fetch started right after an axios call in the same tick is still captured by fetch", async () => {
    const [a, f] = await Promise.all([axios.get(`${up1.url}/same-tick/axios`), fetch(`${up1.url}/same-tick/fetch`).then((r) => r.json())]);
    assert.equal((a.data as { url: string }).url, "/same-tick/axios");
    assert.equal((f as { url: string }).url, "/same-tick/fetch");
    const msgs = await topic.pull(2);
    one(msgs, "/same-tick/axios", { sdkType: "JsAxiosOutgoing" });
    one(msgs, "/same-tick/fetch", { sdkType: "JsOutgoing" });
    assert.deepEqual(await topic.drain(800), []);
  });
});

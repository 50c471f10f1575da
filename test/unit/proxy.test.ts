// Every call the SDK makes goes through the environment's egress proxy: the client_metadata
// bootstrap, the Pub/Sub publish, OTLP over HTTP and OTLP over gRPC, each against a real proxy on
// loopback (node:http: CONNECT tunnels and plain forwarding) and real stand-ins (an HTTPS one with
// a certificate made here with openssl, the OTLP receivers decoding with the official protos).
// Proxy credentials, refusals (retried and counted), NO_PROXY exemptions, which variable wins.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import type { AddressInfo } from "node:net";
import { APIToolkit, type APIToolkitOptions } from "../../src/index.js";
import { isPermanentError } from "../../src/delivery/transport.js";
import { createPubSubTransport } from "../../src/transport/pubsub/pubsub.js";
import { fetchClientMetadata } from "../../src/transport/pubsub/bootstrap.js";
import { grpcProxyOptions, proxyFor } from "../../src/transport/proxy.js";
import type { ClientMetadata } from "../../src/wire/types.js";
import { startExpress5 } from "../helpers/conformance-apps.js";
import { startOtlpReceiver, type OtlpReceiver } from "../helpers/otlp-receiver.js";
import { rawRequest as appRequest } from "../helpers/server.js";
import { runSuppressed } from "../../src/capture/context.js";
import { quietLogger } from "../helpers/logger.js";

let cert: string;
let key: string;
/** The HTTPS stand-in (Google's Pub/Sub and APIToolkit's client_metadata), and the same over plain HTTP. */
let secure: https.Server;
let secureURL: string;
let plain: http.Server;
let plainURL: string;
const published: Array<{ data: string; authorized: boolean }> = [];

/** What the proxy was asked: CONNECT host:port, or a forwarded method and absolute URL. */
interface ProxyCall {
  method: string;
  target: string;
  auth: string | undefined;
  bearer: string | undefined;
}
let proxy: http.Server;
let proxyURL: string;
const calls: ProxyCall[] = [];
/** Refuse this many calls (CONNECT or forwarded) with `refuseStatus`, then let them through. */
let refuseNext = 0;
let refuseStatus = 407;
/** Open tunnels (the http server no longer tracks a socket once CONNECT takes it). */
const tunnels = new Set<net.Socket>();

const account = () => ({
  type: "service_account",
  client_email: "publisher@apitoolkit-test.iam.gserviceaccount.com",
  private_key: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
});
const PROJECT_ID = "6b1b9f8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
const metadata = (): ClientMetadata => ({ project_id: PROJECT_ID, pubsub_project_id: "gcp-proj", topic_id: "events", pubsub_push_service_account: account() }) as ClientMetadata;

/** client_metadata (GET) and topics.publish (POST), as the real services answer them. */
function standIn(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method === "GET" && req.url === "/api/client_metadata") {
    if (req.headers.authorization !== "Bearer good-key") return void res.writeHead(401).end();
    res.setHeader("content-type", "application/json");
    return void res.end(JSON.stringify({ ...metadata(), pubsub_push_service_account: JSON.stringify({ type: "service_account" }) }));
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { messages: Array<{ data: string }> };
    for (const m of body.messages) published.push({ data: Buffer.from(m.data, "base64").toString("utf8"), authorized: /^Bearer /.test(req.headers.authorization ?? "") });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ messageIds: body.messages.map((_, i) => String(i)) }));
  });
}

function refusing(): boolean {
  if (refuseNext <= 0) return false;
  refuseNext--;
  return true;
}

before(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "apitoolkit-proxy-"));
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
      "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "pipe" });
  } catch (err) {
    throw new Error(`these tests need openssl (to make the stand-in's certificate): ${(err as Error).message}`);
  }
  cert = readFileSync(path.join(dir, "cert.pem"), "utf8");
  key = readFileSync(path.join(dir, "key.pem"), "utf8");
  rmSync(dir, { recursive: true, force: true });

  secure = https.createServer({ key, cert }, standIn);
  await new Promise<void>((r) => secure.listen(0, "127.0.0.1", r));
  secureURL = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
  plain = http.createServer(standIn);
  await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
  plainURL = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;

  // A forwarding proxy for http:// targets (absolute URL in the request line)...
  proxy = http.createServer((req, res) => {
    calls.push({ method: req.method ?? "", target: req.url ?? "", auth: req.headers["proxy-authorization"], bearer: req.headers.authorization });
    if (refusing()) return void res.writeHead(refuseStatus, { "proxy-authenticate": 'Basic realm="egress"' }).end();
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    // The proxy runs in the app's process: its own calls are not the app's (nor the SDK's).
    req.on("end", () => runSuppressed(() => {
      const upstream = http.request(req.url ?? "", { method: req.method, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    }));
  });
  // ...and CONNECT tunnels for https:// (and gRPC).
  proxy.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    calls.push({ method: "CONNECT", target: req.url ?? "", auth: req.headers["proxy-authorization"], bearer: req.headers.authorization });
    if (refusing()) {
      client.end(`HTTP/1.1 ${refuseStatus} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const at = (req.url ?? "").lastIndexOf(":");
    const upstream = net.connect(Number((req.url ?? "").slice(at + 1)), (req.url ?? "").slice(0, at).replace(/^\[|\]$/g, ""), () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    for (const socket of [client, upstream]) {
      tunnels.add(socket);
      socket.once("close", () => tunnels.delete(socket));
    }
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyURL = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

after(async () => {
  if (process.env.I19DBG) for (const socket of tunnels) console.error("OPEN", socket.remotePort, socket.localPort, socket.readyState);
  for (const socket of tunnels) socket.destroy();
  for (const s of [proxy, secure, plain]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "grpc_proxy", "no_grpc_proxy", "NODE_TLS_REJECT_UNAUTHORIZED"];

/** Run `fn` with exactly these proxy variables in process.env (the rest removed), then restore it; the proxy's log and refusals reset. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = new Map(VARS.map((k) => [k, process.env[k]]));
  for (const k of VARS) delete process.env[k];
  Object.assign(process.env, vars);
  calls.length = 0;
  published.length = 0;
  refuseNext = 0;
  try {
    return await fn();
  } finally {
    refuseNext = 0;
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString("base64")}`;
/** The proxy URL with credentials (percent-encoded as a URL needs them). */
const withCreds = () => proxyURL.replace("http://", "http://ops%40corp:s%3Acret@");
const CREDS = basic("ops@corp:s:cret");
/** A loopback port nothing listens on (a dead proxy). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe("client_metadata bootstrap", () => {
  test("an http:// rootURL goes through HTTP_PROXY, forwarded with the proxy credentials", async () => {
    await withEnv({ HTTP_PROXY: withCreds() }, async () => {
      const res = await fetchClientMetadata(plainURL, "good-key", 5000);
      assert.equal(res.kind, "ok");
      assert.deepEqual(calls.map((c) => [c.method, c.target, c.auth]), [["GET", `${plainURL}/api/client_metadata`, CREDS]]);
    });
  });

  test("an https:// rootURL goes through a CONNECT tunnel: the proxy sees host:port, never the key", async () => {
    // The stand-in's certificate is this test's own: trust it for this call only.
    await withEnv({ https_proxy: proxyURL, NODE_TLS_REJECT_UNAUTHORIZED: "0" }, async () => {
      const res = await fetchClientMetadata(secureURL, "good-key", 5000);
      assert.equal(res.kind, "ok");
      assert.deepEqual(calls.map((c) => [c.method, c.target, c.bearer]), [["CONNECT", new URL(secureURL).host, undefined]]);
    });
  });

  test("a refusing proxy (403 to CONNECT, 407 forwarding) is a retry, never an invalid API key", async () => {
    await withEnv({ HTTPS_PROXY: proxyURL, HTTP_PROXY: proxyURL, NODE_TLS_REJECT_UNAUTHORIZED: "0" }, async () => {
      refuseStatus = 403;
      refuseNext = 1;
      const connect = await fetchClientMetadata(secureURL, "good-key", 5000);
      assert.deepEqual(connect, { kind: "retry", reason: `the proxy ${proxyURL} refused the call (HTTP 403)` });
      refuseStatus = 407;
      refuseNext = 1;
      const forward = await fetchClientMetadata(plainURL, "good-key", 5000);
      assert.deepEqual(forward, { kind: "retry", reason: `the proxy ${proxyURL} refused the call (HTTP 407)` });
      assert.equal((await fetchClientMetadata(plainURL, "wrong-key", 5000)).kind, "unauthorized", "the server's own 401 still is");
    });
  });

  test("ALL_PROXY when no variable names the scheme; lower case before upper case, as curl", async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    await withEnv({ ALL_PROXY: proxyURL }, async () => {
      assert.equal((await fetchClientMetadata(plainURL, "good-key", 5000)).kind, "ok");
      assert.equal(calls.length, 1);
    });
    await withEnv({ http_proxy: proxyURL, HTTP_PROXY: dead }, async () => {
      assert.equal((await fetchClientMetadata(plainURL, "good-key", 5000)).kind, "ok");
      assert.equal(calls.length, 1);
    });
    await withEnv({ HTTP_PROXY: dead }, async () => {
      const res = await fetchClientMetadata(plainURL, "good-key", 5000);
      assert.deepEqual(res, { kind: "retry", reason: "ECONNREFUSED" }, "a dead proxy: retried");
    });
  });

  test("NO_PROXY naming the host: a direct call", async () => {
    await withEnv({ HTTP_PROXY: proxyURL, NO_PROXY: "localhost,127.0.0.1" }, async () => {
      assert.equal((await fetchClientMetadata(plainURL, "good-key", 5000)).kind, "ok");
      assert.equal(calls.length, 0);
    });
  });
});

const message = (text: string) => Buffer.from(JSON.stringify({ msg_id: text }));
const pubsub = () => createPubSubTransport(metadata(), 5000, { endpoint: secureURL, ca: cert });

describe("Pub/Sub publish", () => {
  test("through a CONNECT tunnel: TLS to the host inside it (its certificate checked), one tunnel for keep-alive calls", async () => {
    await withEnv({ HTTPS_PROXY: proxyURL }, async () => {
      const t = pubsub();
      try {
        await t.send([message("one")]);
        await t.send([message("two"), message("three")]);
      } finally {
        await t.close();
      }
      assert.deepEqual(published.map((p) => JSON.parse(p.data).msg_id), ["one", "two", "three"]);
      assert.ok(published.every((p) => p.authorized), "the JWT reached the host");
      assert.deepEqual(calls.map((c) => [c.method, c.target, c.bearer, c.auth]), [["CONNECT", new URL(secureURL).host, undefined, undefined]], "one tunnel, reused; the proxy never sees the token");
    });
  });

  test("credentials in the proxy URL become Proxy-Authorization (Basic); ALL_PROXY serves https:// too", async () => {
    await withEnv({ all_proxy: withCreds() }, async () => {
      const t = pubsub();
      try {
        await t.send([message("auth")]);
      } finally {
        await t.close();
      }
      assert.deepEqual(calls.map((c) => c.auth), [CREDS]);
    });
  });

  test("NO_PROXY naming the host and its port: a direct connection", async () => {
    await withEnv({ HTTPS_PROXY: proxyURL, NO_PROXY: `localhost, 127.0.0.1:${new URL(secureURL).port}` }, async () => {
      const t = pubsub();
      try {
        await t.send([message("direct")]);
      } finally {
        await t.close();
      }
      assert.equal(calls.length, 0);
      assert.deepEqual(published.map((p) => JSON.parse(p.data).msg_id), ["direct"]);
    });
  });

  test("a proxy that refuses the tunnel: a transient error naming the proxy's answer, not its credentials; the next send goes through", async () => {
    await withEnv({ HTTPS_PROXY: proxyURL.replace("http://", "http://user:hunter2@") }, async () => {
      refuseStatus = 407;
      refuseNext = 1;
      const t = pubsub();
      try {
        await assert.rejects(t.send([message("refused")]), (err: Error) => {
          assert.match(err.message, /^Pub\/Sub publish: the proxy http:\/\/127\.0\.0\.1:\d+ refused the call \(HTTP 407\)$/);
          assert.equal(isPermanentError(err), false, "retried: the proxy may let it through later");
          return true;
        });
        await t.send([message("later")]);
      } finally {
        await t.close();
      }
      assert.deepEqual(published.map((p) => JSON.parse(p.data).msg_id), ["later"]);
    });
  });

  test("a proxy variable that is not an http(s) URL: every send rejects, permanently, saying why", async () => {
    await withEnv({ HTTPS_PROXY: "socks5://127.0.0.1:1080" }, async () => {
      const t = pubsub();
      try {
        await assert.rejects(t.send([message("x")]), (err: Error) => {
          assert.match(err.message, /must be an http:\/\/ or https:\/\/ URL, not socks5:/);
          assert.equal(isPermanentError(err), true);
          return true;
        });
      } finally {
        await t.close();
      }
    });
  });
});

/** A client exporting over OTLP to `receiver`, an Express app with it, and the warnings it logged. */
async function otlpClient(receiver: OtlpReceiver, options: APIToolkitOptions = {}) {
  const warnings: string[] = [];
  const apitoolkit = new APIToolkit({
    apiKey: "proxy-test-key",
    delivery: "otlp",
    otlp: { endpoint: receiver.url, protocol: receiver.protocol },
    publishIntervalMs: 20,
    logger: { ...quietLogger, warn: (l) => void warnings.push(l) },
    ...options,
  });
  const app = await startExpress5(apitoolkit);
  return {
    apitoolkit,
    app,
    warnings,
    async close() {
      await app.close();
      await apitoolkit.close(2000);
      await receiver.close();
    },
  };
}

/** The test's own request to the app (not an outgoing call of the app's). */
const rawRequest = (url: string) => runSuppressed(() => appRequest(url));
const routes = (r: OtlpReceiver) => r.spans().map((s) => `${s.attributes["apitoolkit.sdk_type"]} ${s.attributes["url.path"]}`);

for (const protocol of ["http/protobuf", "grpc"] as const) {
  const through = protocol === "grpc" ? "CONNECT" : "POST";
  describe(`OTLP over ${protocol === "grpc" ? "gRPC" : "HTTP"}`, () => {
    test(`the export goes through HTTP_PROXY (${through}), with its credentials; the SDK's own calls are not captured as outgoing calls`, async () => {
      await withEnv({ HTTP_PROXY: withCreds() }, async () => {
        const receiver = await startOtlpReceiver(protocol);
        const c = await otlpClient(receiver, { monitorOutgoing: true });
        try {
          await rawRequest(`${c.app.url}/users/1`);
          await receiver.waitForSpans(1, 10_000);
          await rawRequest(`${c.app.url}/users/2`);
          await receiver.waitForSpans(2, 10_000);
          assert.ok(await c.apitoolkit.flush(2000));
          await new Promise((r) => setTimeout(r, 200));
          assert.equal(receiver.spans().length, 2, `only the app's two requests, no span of the SDK's exports: ${routes(receiver).join(", ")}`);
          const target = protocol === "grpc" ? new URL(receiver.url).host : `${receiver.url}/v1/traces`;
          assert.ok(calls.length >= 1 && calls.every((call) => call.method === through && call.target === target && call.auth === CREDS),
            `every call through the proxy, to the collector: ${JSON.stringify(calls)}`);
          assert.equal(receiver.exports[0]!.headers["user-agent"]?.includes("apitoolkit-node"), true);
          assert.deepEqual(c.warnings, []);
        } finally {
          await c.close();
        }
      });
    });

    test("a refusing proxy: the export is retried (stats().retries) and delivered once it lets it through", async () => {
      await withEnv({ http_proxy: proxyURL }, async () => {
        refuseStatus = 407;
        refuseNext = 1;
        const receiver = await startOtlpReceiver(protocol);
        const c = await otlpClient(receiver);
        try {
          await rawRequest(`${c.app.url}/users/1`);
          await receiver.waitForSpans(1, 15_000);
          assert.ok(await c.apitoolkit.flush(2000));
          const s = c.apitoolkit.stats();
          assert.ok(s.retries >= 1, `retried (${s.retries})`);
          assert.equal(s.published, 1);
          assert.equal(receiver.spans().length, 1, "delivered once");
          assert.ok(calls.length >= 2, "refused, then let through");
          assert.equal(c.warnings.some((w) => w.includes("W_PUBLISH_FAILED")), true, "the failure was warned once");
        } finally {
          await c.close();
        }
      });
    });

    test("NO_PROXY exempts the collector (domain entry, then `*`): direct exports", async () => {
      for (const noProxy of ["example.com,127.0.0.1", "*"]) {
        await withEnv({ HTTP_PROXY: proxyURL, no_proxy: noProxy }, async () => {
          const receiver = await startOtlpReceiver(protocol);
          const c = await otlpClient(receiver);
          try {
            await rawRequest(`${c.app.url}/users/1`);
            await receiver.waitForSpans(1, 10_000);
            assert.equal(calls.length, 0, `NO_PROXY=${noProxy}: not through the proxy`);
          } finally {
            await c.close();
          }
        });
      }
    });
  });
}

test("OTLP over gRPC ignores grpc-js's own variables (grpc_proxy): one rule for every call", async () => {
  await withEnv({ grpc_proxy: `http://127.0.0.1:${await deadPort()}` }, async () => {
    const receiver = await startOtlpReceiver("grpc");
    const c = await otlpClient(receiver);
    try {
      await rawRequest(`${c.app.url}/users/1`);
      await receiver.waitForSpans(1, 10_000);
      assert.equal(c.apitoolkit.stats().retries, 0, "direct, first time");
    } finally {
      await c.close();
    }
  });
});

describe("which proxy a call takes (proxy-from-env's reading of the environment)", () => {
  const cases: Array<[string, Record<string, string>, string | undefined]> = [
    ["https://pubsub.googleapis.com/x", {}, undefined],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "http://proxy:3128" }, "http://proxy:3128/"],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "proxy:3128" }, "http://proxy:3128/"],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "https://proxy:3128" }, "https://proxy:3128/"],
    ["https://pubsub.googleapis.com/x", { HTTP_PROXY: "http://proxy:3128" }, undefined],
    ["http://collector:4318/v1/traces", { HTTP_PROXY: "http://proxy:3128" }, "http://proxy:3128/"],
    ["http://collector:4318/v1/traces", { ALL_PROXY: "http://all:3128" }, "http://all:3128/"],
    ["https://pubsub.googleapis.com/x", { https_proxy: "http://lower:1", HTTPS_PROXY: "http://upper:2" }, "http://lower:1/"],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "http://p:1", NO_PROXY: "*" }, undefined],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "http://p:1", NO_PROXY: "pubsub.googleapis.com" }, undefined],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "http://p:1", NO_PROXY: ".googleapis.com" }, undefined],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "http://p:1", NO_PROXY: "*.googleapis.com" }, undefined],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "http://p:1", no_proxy: "PUBSUB.googleapis.COM" }, undefined],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "http://p:1", NO_PROXY: "googleapis.com" }, "http://p:1/"],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "http://p:1", NO_PROXY: "pubsub.googleapis.com:8443" }, "http://p:1/"],
    ["https://pubsub.googleapis.com/x", { HTTPS_PROXY: "http://p:1", NO_PROXY: "internal pubsub.googleapis.com:443" }, undefined],
    ["https://notgoogleapis.com/x", { HTTPS_PROXY: "http://p:1", NO_PROXY: ".googleapis.com" }, "http://p:1/"],
    ["https://[::1]:8443/x", { HTTPS_PROXY: "http://p:1", NO_PROXY: "[::1]" }, undefined],
  ];
  for (const [target, env, expected] of cases) {
    test(`${target} with ${JSON.stringify(env)}: ${expected ?? "direct"}`, async () => {
      await withEnv(env, async () => assert.equal(proxyFor(new URL(target))?.href, expected));
    });
  }
});

test("gRPC channel options: the proxy's address dialled, the collector as CONNECT target and authority, credentials decoded; an https:// proxy refused", async () => {
  await withEnv({ HTTPS_PROXY: "http://ops%40corp:s%3Acret@proxy.corp:3128" }, async () => {
    assert.deepEqual(grpcProxyOptions(new URL("https://collector.example.com:4317"), "4317"), {
      address: "proxy.corp:3128",
      options: { "grpc.enable_http_proxy": 0, "grpc.http_connect_target": "dns:collector.example.com:4317", "grpc.default_authority": "collector.example.com:4317", "grpc.http_connect_creds": "ops@corp:s:cret" },
    });
    assert.deepEqual(grpcProxyOptions(new URL("http://collector.example.com:4317"), "4317"), { address: "collector.example.com:4317", options: { "grpc.enable_http_proxy": 0 } }, "HTTPS_PROXY is not for http://");
  });
  await withEnv({ HTTPS_PROXY: "https://user:pw@proxy.corp:3129" }, async () => {
    assert.throws(() => grpcProxyOptions(new URL("https://collector.example.com"), "443"), (err: Error) => {
      assert.equal(err.message, "OTLP over gRPC reaches a proxy over plain HTTP only (grpc-js): https://proxy.corp:3129 is not http://");
      return true;
    });
  });
});

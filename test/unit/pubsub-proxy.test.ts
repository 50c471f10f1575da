// The Pub/Sub REST publisher behind an egress proxy: HTTPS_PROXY opens a CONNECT tunnel (real
// node:http proxy on loopback) to an HTTPS stand-in for Google (a certificate made here with
// openssl), NO_PROXY bypasses it, proxy credentials and refusals, a proxy value that is not usable.
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
import { isPermanentError } from "../../src/delivery/transport.js";
import { createPubSubTransport } from "../../src/transport/pubsub/pubsub.js";
import { exempt, proxyFor } from "../../src/transport/proxy.js";
import type { ClientMetadata } from "../../src/wire/types.js";

let cert: string;
let key: string;
let google: https.Server;
let googleURL: string;
const published: Array<{ data: string; authorized: boolean }> = [];

let proxy: http.Server;
let proxyPort: number;
const connects: Array<{ target: string; headers: http.IncomingHttpHeaders }> = [];
let refuse: number | undefined;

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

  google = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { messages: Array<{ data: string }> };
      for (const m of body.messages) published.push({ data: Buffer.from(m.data, "base64").toString("utf8"), authorized: /^Bearer /.test(req.headers.authorization ?? "") });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ messageIds: body.messages.map((_, i) => String(i)) }));
    });
  });
  await new Promise<void>((r) => google.listen(0, "127.0.0.1", r));
  googleURL = `https://127.0.0.1:${(google.address() as AddressInfo).port}`;

  proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push({ target: req.url ?? "", headers: req.headers });
    if (refuse !== undefined) {
      client.end(`HTTP/1.1 ${refuse} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyPort = (proxy.address() as AddressInfo).port;
});

after(async () => {
  proxy.closeAllConnections();
  google.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await new Promise((r) => google.close(r));
});

const account = () => ({
  type: "service_account",
  client_email: "publisher@apitoolkit-test.iam.gserviceaccount.com",
  private_key: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
});
const metadata = (): ClientMetadata => ({ project_id: "p", pubsub_project_id: "gcp-proj", topic_id: "events", pubsub_push_service_account: account() }) as ClientMetadata;
const message = (text: string) => Buffer.from(JSON.stringify({ msg_id: text }));

function transport(env: NodeJS.ProcessEnv) {
  return createPubSubTransport(metadata(), 5000, { endpoint: googleURL, ca: cert, env });
}

describe("HTTPS_PROXY", () => {
  test("the publish goes through a CONNECT tunnel (TLS to the host inside it, one tunnel for keep-alive calls)", async () => {
    connects.length = 0;
    published.length = 0;
    const t = transport({ HTTPS_PROXY: `http://127.0.0.1:${proxyPort}` });
    try {
      await t.send([message("one")]);
      await t.send([message("two"), message("three")]);
    } finally {
      await t.close();
    }
    assert.deepEqual(published.map((p) => JSON.parse(p.data).msg_id), ["one", "two", "three"]);
    assert.ok(published.every((p) => p.authorized), "the JWT reached the host");
    assert.equal(connects.length, 1, "one tunnel, reused");
    assert.equal(connects[0]!.target, new URL(googleURL).host);
    assert.equal(connects[0]!.headers.authorization, undefined, "the proxy never sees the token");
    assert.equal(connects[0]!.headers["proxy-authorization"], undefined, "no credentials were given");
  });

  test("credentials in the proxy URL become Proxy-Authorization (Basic), lower-case https_proxy works too", async () => {
    connects.length = 0;
    const t = transport({ https_proxy: `http://ops%40corp:s%3Acret@127.0.0.1:${proxyPort}` });
    try {
      await t.send([message("auth")]);
    } finally {
      await t.close();
    }
    assert.equal(connects.length, 1);
    assert.equal(connects[0]!.headers["proxy-authorization"], `Basic ${Buffer.from("ops@corp:s:cret").toString("base64")}`);
  });

  test("NO_PROXY exempts the host: a direct connection, no tunnel", async () => {
    connects.length = 0;
    published.length = 0;
    const t = transport({ HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: "localhost, 127.0.0.1" });
    try {
      await t.send([message("direct")]);
    } finally {
      await t.close();
    }
    assert.equal(connects.length, 0);
    assert.deepEqual(published.map((p) => JSON.parse(p.data).msg_id), ["direct"]);
  });

  test("a proxy that refuses the tunnel: the send rejects with a transient error naming the proxy's answer, not its credentials", async () => {
    refuse = 407;
    const t = transport({ HTTPS_PROXY: `http://user:hunter2@127.0.0.1:${proxyPort}` });
    try {
      await assert.rejects(t.send([message("refused")]), (err: Error) => {
        assert.match(err.message, /answered CONNECT .* with HTTP 407/);
        assert.doesNotMatch(err.message, /hunter2/);
        assert.equal(isPermanentError(err), false, "retried: the proxy may let it through later");
        return true;
      });
    } finally {
      refuse = undefined;
      await t.close();
    }
  });

  test("an HTTPS_PROXY that is not an http(s) URL: every send rejects, permanently, saying why", async () => {
    const t = transport({ HTTPS_PROXY: "socks5://127.0.0.1:1080" });
    try {
      await assert.rejects(t.send([message("x")]), (err: Error) => {
        assert.match(err.message, /HTTPS_PROXY must be an http:\/\/ or https:\/\/ URL/);
        assert.equal(isPermanentError(err), true);
        return true;
      });
    } finally {
      await t.close();
    }
  });
});

describe("which hosts NO_PROXY exempts", () => {
  const cases: Array<[string, number, string | undefined, boolean]> = [
    ["pubsub.googleapis.com", 443, undefined, false],
    ["pubsub.googleapis.com", 443, "", false],
    ["pubsub.googleapis.com", 443, "*", true],
    ["pubsub.googleapis.com", 443, "googleapis.com", true],
    ["pubsub.googleapis.com", 443, ".googleapis.com", true],
    ["pubsub.googleapis.com", 443, "*.googleapis.com", true],
    ["pubsub.googleapis.com", 443, "PUBSUB.googleapis.COM", true],
    ["pubsub.googleapis.com", 443, "apis.com", false],
    ["pubsub.googleapis.com", 443, "googleapis.com:8443", false],
    ["pubsub.googleapis.com", 443, "internal, googleapis.com:443", true],
    ["notgoogleapis.com", 443, "googleapis.com", false],
    ["::1", 443, "[::1]", true],
  ];
  for (const [host, port, noProxy, expected] of cases) {
    test(`${host}:${port} with NO_PROXY=${JSON.stringify(noProxy)}: ${expected ? "direct" : "proxied"}`, () => {
      assert.equal(exempt(host, port, noProxy), expected);
    });
  }

  test("proxyFor: only HTTPS targets, a value without a scheme taken as http://", () => {
    assert.equal(proxyFor(new URL("http://127.0.0.1:8085/x"), { HTTPS_PROXY: "proxy:3128" }), undefined);
    assert.equal(proxyFor(new URL("https://pubsub.googleapis.com/x"), { HTTPS_PROXY: "proxy:3128" })?.href, "http://proxy:3128/");
    assert.equal(proxyFor(new URL("https://pubsub.googleapis.com/x"), {}), undefined);
  });
});

// Listen on loopback port 0 and give back the base URL; raw requests for comparing answers byte for byte.
import assert from "node:assert/strict";
import http, { type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Listening { url: string; server: Server; close(): Promise<void> }

export async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

export function b64json(s: string): unknown {
  const text = Buffer.from(s, "base64").toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

export function b64text(s: string): string {
  return Buffer.from(s, "base64").toString("utf8");
}

/** A message's headers without `host`, whose random port must not look like a leaked secret to a substring check. */
export function withoutHost(headers: Record<string, string[]>): Record<string, string[]> {
  const { host: _host, ...rest } = headers;
  return rest;
}

/** What a raw node:http request got back: status, headers as node parsed them, body as latin1 text. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request through node:http (not fetch, so the headers come back exactly as sent); a body is sent
 * as JSON. Fails instead of hanging when no answer comes within 15 s.
 */
export function rawRequest(url: string, method = "GET", body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: body === undefined ? headers : { "content-type": "application/json", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString("latin1") }));
    });
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer from ${method} ${url}`)));
    req.end(body);
  });
}

/** Response headers without `date`, the one header two identical answers may differ in. */
export function stripDate(h: IncomingHttpHeaders): IncomingHttpHeaders {
  const { date: _date, ...rest } = h;
  return rest;
}

/**
 * Send each request to the app with the SDK and to the same app bare, at once, and assert that both
 * answered the same: status, headers (but `date`) and body byte for byte. Closes `bare` at the end.
 */
export async function assertSameAnswers(url: string, bare: { url: string; close(): Promise<void> },
  requests: ReadonlyArray<[path: string, method?: string, body?: string]>): Promise<void> {
  try {
    for (const [path, method, body] of requests) {
      const [a, b] = await Promise.all([rawRequest(url + path, method, body), rawRequest(bare.url + path, method, body)]);
      assert.equal(a.status, b.status, path);
      assert.deepEqual(stripDate(a.headers), stripDate(b.headers), path);
      assert.equal(a.body, b.body, path);
    }
  } finally {
    await bare.close();
  }
}

/** POST a JSON body in parts, one packet each, 30 ms apart: the handler runs in a later socket callback.
 *  Chunked unless `headers` give a content-length. */
export function slowPost(url: string, parts: string[], headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.flushHeaders();
    const rest = [...parts];
    const next = (): void => {
      const part = rest.shift();
      if (part === undefined) return void req.end();
      req.write(part);
      setTimeout(next, 30);
    };
    setTimeout(next, 30);
  });
}

/** GET `url` and destroy the request after `afterMs`, before the answer came (the server sees a 499). */
export function abortedGet(url: string, afterMs = 100): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get(url);
    req.on("error", () => resolve());
    setTimeout(() => req.destroy(), afterMs);
  });
}

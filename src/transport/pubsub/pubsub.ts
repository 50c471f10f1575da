/**
 * Google Cloud Pub/Sub over its REST API, hand-rolled on node:http(s): one
 * `POST /v1/projects/{project}/topics/{topic}:publish` per batch the delivery queue built, the
 * body written straight from the batch's bytes (./encode.ts), authorized with a self-signed JWT of
 * the returned service account (./auth.ts), failures turned into the errors Delivery classifies
 * (./errors.ts). No Google client library: it cost the host app ~100 MB of RSS and CPU of its own.
 *
 * `PUBSUB_EMULATOR_HOST` is honoured as the Google client honours it: plain HTTP to that host:port,
 * no Authorization. The proxy variables too (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`): the HTTPS
 * connection is a CONNECT tunnel through the proxy (../proxy.ts).
 */
import http from "node:http";
import https from "node:https";
import type { ClientMetadata } from "../../wire/types.js";
import type { ReleasingTransport } from "../../delivery/transport.js";
import { untraced } from "../untraced.js";
import { agentFor, proxyRefusal } from "../proxy.js";
import { serviceAccountAuthorizer, type Authorizer } from "./auth.js";
import { encodePublishBodies, encodePublishBody, fittingCount, MAX_REQUEST_BYTES, publishBodyBytes } from "./encode.js";
import { publishStatusError, publishTimeoutError } from "./errors.js";

const GOOGLE_ENDPOINT = "https://pubsub.googleapis.com";
const USER_AGENT = "apitoolkit-node (Pub/Sub publisher)";
/** Bytes of an error answer kept for the warning; a success answer (message ids) is read and dropped. */
const MAX_ERROR_BODY = 4096;

/** Not options: seams for the tests. */
export interface PubSubTransportInternals {
  /** Publish here instead of Google (still authorized, unlike the emulator). */
  endpoint?: string;
  /** The clock the JWT is stamped with (milliseconds). */
  now?: () => number;
  /** Certificates to trust for `endpoint` (a test's own). */
  ca?: string;
}

/** Bodies kept for reuse: Delivery has at most two batches in flight. */
const KEPT_BODIES = 2;
/** Kept bodies are let go after this long without a publish. */
const BODY_IDLE_MS = 30_000;
const BODY_UNIT = 64 * 1024;

/**
 * The publish bodies' memory, reused. A batch's body (up to ~5.6 MB with the default 4 MiB batches)
 * is written into a buffer taken here and given back once its request has closed (the socket no
 * longer reads it). Allocated per batch, it was megabytes of external memory per publish: garbage
 * that set off V8's full collections (each one growing the young generation by what it promoted)
 * and that the allocator kept. At most two are kept, let go after BODY_IDLE_MS without a publish.
 */
class BodyBuffers {
  private free: Buffer[] = [];
  private idle: NodeJS.Timeout | undefined;

  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    return Buffer.allocUnsafe(Math.min(Math.max(size, MAX_REQUEST_BYTES), Math.ceil(size / BODY_UNIT) * BODY_UNIT));
  }

  give(b: Buffer): void {
    this.free.push(b);
    if (this.free.length > KEPT_BODIES) this.free = this.free.sort((x, y) => y.length - x.length).slice(0, KEPT_BODIES);
    if (this.idle) this.idle.refresh();
    else {
      this.idle = setTimeout(() => {
        this.idle = undefined;
        this.free = [];
      }, BODY_IDLE_MS);
      this.idle.unref();
    }
  }

  clear(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    this.free = [];
  }
}

/** `PUBSUB_EMULATOR_HOST` as a base URL: `host:port`, or a URL already. */
function emulatorEndpoint(host: string): string {
  return /^https?:\/\//i.test(host) ? host.replace(/\/+$/, "") : `http://${host}`;
}

/**
 * The Pub/Sub transport for the topic client_metadata named. Never throws: a service account that
 * cannot sign makes every send reject with a permanent error (dropped as `rejected`, warned once).
 */
export function createPubSubTransport(metadata: ClientMetadata, publishTimeoutMs: number, internals: PubSubTransportInternals = {}): ReleasingTransport {
  const emulator = internals.endpoint === undefined ? process.env.PUBSUB_EMULATOR_HOST : undefined;
  const base = internals.endpoint ?? (emulator ? emulatorEndpoint(emulator) : GOOGLE_ENDPOINT);
  const url = new URL(`${base}/v1/projects/${encodeURIComponent(metadata.pubsub_project_id)}/topics/${encodeURIComponent(metadata.topic_id)}:publish`);
  const authorize: Authorizer | undefined = emulator ? undefined : serviceAccountAuthorizer(metadata.pubsub_push_service_account, internals.now);
  const client = url.protocol === "https:" ? https : http;
  // Delivery has at most two batches in flight. HTTPS goes through the environment's proxy when it
  // names one (NO_PROXY honoured); the emulator's plain HTTP never does, as with Google's clients.
  let agent: http.Agent;
  let unusableProxy: Error | undefined;
  const agentOptions = { keepAlive: true, maxSockets: 2, ...(internals.ca !== undefined ? { ca: internals.ca } : {}) };
  try {
    agent = url.protocol === "https:" ? agentFor(url, agentOptions) : new http.Agent(agentOptions);
  } catch (err) {
    agent = new https.Agent(agentOptions);
    unusableProxy = Object.assign(new Error(`Pub/Sub publish: ${(err as Error).message}`), { permanent: true });
  }
  let closed = false;

  const bodies = new BodyBuffers();

  /** POST `body`; `release` once the request has closed (its bytes no longer read). */
  function post(body: Buffer, authorization: string | undefined, release?: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const headers: Record<string, string> = { "user-agent": USER_AGENT, "content-type": "application/json", "content-length": String(body.length) };
      if (authorization) headers.authorization = authorization;
      const req = client.request(url, { method: "POST", agent, headers }, (res) => {
        const status = res.statusCode ?? 0;
        const refused = refusal(status);
        if (refused) {
          res.resume();
          done(Object.assign(refused, { message: `Pub/Sub publish: ${refused.message}` }));
          return;
        }
        const ok = status >= 200 && status < 300;
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on("data", (c: Buffer) => {
          if (!ok && kept < MAX_ERROR_BODY) {
            chunks.push(c);
            kept += c.length;
          }
        });
        res.on("error", (err) => done(err));
        res.on("close", () => done(new Error(`Pub/Sub publish: the connection closed before the answer (HTTP ${status}) ended`)));
        res.on("end", () => done(ok ? undefined : publishStatusError(status, Buffer.concat(chunks).toString("utf8"), res.headers["retry-after"])));
      });
      if (release) req.once("close", release);
      const refusal = proxyRefusal(req, agent);
      // A deadline for the whole call, not only an idle socket.
      const timer = setTimeout(() => req.destroy(publishTimeoutError(publishTimeoutMs)), publishTimeoutMs);
      timer.unref();
      req.on("error", (err) => done(err));
      req.end(body);
    });
  }

  /** POST the bodies one after the other (a `send` of more than one request's worth). */
  async function postAll(all: Buffer[], authorization: string | undefined): Promise<void> {
    for (const body of all) await post(body, authorization);
  }

  return {
    // Each body is a copy written before `send` returns (encodePublishBody): the messages' bytes are
    // not read after, nor referenced (Delivery hands views of reused memory, made for this call).
    releasesMessages: true,
    send(messages: Buffer[]): Promise<void> {
      if (closed) return Promise.reject(new Error("the Pub/Sub transport is closed"));
      if (unusableProxy) return Promise.reject(unusableProxy);
      let authorization: string | undefined;
      let body: Buffer | Buffer[];
      let buffer: Buffer | undefined;
      try {
        authorization = authorize?.(); // throws a permanent error when the account cannot sign
        if (fittingCount(messages, messages.length) < messages.length) {
          // More than one request's worth (never from Delivery, which cuts batches with `fits`).
          body = encodePublishBodies(messages);
        } else {
          const into = bodies.take(publishBodyBytes(messages));
          buffer = into;
          body = encodePublishBody(messages, into);
        }
      } catch (err) {
        return Promise.reject(err);
      }
      // Only the bodies from here on: nothing that outlives this call refers to `messages`.
      const give = buffer === undefined ? undefined : () => closed || bodies.give(buffer);
      return untraced(() => (Array.isArray(body) ? postAll(body, authorization) : post(body, authorization, give)));
    },
    // One POST per batch: Delivery cuts a batch where its body would pass Pub/Sub's 10 MB.
    fits: (messages, max) => fittingCount(messages, max),
    async close(): Promise<void> {
      closed = true;
      bodies.clear();
      agent.destroy(); // a publish still in flight fails (counted as a shutdown drop)
    },
  };
}

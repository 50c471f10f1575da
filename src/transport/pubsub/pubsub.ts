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
import { encodePublishBodies, fittingCount, publishBodyBytes } from "./encode.js";
import { ChunkBuffers, PublishBodyWriter } from "./body-stream.js";
import { publishStatusError, publishTimeoutError } from "./errors.js";

const GOOGLE_ENDPOINT = "https://pubsub.googleapis.com";
const USER_AGENT = "apitoolkit-node (Pub/Sub publisher)";
/** Chunks of one publish body written and not yet taken by the socket, at most. */
const CHUNKS_IN_FLIGHT = 2;
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

  const chunkBuffers = new ChunkBuffers();

  /**
   * POST `body`: a Buffer, or the batch's messages written by a PublishBodyWriter in chunks as the
   * socket takes them (`length`: the body's exact size).
   */
  function post(body: Buffer | PublishBodyWriter, length: number, authorization: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const streaming = !Buffer.isBuffer(body);
      let settled = false;
      const done = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Answered (or failed) before the whole body went out: the socket is of no further use.
        if (streaming && !(body as PublishBodyWriter).done) req.destroy();
        if (err) reject(err);
        else resolve();
      };
      const headers: Record<string, string> = { "user-agent": USER_AGENT, "content-type": "application/json", "content-length": String(length) };
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
      const refusal = proxyRefusal(req, agent);
      // A deadline for the whole call, not only an idle socket.
      const timer = setTimeout(() => req.destroy(publishTimeoutError(publishTimeoutMs)), publishTimeoutMs);
      timer.unref();
      req.on("error", (err) => done(err));
      if (!streaming) {
        req.end(body);
        return;
      }
      const writer = body;
      // Each chunk is encoded only once the socket has taken all but one of those before it (its
      // write's callback): at most CHUNKS_IN_FLIGHT chunks of a request exist at once, whether the
      // kernel takes them at once or the endpoint reads slowly. Nothing more is read of the
      // messages once the call has settled.
      let writing = 0;
      let ended = false;
      const pump = (): void => {
        while (!settled && !ended && writing < CHUNKS_IN_FLIGHT) {
          if (writer.done) {
            ended = true;
            if (writer.written !== length) {
              req.destroy(new Error(`publish body: wrote ${writer.written} of ${length} bytes`)); // a bug here, never the data's fault
              return;
            }
            req.end();
            return;
          }
          const chunk = chunkBuffers.take();
          const n = writer.fill(chunk);
          writing++;
          req.write(n === chunk.length ? chunk : chunk.subarray(0, n), (err) => {
            writing--;
            if (err) return; // failed: 'error' settles the call; the chunk is left to the GC
            chunkBuffers.give(chunk);
            pump();
          });
        }
      };
      pump();
    });
  }

  /** POST the bodies one after the other (a `send` of more than one request's worth). */
  async function postAll(all: Buffer[], authorization: string | undefined): Promise<void> {
    for (const body of all) await post(body, body.length, authorization);
  }

  return {
    // The body is written from the messages' bytes as the socket takes it (./body-stream.ts), until
    // the call settles; Delivery keeps a batch's memory until then and hands views made for the call.
    releasesMessages: true,
    send(messages: Buffer[]): Promise<void> {
      if (closed) return Promise.reject(new Error("the Pub/Sub transport is closed"));
      if (unusableProxy) return Promise.reject(unusableProxy);
      let authorization: string | undefined;
      try {
        authorization = authorize?.(); // throws a permanent error when the account cannot sign
        if (fittingCount(messages, messages.length) < messages.length) {
          // More than one request's worth (never from Delivery, which cuts batches with `fits`).
          const all = encodePublishBodies(messages);
          return untraced(() => postAll(all, authorization));
        }
      } catch (err) {
        return Promise.reject(err);
      }
      const writer = new PublishBodyWriter(messages);
      const length = publishBodyBytes(messages);
      return untraced(() => post(writer, length, authorization));
    },
    // One POST per batch: Delivery cuts a batch where its body would pass Pub/Sub's 10 MB.
    fits: (messages, max) => fittingCount(messages, max),
    async close(): Promise<void> {
      closed = true;
      chunkBuffers.clear();
      agent.destroy(); // a publish still in flight fails (counted as a shutdown drop)
    },
  };
}

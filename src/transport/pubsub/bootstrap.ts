/**
 * The client_metadata bootstrap: `GET {rootURL}/api/client_metadata` with the API key, answered
 * with the project, the Pub/Sub topic and the service account that publishes to it.
 */
import http from "node:http";
import https from "node:https";
import type { ClientMetadata } from "../../wire/types.js";
import { untraced } from "../untraced.js";
import { agentFor, proxyRefusal } from "../proxy.js";

const USER_AGENT = "apitoolkit-node (client_metadata)";

export type BootstrapResult =
  | { kind: "ok"; metadata: ClientMetadata }
  | { kind: "unauthorized"; status: number }
  /** A 200 whose body is not usable client_metadata (retried; `reason` names no value, only what is wrong). */
  | { kind: "bad_response"; reason: string }
  | { kind: "retry"; reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The metadata, or what is wrong with the body (field names only: the body holds a private key). */
function parseMetadata(body: unknown): ClientMetadata | string {
  if (!body || typeof body !== "object" || Array.isArray(body)) return "not a JSON object";
  const b = body as Record<string, unknown>;
  let sa = b.pubsub_push_service_account;
  if (typeof sa === "string") {
    try {
      sa = JSON.parse(sa);
    } catch {
      return "pubsub_push_service_account is not JSON";
    }
  }
  if (typeof b.project_id !== "string" || !UUID.test(b.project_id)) return "project_id is not a UUID";
  if (typeof b.pubsub_project_id !== "string" || !b.pubsub_project_id) return "pubsub_project_id is missing";
  if (typeof b.topic_id !== "string" || !b.topic_id) return "topic_id is missing";
  if (!sa || typeof sa !== "object") return "pubsub_push_service_account is missing";
  return {
    project_id: b.project_id,
    pubsub_project_id: b.pubsub_project_id,
    topic_id: b.topic_id,
    pubsub_push_service_account: sa as Record<string, unknown>,
  };
}

/** Bytes of a client_metadata answer read at most (a service account key is a few KB). */
const MAX_BODY = 1024 * 1024;

/** One GET through the environment's proxy for `url`: the status and, for a 200, the body. */
function get(url: URL, apiKey: string, timeoutMs: number): Promise<{ status: number; body?: string; refused?: Error }> {
  const agent = agentFor(url, {});
  const client = url.protocol === "https:" ? https : http;
  return new Promise<{ status: number; body?: string; refused?: Error }>((resolve, reject) => {
    const req = client.request(url, { agent, headers: { authorization: `Bearer ${apiKey}`, accept: "application/json", "user-agent": USER_AGENT } }, (res) => {
      const status = res.statusCode ?? 0;
      const refused = refusal(status);
      if (refused || status !== 200) {
        res.resume();
        resolve({ status, refused });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new Error(`the answer is larger than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.on("error", reject);
      res.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString("utf8") }));
    });
    const refusal = proxyRefusal(req, agent);
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: "TIMEOUT" })), timeoutMs);
    timer.unref();
    req.on("error", reject);
    req.on("close", () => {
      clearTimeout(timer);
      agent.destroy();
    });
    req.end();
  });
}

/**
 * One attempt at `GET {rootURL}/api/client_metadata`, bounded by timeoutMs, through the
 * environment's proxy (../proxy.ts). Never throws: 401/403 (from the server, not a refusing
 * proxy) is `unauthorized`, a 200 with an unusable body `bad_response`, anything else `retry`.
 */
export async function fetchClientMetadata(rootURL: string, apiKey: string, timeoutMs: number): Promise<BootstrapResult> {
  try {
    const res = await untraced(() => get(new URL(`${rootURL}/api/client_metadata`), apiKey, timeoutMs));
    if (res.refused) return { kind: "retry", reason: res.refused.message };
    if (res.status === 401 || res.status === 403) return { kind: "unauthorized", status: res.status };
    if (res.status !== 200) return { kind: "retry", reason: `HTTP ${res.status}` };
    let body: unknown;
    try {
      body = JSON.parse(res.body ?? "");
    } catch {
      return { kind: "bad_response", reason: "the body is not JSON" };
    }
    const metadata = parseMetadata(body);
    return typeof metadata === "string" ? { kind: "bad_response", reason: metadata } : { kind: "ok", metadata };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { kind: "retry", reason: e.code && e.code !== "TIMEOUT" ? e.code : e.message ?? String(err) };
  }
}

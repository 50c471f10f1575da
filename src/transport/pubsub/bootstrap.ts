import { runSuppressed } from "../../capture/context.js";
import type { ClientMetadata } from "../../wire/types.js";

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

/**
 * One attempt at `GET {rootURL}/api/client_metadata`, bounded by timeoutMs. Never throws: 401/403
 * is `unauthorized`, a 200 with an unusable body `bad_response`, anything else that fails `retry`.
 */
export async function fetchClientMetadata(rootURL: string, apiKey: string, timeoutMs: number): Promise<BootstrapResult> {
  try {
    const res = await runSuppressed(() =>
      fetch(`${rootURL}/api/client_metadata`, {
        headers: { authorization: `Bearer ${apiKey}`, accept: "application/json" },
        signal: AbortSignal.timeout(timeoutMs),
      }),
    );
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => undefined);
      return { kind: "unauthorized", status: res.status };
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return { kind: "retry", reason: `HTTP ${res.status}` };
    }
    const text = await res.text(); // a failure while reading is a network error: retried below
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { kind: "bad_response", reason: "the body is not JSON" };
    }
    const metadata = parseMetadata(body);
    return typeof metadata === "string" ? { kind: "bad_response", reason: metadata } : { kind: "ok", metadata };
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { code?: string } };
    const why = e.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : e.cause?.code ?? e.message ?? String(err);
    return { kind: "retry", reason: why };
  }
}

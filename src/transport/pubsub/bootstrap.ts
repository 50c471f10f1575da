import { runSuppressed } from "../../capture/context.js";
import type { ClientMetadata } from "../../wire/types.js";

export type BootstrapResult =
  | { kind: "ok"; metadata: ClientMetadata }
  | { kind: "unauthorized"; status: number }
  | { kind: "retry"; reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseMetadata(body: unknown): ClientMetadata | undefined {
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  let sa = b.pubsub_push_service_account;
  if (typeof sa === "string") {
    try {
      sa = JSON.parse(sa);
    } catch {
      return undefined;
    }
  }
  if (typeof b.project_id !== "string" || !UUID.test(b.project_id)) return undefined;
  if (typeof b.pubsub_project_id !== "string" || !b.pubsub_project_id) return undefined;
  if (typeof b.topic_id !== "string" || !b.topic_id) return undefined;
  if (!sa || typeof sa !== "object") return undefined;
  return {
    project_id: b.project_id,
    pubsub_project_id: b.pubsub_project_id,
    topic_id: b.topic_id,
    pubsub_push_service_account: sa as Record<string, unknown>,
  };
}

/** One attempt at `GET {rootURL}/api/client_metadata`, bounded by timeoutMs. Never throws. */
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
    const metadata = parseMetadata(await res.json());
    return metadata ? { kind: "ok", metadata } : { kind: "retry", reason: "unusable client_metadata body" };
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { code?: string } };
    const why = e.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : e.cause?.code ?? e.message ?? String(err);
    return { kind: "retry", reason: why };
  }
}

/**
 * A failed Pub/Sub REST call, as the error Delivery classifies (isPermanentError in
 * src/delivery/transport.ts): it carries the gRPC numeric `code` the same call would have failed
 * with over gRPC, so the REST publisher keeps the one classification the gRPC client had (3
 * INVALID_ARGUMENT permanent; 5 NOT_FOUND, 7 PERMISSION_DENIED, 16 UNAUTHENTICATED, 14 UNAVAILABLE...
 * transient), and the server's `Retry-After` as `retryAfterMs`.
 */
import { parseRetryAfter } from "../retry-after.js";

/** google.rpc.Code by name (Google's REST errors name it in `error.status`). */
const GRPC_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

/**
 * The gRPC code of an HTTP status, for answers without Google's error JSON (a proxy's, a load
 * balancer's): Google's own HTTP mapping of google.rpc.Code. 413 counts as INVALID_ARGUMENT: the
 * same bytes are refused again. Anything else is UNKNOWN (transient).
 */
const CODE_OF_STATUS: Readonly<Record<number, number>> = {
  400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 412: 9, 413: 3, 416: 11, 429: 8, 499: 1,
  500: 13, 501: 12, 502: 14, 503: 14, 504: 4,
};

/** An answer from Pub/Sub that is not a 2xx. */
export interface PublishError extends Error {
  /** The gRPC code (see the module comment). */
  code: number;
  /** The HTTP status. */
  status: number;
  retryAfterMs?: number;
}

/** Google's REST error body: `{"error":{"code":400,"message":"...","status":"INVALID_ARGUMENT"}}`. */
function googleError(body: string): { status?: string; message?: string } {
  try {
    const e = (JSON.parse(body) as { error?: { status?: unknown; message?: unknown } }).error;
    return {
      status: typeof e?.status === "string" ? e.status : undefined,
      message: typeof e?.message === "string" ? e.message : undefined,
    };
  } catch {
    return {};
  }
}

/** One printable line of at most 200 characters, with anything shaped like a JWT (a proxy echoing our request?) masked. */
const oneLine = (text: string): string =>
  text.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, "[token]").replace(/[^\x20-\x7e]+/g, " ").trim().slice(0, 200);

/** The error of a publish answered with `status` (not a 2xx), its body and its Retry-After header. */
export function publishStatusError(status: number, body: string, retryAfter: string | string[] | undefined): PublishError {
  const google = googleError(body);
  const named = google.status ? GRPC_NAMES.indexOf(google.status) : -1;
  const code = named > 0 ? named : CODE_OF_STATUS[status] ?? 2;
  const detail = oneLine(google.message ?? (google.status ? "" : body));
  const retryAfterMs = parseRetryAfter(retryAfter);
  return Object.assign(new Error(`Pub/Sub publish answered HTTP ${status} ${GRPC_NAMES[code]}${detail ? `: ${detail}` : ""}`), {
    code,
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  }) as PublishError;
}

/** The error of a publish that got no answer within `timeoutMs` (DEADLINE_EXCEEDED: transient). */
export function publishTimeoutError(timeoutMs: number): Error {
  return Object.assign(new Error(`Pub/Sub publish timed out after ${timeoutMs} ms`), { code: 4 });
}

/**
 * OTLP's retry rules (opentelemetry-proto `docs/specification.md`, "Failures"), turned into the
 * errors Delivery understands: `permanent: true` drops the batch as `rejected`; anything else is
 * retried with backoff, no sooner than the server's `retryAfterMs` hint (HTTP `Retry-After`, gRPC
 * `google.rpc.RetryInfo`).
 */
import { parseRetryAfter } from "../retry-after.js";

/** HTTP statuses OTLP/HTTP says to retry. */
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

/** gRPC codes OTLP/gRPC says to retry: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS. */
const RETRYABLE_GRPC = new Set([1, 4, 8, 10, 11, 14, 15]);
const GRPC_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

/** An export the collector refused or that failed on the way; see the module comment. */
export interface ExportError extends Error {
  permanent: boolean;
  retryAfterMs?: number;
  /** The HTTP status, for OTLP/HTTP. */
  status?: number;
  /** The gRPC status code, for OTLP/gRPC (not `code`: Delivery reads a numeric `code` as Pub/Sub's). */
  grpcCode?: number;
}

function exportError(message: string, fields: Omit<ExportError, "name" | "message">): ExportError {
  return Object.assign(new Error(message), fields) as ExportError;
}

/** The error of an OTLP/HTTP answer that is not a 2xx. */
export function httpStatusError(status: number, body: string, retryAfter: string | string[] | undefined): ExportError {
  const retryable = RETRYABLE_HTTP.has(status);
  const text = body.replace(/[^\x20-\x7e]+/g, " ").trim().slice(0, 200);
  return exportError(`OTLP/HTTP export answered ${status}${text ? `: ${text}` : ""}`, {
    permanent: !retryable,
    status,
    ...(retryable ? { retryAfterMs: parseRetryAfter(retryAfter) } : {}),
  });
}

/** The error of a failed OTLP/gRPC call (`details` and the `grpc-status-details-bin` trailer as grpc-js gives them). */
export function grpcStatusError(code: number, details: string, statusDetails: Buffer | undefined): ExportError {
  // A request over the server's size limit fails the same way again: not worth retrying.
  const tooLarge = code === 8 && /larger than max/i.test(details);
  const retryable = RETRYABLE_GRPC.has(code) && !tooLarge;
  return exportError(`OTLP/gRPC export failed: ${GRPC_NAMES[code] ?? code}${details ? `: ${details.slice(0, 200)}` : ""}`, {
    permanent: !retryable,
    grpcCode: code,
    ...(retryable && statusDetails ? { retryAfterMs: retryInfoDelayMs(statusDetails) } : {}),
  });
}

/**
 * The retry delay of a `google.rpc.Status` (the `grpc-status-details-bin` trailer) that carries a
 * `google.rpc.RetryInfo` detail; undefined otherwise. Reads only those few fields.
 */
export function retryInfoDelayMs(status: Buffer): number | undefined {
  try {
    for (const [field, value] of fields(status)) {
      if (field !== 3 || !Buffer.isBuffer(value)) continue; // Status.details: repeated Any
      let typeUrl = "";
      let payload: Buffer | undefined;
      for (const [f, v] of fields(value)) {
        if (f === 1 && Buffer.isBuffer(v)) typeUrl = v.toString("utf8");
        if (f === 2 && Buffer.isBuffer(v)) payload = v;
      }
      if (!typeUrl.endsWith("google.rpc.RetryInfo") || !payload) continue;
      for (const [f, v] of fields(payload)) {
        if (f !== 1 || !Buffer.isBuffer(v)) continue; // RetryInfo.retry_delay: Duration
        let seconds = 0;
        let nanos = 0;
        for (const [g, w] of fields(v)) {
          if (g === 1 && typeof w === "number") seconds = w;
          if (g === 2 && typeof w === "number") nanos = w;
        }
        return seconds * 1000 + Math.round(nanos / 1e6);
      }
    }
  } catch {
    /* not a Status we can read: no hint */
  }
  return undefined;
}

/** The top-level fields of a protobuf message: varints as numbers, length-delimited ones as Buffers. */
function* fields(buf: Buffer): Generator<[number, number | Buffer]> {
  let at = 0;
  const varint = (): number => {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (at >= buf.length) throw new RangeError("truncated varint");
      const b = buf[at++]!;
      n += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return n;
      mul *= 128;
    }
    throw new RangeError("varint too long");
  };
  while (at < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) yield [field, varint()];
    else if (wire === 2) {
      const len = varint();
      if (at + len > buf.length) throw new RangeError("truncated field");
      yield [field, buf.subarray(at, at + len)];
      at += len;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new RangeError(`wire type ${wire}`);
  }
}

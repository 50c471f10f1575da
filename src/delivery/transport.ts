/**
 * The interface between delivery policy (./delivery.ts) and a wire call (../transport/pubsub/), and
 * the one classification of transport errors: permanent (dropped as `rejected`) or transient
 * (retried with backoff).
 */
import type { ClientMetadata } from "../wire/types.js";
import { backoffMs } from "./backoff.js";

/** Where published batches go. The default publishes to Google Cloud Pub/Sub. */
export interface Transport {
  /** Publish encoded messages (each one wire message as UTF-8 JSON). Reject on failure; see
   *  {@link isPermanentError} for which errors are not retried. */
  send(messages: Buffer[]): Promise<void>;
  /** Release resources. Must not reject. */
  close(): Promise<void>;
  /**
   * Optional: how many of the first `max` messages go out in one wire request (at least 1). Delivery
   * never hands `send` more than that, so each request (one Pub/Sub POST, one OTLP export) is its
   * own unit of retry and of accounting (`stats().batches`, `published`, `retries`).
   */
  fits?(messages: readonly Buffer[], max: number): number;
}
/**
 * Not public: a built-in transport that reads a message's bytes only until its `send` settles
 * (it encodes them into its request body, the Pub/Sub one chunk by chunk as the socket takes it)
 * and keeps no reference to them after, so Delivery keeps queued messages in reused memory
 * (./arena.ts), written over only once the batch's send has settled, and hands `send` views made
 * for the call. `ids` says which message each one is, the same on a retry of it (the views are new).
 */
export interface ReleasingTransport extends Transport {
  readonly releasesMessages: true;
  send(messages: Buffer[], ids?: Float64Array): Promise<void>;
}

/** Creates the transport once client_metadata is known. */
export type TransportFactory = (metadata: ClientMetadata) => Transport | Promise<Transport>;

/** gRPC status codes that retrying cannot fix. */
const PERMANENT_CODES = new Set([3 /* INVALID_ARGUMENT */, 9 /* FAILED_PRECONDITION */, 11 /* OUT_OF_RANGE */, 12 /* UNIMPLEMENTED */]);

/**
 * The one classification of transport errors. Permanent (the batch is dropped as `rejected`, not
 * retried): an error with `permanent: true`, or a numeric gRPC `code` of 3 INVALID_ARGUMENT,
 * 9 FAILED_PRECONDITION, 11 OUT_OF_RANGE or 12 UNIMPLEMENTED. Everything else is transient and
 * retried with backoff: other gRPC codes (4 DEADLINE_EXCEEDED, 5 NOT_FOUND while a topic is
 * re-created, 14 UNAVAILABLE...), network errors, timeouts, a rejection with no reason.
 * The Pub/Sub REST transport speaks HTTP but puts on each error the gRPC code Google names in its
 * answer (`error.status`, or the one the HTTP status maps to: 400 is 3, 403 is 7, 404 is 5...), so
 * this stays the one classification (../transport/pubsub/errors.ts).
 *
 * @example
 * // A custom transport marks an error that retrying cannot fix:
 * throw Object.assign(new Error("payload refused"), { permanent: true });
 */
export function isPermanentError(err: unknown): boolean {
  const e = err as { permanent?: unknown; code?: unknown };
  return e?.permanent === true || (typeof e?.code === "number" && PERMANENT_CODES.has(e.code));
}

/** The longest pause a server's own retry hint (`retryAfterMs`) may ask for. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * How long publishing pauses after a transient error: equal-jitter backoff (250 ms doubling to
 * 30 s), or longer when the error carries the server's own hint as `retryAfterMs` (OTLP's HTTP
 * `Retry-After`, gRPC `RetryInfo`), capped at 5 minutes.
 *
 * @example
 * // A custom transport passes a server's hint on:
 * throw Object.assign(new Error("throttled"), { retryAfterMs: 2000 });
 */
export function retryDelayMs(err: unknown, attempt: number): number {
  const backoff = backoffMs(attempt, 250, 30_000);
  const hint = (err as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs;
  return typeof hint === "number" && hint > backoff ? Math.min(hint, MAX_RETRY_AFTER_MS) : backoff;
}

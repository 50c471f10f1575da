import { DROP_REASONS, type DropReason } from "../registry/drops.js";

export type { DropReason } from "../registry/drops.js";

/** Counters returned by `apitoolkit.stats()`. */
export interface Stats {
  /** Exchanges handed to the delivery queue. */
  captured: number;
  /** Messages the endpoint accepted (Pub/Sub, the OTLP collector, or a custom transport's send resolving). */
  published: number;
  /** Exchanges not captured because of sampleRate (not a loss: by design). */
  sampledOut: number;
  /** Exchanges or messages lost, by reason. */
  dropped: Record<DropReason, number>;
  /** Bytes currently held by the queue (captured + encoded + in flight). */
  queueBytes: number;
  /** Exchanges or messages currently held by the queue. */
  queueItems: number;
  /** The highest `queueBytes` so far (at most maxQueueBytes): what memory the queue asked for at its peak. */
  queuePeakBytes: number;
  /** Publish calls (or OTLP exports) retried after a transient failure. */
  retries: number;
  /** Publish calls (or OTLP exports) that succeeded: each batch is one call (Transport.fits). */
  batches: number;
  /** reportError() calls made outside any request. */
  errorsOutsideRequest: number;
  /** setUser/setTenant/setSession/setAttributes calls made outside any request. */
  identityOutsideRequest: number;
  /**
   * Values redacted so far, by rule: `header:authorization`, `query:api_key`, `path:token` (a route
   * parameter), `body:$.password`, `value:jwt`, `value:/acct-\d{6}/`, `body:uncheckable` (a body
   * replaced whole because it could not be checked). Rules that never fired are absent.
   */
  redactions: Record<string, number>;
  /** "pending" until client_metadata answered, then "ready"; "disabled" without a usable key; "closed" after close(). */
  state: "pending" | "ready" | "disabled" | "closed";
}

export function newStats(): Stats {
  return {
    captured: 0,
    published: 0,
    sampledOut: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
    queueBytes: 0,
    queueItems: 0,
    queuePeakBytes: 0,
    retries: 0,
    batches: 0,
    errorsOutsideRequest: 0,
    identityOutsideRequest: 0,
    redactions: Object.create(null) as Record<string, number>,
    state: "pending",
  };
}

import { performance } from "node:perf_hooks";
import type { Exchange } from "../capture/exchange.js";
import type { Transport } from "./transport.js";
import { backoffMs } from "./backoff.js";
import { isPermanentError } from "./transport.js";
import type { DropReason, Stats } from "./stats.js";

/** Pub/Sub refuses messages over 10 MB; stay clear of it. */
export const MAX_MESSAGE_BYTES = 9 * 1024 * 1024;
/** Rough per-exchange cost of headers and fields, for queue accounting before encoding. */
const EXCHANGE_OVERHEAD_BYTES = 1024;
/**
 * Longest stretch of encoding done in one go before yielding to the event loop. A batch of 500
 * 20 KB JSON bodies takes ~100 ms to redact and encode; done at once it stalls every request in
 * flight for that long (p99), in slices requests are served in between.
 */
const ENCODE_SLICE_MS = 4;

export interface DeliveryOptions {
  maxQueueBytes: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  publishIntervalMs: number;
  /** Turns an exchange into an encoded message; throws on failure (counted as build_failed). */
  build(ex: Exchange, projectId: string): Buffer;
  stats: Stats;
  onDrop(reason: DropReason, count: number, detail?: unknown): void;
  onRetry(err: unknown, delayMs: number): void;
  debug?(line: string): void;
}

interface Pending { ex: Exchange; bytes: number }
interface Encoded { data: Buffer }

/**
 * Delivery policy, apart from the wire call: a byte-bounded queue of captured exchanges, encoded in
 * batches off the request path, published in batches with jittered retry, flushed within a bound.
 */
export class Delivery {
  private pending: Pending[] = [];
  private ready: Encoded[] = [];
  /** Bytes of the encoded messages in `ready`. */
  private readyBytes = 0;
  private inFlight = 0;
  private bytes = 0;
  private transport: Transport | undefined;
  private projectId = "";
  private state: "waiting" | "ready" | "disabled" | "closed" = "waiting";
  private disabledReason: DropReason = "invalid_api_key";
  private timer: NodeJS.Timeout | undefined;
  private retryAttempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private enqueued = 0;
  private settled = 0;
  private waiters: Array<{ target: number; resolve: (done: boolean) => void }> = [];

  constructor(private readonly o: DeliveryOptions) {}

  /** Accept one captured exchange, or drop it with a counted reason. Constant time; never throws. */
  enqueue(ex: Exchange): void {
    const s = this.o.stats;
    if (this.state === "disabled") return this.drop(this.disabledReason, 1);
    if (this.state === "closed") return this.drop("shutdown", 1);
    const bytes = ex.requestBody.keptBytes + ex.responseBody.keptBytes + EXCHANGE_OVERHEAD_BYTES;
    if (this.bytes + bytes > this.o.maxQueueBytes) return this.drop("queue_full", 1);
    s.captured++;
    this.enqueued++;
    this.bytes += bytes;
    this.pending.push({ ex, bytes });
    this.updateGauges();
    if (this.state === "ready") this.schedule(this.pending.length >= this.o.maxBatchMessages ? 0 : this.o.publishIntervalMs);
  }

  /** Bootstrap done: start encoding and publishing what is queued. */
  start(transport: Transport, projectId: string): void {
    if (this.state !== "waiting") return;
    this.transport = transport;
    this.projectId = projectId;
    this.state = "ready";
    this.schedule(0);
  }

  /**
   * The key is invalid: drop what is queued and everything after. The drops settle, so a flush()
   * waiting on them resolves (true) at once instead of at its timeout.
   */
  disable(reason: DropReason): void {
    if (this.state === "closed" || this.state === "disabled") return;
    this.state = "disabled";
    this.disabledReason = reason;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.timer = this.retryTimer = undefined;
    this.dropQueued(reason);
  }

  /**
   * Resolve true once everything enqueued before this call is published or dropped; false if
   * `timeoutMs` passes first. Never rejects.
   */
  flush(timeoutMs: number): Promise<boolean> {
    const target = this.enqueued;
    if (this.settled >= target) return Promise.resolve(true);
    if (this.state === "ready") this.schedule(0);
    return new Promise((resolve) => {
      const waiter = { target, resolve };
      // Not unref'd: whoever awaits flush() keeps the process alive until it settles (bounded).
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      waiter.resolve = (done) => {
        clearTimeout(t);
        resolve(done);
      };
      this.waiters.push(waiter);
    });
  }

  /** Stop accepting; drop what is still queued with reason `shutdown`. Returns the transport to close. */
  shutdown(): Transport | undefined {
    this.state = "closed";
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.timer = this.retryTimer = undefined;
    this.dropQueued("shutdown");
    return this.transport;
  }

  /** Drop (and settle) everything queued; batches in flight are accounted for when they return. */
  private dropQueued(reason: DropReason): void {
    const queued = this.pending.length + this.ready.length;
    this.pending = [];
    this.ready = [];
    this.readyBytes = 0;
    this.bytes = 0;
    if (queued) {
      this.drop(reason, queued);
      this.settle(queued);
    }
    this.updateGauges();
  }

  private drop(reason: DropReason, count: number, detail?: unknown): void {
    this.o.stats.dropped[reason] += count;
    this.o.onDrop(reason, count, detail);
  }

  private settle(count: number): void {
    this.settled += count;
    if (!this.waiters.length) return;
    const done = this.waiters.filter((w) => this.settled >= w.target);
    if (!done.length) return;
    this.waiters = this.waiters.filter((w) => this.settled < w.target);
    for (const w of done) w.resolve(true);
  }

  private updateGauges(): void {
    this.o.stats.queueBytes = this.bytes;
    this.o.stats.queueItems = this.pending.length + this.ready.length + this.inFlight;
  }

  private schedule(delayMs: number): void {
    if (this.state !== "ready" || this.retryTimer) return;
    if (this.timer) {
      if (delayMs > 0) return; // already due soon enough
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, delayMs);
    this.timer.unref();
  }

  /**
   * Encode pending exchanges for at most ENCODE_SLICE_MS (and at most one batch), then publish
   * what is ready: full batches at once, the rest once nothing is left to encode (fewer, bigger
   * publish calls). Reschedules itself while exchanges are pending.
   */
  private tick(): void {
    if (this.state !== "ready") return;
    const limit = Math.min(this.pending.length, this.o.maxBatchMessages);
    const sliceEnd = performance.now() + ENCODE_SLICE_MS;
    let n = 0;
    while (n < limit) {
      const { ex, bytes } = this.pending[n++]!;
      this.bytes -= bytes;
      this.encode(ex);
      if ((n & 3) === 0 && performance.now() >= sliceEnd) break;
    }
    this.pending.splice(0, n);
    this.updateGauges();
    this.publishReady(this.pending.length > 0);
    if (this.pending.length) this.schedule(0);
  }

  private encode(ex: Exchange): void {
    let data: Buffer;
    try {
      data = this.o.build(ex, this.projectId);
    } catch (err) {
      this.drop("build_failed", 1, err);
      this.settle(1);
      return;
    }
    if (data.length > MAX_MESSAGE_BYTES) {
      this.drop("too_large", 1);
      this.settle(1);
      return;
    }
    this.bytes += data.length;
    this.readyBytes += data.length;
    this.ready.push({ data });
  }

  private takeBatch(): Encoded[] {
    let size = 0;
    let i = 0;
    while (i < this.ready.length && i < this.o.maxBatchMessages) {
      const len = this.ready[i]!.data.length;
      if (i > 0 && size + len > this.o.maxBatchBytes) break;
      size += len;
      i++;
    }
    this.readyBytes -= size;
    return this.ready.splice(0, i);
  }

  /** With `onlyFull`, publish only full batches (more exchanges are still being encoded). */
  private publishReady(onlyFull = false): void {
    // At most two publish calls in flight: enough to hide latency, bounded in memory (queue bytes).
    while (this.state === "ready" && !this.retryTimer && this.inFlight < 2 && this.ready.length) {
      if (onlyFull && this.ready.length < this.o.maxBatchMessages && this.readyBytes < this.o.maxBatchBytes) return;
      const batch = this.takeBatch();
      this.inFlight += batch.length;
      void this.send(batch);
    }
  }

  private async send(batch: Encoded[]): Promise<void> {
    const transport = this.transport!;
    let error: unknown;
    try {
      await transport.send(batch.map((m) => m.data));
    } catch (err) {
      error = err ?? new Error("publish failed");
    }
    this.inFlight -= batch.length;
    const bytes = batch.reduce((n, m) => n + m.data.length, 0);
    if (this.state === "closed" || this.state === "disabled") {
      // Shutdown (or disable) already dropped what was queued; this batch's fate is known now.
      if (error) this.drop(this.state === "closed" ? "shutdown" : this.disabledReason, batch.length, error);
      else this.o.stats.published += batch.length;
      this.settle(batch.length);
      return;
    }
    if (!error) {
      this.bytes -= bytes;
      this.retryAttempt = 0;
      this.o.stats.published += batch.length;
      this.o.stats.batches++;
      this.o.debug?.(`published ${batch.length} message(s), ${bytes} bytes`);
      this.settle(batch.length);
    } else if (isPermanentError(error)) {
      this.bytes -= bytes;
      this.drop("rejected", batch.length, error);
      this.settle(batch.length);
    } else {
      // Transient: put it back in front, in order, and pause publishing for a jittered backoff.
      this.ready.unshift(...batch);
      this.readyBytes += bytes;
      this.o.stats.retries++;
      const delay = backoffMs(this.retryAttempt++, 250, 30_000);
      this.o.onRetry(error, delay);
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.publishReady();
          if (this.pending.length) this.schedule(0);
        }, delay);
        this.retryTimer.unref();
      }
    }
    this.updateGauges();
    this.publishReady();
    if (this.pending.length) this.schedule(0);
  }
}

import type { Exchange } from "../capture/exchange.js";
import type { ReleasingTransport, Transport } from "./transport.js";
import { Arena, MAX_COPIED } from "./arena.js";
import { Batch, MessageQueue } from "./queue.js";
import { isPermanentError, retryDelayMs } from "./transport.js";
import type { DropReason, Stats } from "./stats.js";

/**
 * The largest message delivered: what one Pub/Sub REST publish request (10,000,000 bytes, the limit
 * the transport keeps, base64 included: 4/3 of the data) can carry alone. A larger one is dropped as
 * `too_large` at once rather than refused by Pub/Sub later (test/unit/pubsub-rest.test.ts holds the
 * two numbers together).
 */
export const MAX_MESSAGE_BYTES = 7_499_979;

/**
 * A batch that fails transiently this many times in a row goes out again as halves: one message the
 * endpoint keeps failing on (or a batch too big for something on the way) must not hold up the queue
 * behind it forever.
 */
export const SPLIT_AFTER_FAILURES = 3;
/**
 * A message sent alone that has failed this many times, while other batches were published after
 * its first failure, is given up (`retries_exhausted`). In an outage nothing is published, so
 * nothing is given up: the queue holds (bounded) until the endpoint is back.
 */
export const GIVE_UP_AFTER_FAILURES = 3;

/** Transient failures in a row of the batch a message heads, and that batch's size. */
interface HeadFailures {
  count: number;
  size: number;
}

export interface DeliveryOptions {
  maxQueueBytes: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  publishIntervalMs: number;
  /**
   * Turns an exchange into the bytes of its message, with `projectId` in it when bootstrap has given
   * it (undefined before: `stamp` writes it in later); throws on failure (counted as build_failed).
   * `alloc`, when given, hands out the memory to write the message into (the queue's reused pages):
   * the message is then the Buffer it returned, or that Buffer's first bytes.
   */
  build(ex: Exchange, projectId: string | undefined, alloc?: (bytes: number) => Buffer): Buffer;
  /** Writes the project id bootstrap gave into a message built before it was known (once, at start). */
  stamp(message: Buffer, projectId: string): void;
  stats: Stats;
  onDrop(reason: DropReason, count: number, detail?: unknown): void;
  onRetry(err: unknown, delayMs: number): void;
  debug?(line: string): void;
}

/**
 * Delivery policy, apart from the wire call: each exchange becomes the bytes of its message the
 * moment it is handed over (so no request's objects outlive its response), a queue bounded by
 * those exact bytes holds them, batches are published with jittered retry, flush is bounded.
 */
export class Delivery {
  /** Messages waiting to be published, in order (numbers, no object per message: ./queue.ts). */
  private ready = new MessageQueue();
  /** The next message's id (stable across retries: failure counts and OTLP's partial exports key on it). */
  private nextId = 0;
  /** Bytes of the messages in `ready`. */
  private readyBytes = 0;
  /** Messages in publish calls not yet returned, and those calls (at most two). */
  private inFlight = 0;
  private inFlightBatches = 0;
  /** Bytes held: ready plus in flight. */
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
  /** Batches published so far (evidence that the endpoint works when one message keeps failing). */
  private publishedBatches = 0;
  /** Keyed by the id of the first message of a batch that failed transiently (deleted when it settles). */
  private failures = new Map<number, HeadFailures>();
  private waiters: Array<{ target: number; resolve: (done: boolean) => void }> = [];
  /** Where queued messages are copied, when the transport lets go of their bytes once sent. */
  private arena: Arena | undefined;
  /** Where `place` put the message being built (-1: it did not; the message is its own Buffer). */
  private placed = -1;
  /**
   * build's `alloc` with the arena: the message is written straight into a page (its base64 bodies
   * too, with no string: src/wire/body.ts), so a message costs neither a fresh Buffer nor a copy.
   * Too large for a page: a Buffer of its own, as without the arena.
   */
  private readonly place = (bytes: number): Buffer => {
    const arena = this.arena;
    if (arena === undefined || bytes === 0 || bytes > MAX_COPIED || this.placed >= 0) return Buffer.allocUnsafe(bytes);
    this.placed = arena.reserve(bytes);
    return arena.view(this.placed, bytes);
  };

  constructor(private readonly o: DeliveryOptions) {}

  /**
   * Accept one captured exchange: build its message now, queue the bytes, or drop it with a
   * counted reason. Never throws.
   */
  enqueue(ex: Exchange): void {
    const s = this.o.stats;
    if (this.state === "disabled") return this.drop(this.disabledReason, 1);
    if (this.state === "closed") return this.drop("shutdown", 1);
    if (this.bytes >= this.o.maxQueueBytes) return this.drop("queue_full", 1); // full: do not even build
    let data: Buffer;
    const arena = this.arena;
    this.placed = -1;
    try {
      data = this.o.build(ex, this.state === "ready" ? this.projectId : undefined, arena !== undefined ? this.place : undefined);
    } catch (err) {
      arena?.release(this.placed);
      s.captured++;
      return this.drop("build_failed", 1, err);
    }
    const placed = this.placed;
    if (this.bytes + data.length > this.o.maxQueueBytes) {
      arena?.release(placed);
      return this.drop("queue_full", 1);
    }
    s.captured++;
    if (data.length > MAX_MESSAGE_BYTES) {
      arena?.release(placed);
      return this.drop("too_large", 1);
    }
    // Written into a page by build (no copy), else copied into one now when it fits.
    const loc = placed >= 0 ? placed : arena !== undefined ? arena.hold(data) : -1;
    this.enqueued++;
    this.bytes += data.length;
    this.readyBytes += data.length;
    this.ready.push(loc, data.length, this.nextId++, loc < 0 ? data : undefined);
    this.updateGauges();
    if (this.state !== "ready") return;
    if (this.ready.size >= this.o.maxBatchMessages || this.readyBytes >= this.o.maxBatchBytes) this.publishReady();
    else this.schedule(this.o.publishIntervalMs);
  }

  /** Bootstrap done: publish what is queued. */
  start(transport: Transport, projectId: string): void {
    if (this.state !== "waiting") return;
    this.transport = transport;
    if ((transport as Partial<ReleasingTransport>).releasesMessages === true) this.arena = new Arena();
    this.projectId = projectId;
    this.state = "ready";
    // Messages built before the project was known carry the placeholder; those built from now on carry the id.
    // (They are their own Buffers: the arena exists from now on.)
    for (let i = 0; i < this.ready.size; i++) this.o.stamp(this.ready.ownAt(i)!, projectId);
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
    this.arena?.clear(); // its free pages and idle timer; pages still in flight go with their batches
    return this.transport;
  }

  /** Drop (and settle) everything queued; batches in flight are accounted for when they return. */
  private dropQueued(reason: DropReason): void {
    const queued = this.ready.size;
    this.bytes -= this.readyBytes; // what is in flight stays counted until it returns
    this.forget(this.ready.clear());
    this.failures.clear();
    this.readyBytes = 0;
    if (queued) {
      this.drop(reason, queued);
      this.settle(queued);
    }
    this.updateGauges();
  }

  /** `batch` is settled (published or dropped): its memory may be reused. */
  private forget(batch: Batch): void {
    if (batch.size > 0) this.failures.delete(batch.id[0]!);
    const arena = this.arena;
    if (arena !== undefined) for (let i = 0; i < batch.size; i++) arena.release(batch.loc[i]!);
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
    const s = this.o.stats;
    s.queueBytes = this.bytes;
    if (this.bytes > s.queuePeakBytes) s.queuePeakBytes = this.bytes;
    s.queueItems = this.ready.size + this.inFlight;
  }

  private schedule(delayMs: number): void {
    if (this.state !== "ready" || this.retryTimer) return;
    if (this.timer) {
      if (delayMs > 0) return; // already due soon enough
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publishReady();
    }, delayMs);
    this.timer.unref();
  }

  /**
   * The next batch: up to maxBatchMessages/maxBatchBytes (a message larger than maxBatchBytes goes
   * alone), and no more than the transport puts in one wire request (Transport.fits), so a batch
   * is exactly one request; a batch that failed before goes out at the size it failed at, halved
   * after SPLIT_AFTER_FAILURES failures in a row.
   */
  private takeBatch(): Batch {
    const ready = this.ready;
    let max = this.o.maxBatchMessages;
    const failed = ready.size ? this.failures.get(ready.idAt(0)) : undefined;
    if (failed !== undefined) max = failed.count >= SPLIT_AFTER_FAILURES ? Math.ceil(failed.size / 2) : failed.size;
    let size = 0;
    let i = 0;
    while (i < ready.size && i < max) {
      const len = ready.lengthAt(i);
      if (i > 0 && size + len > this.o.maxBatchBytes) break;
      size += len;
      i++;
    }
    const fits = this.transport?.fits;
    if (fits && i > 1) {
      let n = i;
      try {
        n = fits.call(this.transport, this.views(i), i);
      } catch {
        /* a transport's estimate failing: the batch goes as it is */
      }
      if (Number.isInteger(n) && n >= 1 && n < i) i = n;
    }
    const batch = ready.take(i);
    this.readyBytes -= batch.bytes;
    return batch;
  }

  /** The first `n` queued messages as Buffers (views of the arena made now, or their own). */
  private views(n: number): Buffer[] {
    const out = new Array<Buffer>(n);
    for (let i = 0; i < n; i++) {
      const loc = this.ready.locAt(i);
      out[i] = loc < 0 ? this.ready.ownAt(i)! : this.arena!.view(loc, this.ready.lengthAt(i));
    }
    return out;
  }

  /**
   * Count a transient failure of `batch` (against its first message) and say whether to give it
   * up: only a message sent alone that has failed GIVE_UP_AFTER_FAILURES times, when batches were
   * published after it first failed (so the endpoint works, only not for it).
   */
  private giveUp(batch: Batch): boolean {
    for (let i = 0; i < batch.size; i++) if (batch.fail[i]! < 0) batch.fail[i] = this.publishedBatches;
    const head = batch.id[0]!;
    let failed = this.failures.get(head);
    if (failed === undefined) this.failures.set(head, (failed = { count: 0, size: batch.size }));
    else if (failed.size !== batch.size) {
      failed.count = 0;
      failed.size = batch.size;
    }
    failed.count++;
    return batch.size === 1 && failed.count >= GIVE_UP_AFTER_FAILURES && this.publishedBatches > batch.fail[0]!;
  }

  /** Publish what is ready, in batches: at most two publish calls in flight (latency hidden, memory bounded). */
  private publishReady(): void {
    if (this.timer && this.ready.size >= this.o.maxBatchMessages) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.state === "ready" && !this.retryTimer && this.inFlightBatches < 2 && this.ready.size) {
      const batch = this.takeBatch();
      this.inFlight += batch.size;
      this.inFlightBatches++;
      void this.send(batch);
    }
  }

  /**
   * The transport's call, with the batch's messages as Buffers made here: with the arena, views that
   * die young once the transport has encoded them (no frame that outlives the call keeps them).
   */
  private call(batch: Batch): Promise<void> {
    const messages = new Array<Buffer>(batch.size);
    for (let i = 0; i < batch.size; i++) {
      const loc = batch.loc[i]!;
      messages[i] = loc < 0 ? batch.own[i]! : this.arena!.view(loc, batch.len[i]!);
    }
    const transport = this.transport as ReleasingTransport;
    return this.arena !== undefined ? transport.send(messages, batch.id) : transport.send(messages);
  }

  private async send(batch: Batch): Promise<void> {
    let error: unknown;
    try {
      await this.call(batch);
    } catch (err) {
      error = err ?? new Error("publish failed");
    }
    const count = batch.size;
    this.inFlight -= count;
    this.inFlightBatches--;
    const bytes = batch.bytes;
    if (this.state === "closed" || this.state === "disabled") {
      // Shutdown (or disable) already dropped what was queued; this batch's fate is known now.
      this.bytes -= bytes;
      this.forget(batch);
      if (error) this.drop(this.state === "closed" ? "shutdown" : this.disabledReason, count, error);
      else this.o.stats.published += count;
      this.settle(count);
      this.updateGauges();
      return;
    }
    if (!error) {
      this.bytes -= bytes;
      this.forget(batch);
      this.retryAttempt = 0;
      this.publishedBatches++;
      this.o.stats.published += count;
      this.o.stats.batches++;
      this.o.debug?.(`published ${count} message(s), ${bytes} bytes`);
      this.settle(count);
    } else if (isPermanentError(error)) {
      this.bytes -= bytes;
      this.forget(batch);
      this.drop("rejected", count, error);
      this.settle(count);
    } else if (this.giveUp(batch)) {
      this.bytes -= bytes;
      this.forget(batch);
      this.drop("retries_exhausted", count, error);
      this.settle(count);
    } else {
      // Transient: put it back in front, in order, and pause publishing for a jittered backoff.
      this.ready.unshift(batch);
      this.readyBytes += bytes;
      this.o.stats.retries++;
      const delay = retryDelayMs(error, this.retryAttempt++);
      this.o.onRetry(error, delay);
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.publishReady();
        }, delay);
        this.retryTimer.unref();
      }
    }
    this.updateGauges();
    // More than a batch waited while this one was out: send it now; a partial one on the timer,
    // unless a flush() waits for it (it could not go out when the flush asked: two were in flight).
    if (this.ready.size >= this.o.maxBatchMessages || this.readyBytes >= this.o.maxBatchBytes) this.publishReady();
    else if (this.ready.size) this.schedule(this.waiters.length ? 0 : this.o.publishIntervalMs);
  }
}

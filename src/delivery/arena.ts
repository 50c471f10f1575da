/**
 * Where queued messages live while they wait: a few reused 1 MiB pages instead of one ArrayBuffer
 * per message.
 *
 * Why: a message waits in the queue for the batching interval and its publish call, long enough
 * for V8 to promote it to the old generation. Its backing store (external memory) is then freed only
 * by a full collection, so every ~64 MB of messages set one off, and each one promoted the whole
 * young generation, which V8 takes as a reason to grow it: +100 MB of RSS on Node 24 under load
 * (issue 17). Copied into a page, the message's own Buffer dies young (the scavenger frees it, as it
 * frees the app's own response Buffers) and the pages are reused.
 *
 * Only for transports that are done with a message's bytes once `send` settled (the built-in
 * Pub/Sub transport copies them into its request body): a page is written again after that.
 */
const PAGE_BYTES = 1024 * 1024;
/** Messages larger than this keep their own Buffer (rare: a page holds at least four). */
const MAX_COPIED = PAGE_BYTES / 4;
/** Empty pages kept for reuse; more are let go (the queue's budget bounds the pages in use). */
const KEPT_FREE = 2;

interface Page {
  buf: Buffer;
  /** Bytes written so far. */
  used: number;
  /** Messages in it not yet released. */
  live: number;
}

export class Arena {
  private current: Page | undefined;
  private free: Page[] = [];
  private pageOf = new WeakMap<Buffer, Page>();

  /** A copy of `data` in a page (or `data` itself when it is too large to copy). */
  hold(data: Buffer): Buffer {
    const n = data.length;
    if (n > MAX_COPIED || n === 0) return data;
    let page = this.current;
    if (page === undefined || page.used + n > PAGE_BYTES) {
      if (page !== undefined && page.live === 0) this.recycle(page);
      page = this.current = this.free.pop() ?? { buf: Buffer.allocUnsafeSlow(PAGE_BYTES), used: 0, live: 0 };
    }
    const copy = page.buf.subarray(page.used, page.used + n);
    data.copy(copy);
    page.used += n;
    page.live++;
    this.pageOf.set(copy, page);
    return copy;
  }

  /** `message` is settled (published or dropped): its bytes may be written over. */
  release(message: Buffer): void {
    const page = this.pageOf.get(message);
    if (page === undefined) return;
    this.pageOf.delete(message);
    if (--page.live > 0) return;
    if (page === this.current) page.used = 0; // empty: written again from its start
    else this.recycle(page);
  }

  private recycle(page: Page): void {
    page.used = 0;
    if (this.free.length < KEPT_FREE) this.free.push(page);
  }
}

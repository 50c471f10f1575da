/**
 * Where queued messages' bytes live while they wait: a few reused 1 MiB pages instead of one
 * ArrayBuffer per message, each message known by a number (its location), not by an object.
 *
 * Why: a message waits in the queue for the batching interval and its publish call, long enough
 * to survive V8's scavenges. Anything of it that is a JS object (a Buffer, a view of a page) then
 * counts as surviving young-generation bytes, and V8 grows the young generation each time the bytes
 * surviving scavenges since its last growth pass its capacity: up to 128 MB of RSS on Node 24 under
 * load (issue 17), where the app itself keeps 16. A message's own Buffer was, besides, freed only by
 * full collections once promoted. Copied into a page and indexed by numbers (./queue.ts), a queued
 * message costs no JS object at all; views are made only when a batch is sent.
 *
 * Only for transports that are done with a message's bytes once `send` settled (the built-in
 * Pub/Sub and OTLP transports encode them into their request body): a page is written again after.
 */
export const PAGE_BYTES = 1024 * 1024;
/** Messages larger than this keep their own Buffer (rare: a page holds at least four). */
export const MAX_COPIED = PAGE_BYTES / 4;
/** Empty pages kept for reuse beyond this many are let go after IDLE_MS without a new page taken. */
const KEPT_FREE = 2;
const IDLE_MS = 30_000;

export class Arena {
  /** Pages by index; a slot let go is undefined (and reused). */
  private pages: Array<Buffer | undefined> = [];
  /** Messages held in each page and not released yet. */
  private live: number[] = [];
  /** Empty pages (indexes) other than the current one. */
  private free: number[] = [];
  private current = -1;
  /** Bytes written into the current page. */
  private used = 0;
  private idle: NodeJS.Timeout | undefined;

  /**
   * Copy `data` into a page; its location (page * PAGE_BYTES + offset), or -1 when it is too large
   * to copy (or empty): the caller keeps `data` itself then.
   */
  hold(data: Buffer): number {
    const n = data.length;
    if (n > MAX_COPIED || n === 0) return -1;
    const loc = this.reserve(n);
    data.copy(this.pages[Math.floor(loc / PAGE_BYTES)]!, loc % PAGE_BYTES);
    return loc;
  }

  /**
   * Room for `n` bytes (0 < n <= MAX_COPIED) in a page, for a message written there directly
   * (serializeExchange's `alloc`); its location, released like a held message's (also when the
   * message is dropped after all).
   */
  reserve(n: number): number {
    if (this.current < 0 || this.used + n > PAGE_BYTES) this.nextPage();
    const page = this.current;
    const at = this.used;
    this.used = at + n;
    this.live[page]!++;
    return page * PAGE_BYTES + at;
  }

  /** A view of the `length` bytes at `loc` (made when a batch is sent; let it go after). */
  view(loc: number, length: number): Buffer {
    const page = Math.floor(loc / PAGE_BYTES);
    const at = loc - page * PAGE_BYTES;
    return this.pages[page]!.subarray(at, at + length);
  }

  /** The message at `loc` is settled (published or dropped): its bytes may be written over. */
  release(loc: number): void {
    if (loc < 0) return;
    const page = Math.floor(loc / PAGE_BYTES);
    if (--this.live[page]! > 0) return;
    if (page === this.current) this.used = 0; // empty: written again from its start
    else {
      this.free.push(page);
      if (this.free.length > KEPT_FREE) this.touch();
    }
  }

  /** Pages allocated now (for tests and the docs' arithmetic). */
  pageCount(): number {
    let n = 0;
    for (const p of this.pages) if (p !== undefined) n++;
    return n;
  }

  private nextPage(): void {
    const old = this.current;
    if (old >= 0 && this.live[old] === 0) {
      this.used = 0; // the current page emptied meanwhile: start it over
      return;
    }
    let page = this.free.pop();
    if (page === undefined) {
      page = this.pages.indexOf(undefined);
      if (page < 0) page = this.pages.length;
      this.pages[page] = Buffer.allocUnsafeSlow(PAGE_BYTES);
      this.live[page] = 0;
    }
    this.current = page;
    this.used = 0;
    this.idle?.refresh(); // busy: surplus pages are kept a while longer
  }

  /** Free pages beyond KEPT_FREE are let go once no page was taken for IDLE_MS. */
  private touch(): void {
    if (this.idle !== undefined) {
      this.idle.refresh();
      return;
    }
    this.idle = setTimeout(() => {
      this.idle = undefined;
      while (this.free.length > KEPT_FREE) this.pages[this.free.shift()!] = undefined;
    }, IDLE_MS);
    this.idle.unref();
  }

  /** Let every free page go now, and the timer (close). */
  clear(): void {
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.idle = undefined;
    for (const page of this.free) this.pages[page] = undefined;
    this.free = [];
  }
}

/**
 * The delivery queue's messages as numbers: a double-ended ring of typed arrays (each message's
 * location in the arena, its length, its id and its first failure), so that a queued message is no
 * JS object the scavenger has to copy (./arena.ts says why that matters). A message too large for
 * the arena, or any message of a transport that may keep what it is given (a custom `transport`),
 * is kept as its own Buffer in `own`, as before.
 */

/** A batch taken from the front of the queue: the same fields, copied out. */
export class Batch {
  readonly loc: Float64Array;
  readonly len: Int32Array;
  readonly id: Float64Array;
  /** Batches published before this message's first failure; -1 before any. */
  readonly fail: Float64Array;
  readonly own: Array<Buffer | undefined>;
  bytes = 0;

  constructor(readonly size: number) {
    this.loc = new Float64Array(size);
    this.len = new Int32Array(size);
    this.id = new Float64Array(size);
    this.fail = new Float64Array(size);
    this.own = new Array<Buffer | undefined>(size);
  }
}

export class MessageQueue {
  private cap = 256;
  private head = 0;
  /** Messages queued. */
  size = 0;
  private loc = new Float64Array(this.cap);
  private len = new Int32Array(this.cap);
  private id = new Float64Array(this.cap);
  private fail = new Float64Array(this.cap);
  private own: Array<Buffer | undefined> = new Array<Buffer | undefined>(this.cap);

  private slot(i: number): number {
    return (this.head + i) & (this.cap - 1);
  }

  /** Queue a message at the back: at `loc` in the arena, or `own` (loc -1). */
  push(loc: number, length: number, id: number, own: Buffer | undefined): void {
    if (this.size === this.cap) this.grow();
    const s = this.slot(this.size++);
    this.loc[s] = loc;
    this.len[s] = length;
    this.id[s] = id;
    this.fail[s] = -1;
    this.own[s] = own;
  }

  lengthAt(i: number): number {
    return this.len[this.slot(i)]!;
  }

  idAt(i: number): number {
    return this.id[this.slot(i)]!;
  }

  locAt(i: number): number {
    return this.loc[this.slot(i)]!;
  }

  ownAt(i: number): Buffer | undefined {
    return this.own[this.slot(i)];
  }

  /** Take the first `n` messages out. */
  take(n: number): Batch {
    const b = new Batch(n);
    for (let i = 0; i < n; i++) {
      const s = this.slot(i);
      b.loc[i] = this.loc[s]!;
      b.len[i] = this.len[s]!;
      b.id[i] = this.id[s]!;
      b.fail[i] = this.fail[s]!;
      b.own[i] = this.own[s];
      this.own[s] = undefined;
      b.bytes += b.len[i]!;
    }
    this.head = this.slot(n);
    this.size -= n;
    return b;
  }

  /** Put a batch back in front, in its order (a transient failure: it goes out first again). */
  unshift(b: Batch): void {
    while (this.size + b.size > this.cap) this.grow();
    for (let i = b.size - 1; i >= 0; i--) {
      this.head = (this.head - 1) & (this.cap - 1);
      const s = this.head;
      this.loc[s] = b.loc[i]!;
      this.len[s] = b.len[i]!;
      this.id[s] = b.id[i]!;
      this.fail[s] = b.fail[i]!;
      this.own[s] = b.own[i];
    }
    this.size += b.size;
  }

  /** Take everything out (a drop of the whole queue). */
  clear(): Batch {
    return this.take(this.size);
  }

  private grow(): void {
    const cap = this.cap * 2;
    const loc = new Float64Array(cap);
    const len = new Int32Array(cap);
    const id = new Float64Array(cap);
    const fail = new Float64Array(cap);
    const own = new Array<Buffer | undefined>(cap);
    for (let i = 0; i < this.size; i++) {
      const s = this.slot(i);
      loc[i] = this.loc[s]!;
      len[i] = this.len[s]!;
      id[i] = this.id[s]!;
      fail[i] = this.fail[s]!;
      own[i] = this.own[s];
    }
    this.loc = loc;
    this.len = len;
    this.id = id;
    this.fail = fail;
    this.own = own;
    this.cap = cap;
    this.head = 0;
  }
}

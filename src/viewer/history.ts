/**
 * The viewer's memory of what was published: message texts in arrival order, bounded by a byte
 * budget (the oldest go first, and are counted). Nothing is written to disk.
 */

/** One message the viewer holds: its sequence number (the SSE event id) and its text. */
export interface HeldMessage {
  readonly seq: number;
  /** The message exactly as published (UTF-8 JSON). */
  readonly text: string;
  /** Its size in bytes as published. */
  readonly bytes: number;
}

/** A FIFO of messages bounded by their bytes. */
export class History {
  #items: HeldMessage[] = [];
  /** Index of the oldest held item in #items (so dropping from the front is O(1)). */
  #head = 0;
  #bytes = 0;
  #nextSeq = 1;
  /** Messages dropped to stay within the budget (or too large to hold at all). */
  evicted = 0;

  constructor(readonly maxBytes: number) {}

  /** Hold one message, dropping the oldest ones to make room. Returns it with its sequence number. */
  add(text: string, bytes: number): HeldMessage {
    const item = { seq: this.#nextSeq++, text, bytes };
    if (bytes > this.maxBytes) {
      this.evicted++;
      return item; // shown live, never held
    }
    while (this.#bytes + bytes > this.maxBytes && this.#head < this.#items.length) {
      this.#bytes -= this.#items[this.#head]!.bytes;
      this.#items[this.#head++] = undefined as unknown as HeldMessage; // release it now
      this.evicted++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#items.push(item);
    this.#bytes += bytes;
    return item;
  }

  /** The held messages newer than `seq`, oldest first. */
  since(seq: number): HeldMessage[] {
    const out: HeldMessage[] = [];
    for (let i = this.#head; i < this.#items.length; i++) if (this.#items[i]!.seq > seq) out.push(this.#items[i]!);
    return out;
  }

  /** The held message with this sequence number, if it is still held. */
  get(seq: number): HeldMessage | undefined {
    // Sequence numbers are consecutive among what is held, except for the too-large ones skipped.
    const first = this.#items[this.#head];
    if (!first || seq < first.seq) return undefined;
    const guess = this.#head + (seq - first.seq);
    if (this.#items[guess]?.seq === seq) return this.#items[guess];
    for (let i = Math.min(guess, this.#items.length - 1); i >= this.#head; i--) if (this.#items[i]!.seq === seq) return this.#items[i];
    return undefined;
  }

  /** Messages held now. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}

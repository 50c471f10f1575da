/**
 * The publish body (`{"messages":[{"data":"<base64>"},...]}`, the same bytes as ./encode.ts's
 * encodePublishBody) written to the request in chunks of a few hundred kilobytes, each one encoded
 * from the batch's messages just before it is written, instead of one buffer of the whole body.
 *
 * Why: a full batch (4 MiB of messages by default) is a ~5.6 MB body, and Delivery has two in
 * flight; kept or made per batch, those bodies were megabytes of memory on top of the queue's
 * pages, of a size that varied batch to batch (the allocator's fragments), while the messages'
 * bytes already sat in the queue's pages for the whole call. Here the only extra memory is a few
 * chunk buffers, reused; the body's length is known ahead (publishBodyBytes), so it goes with a
 * Content-Length, as before.
 *
 * The messages' bytes are read until the call settles (Delivery keeps a batch's pages until its
 * send has settled: src/delivery/transport.ts, ReleasingTransport); after that nothing is read.
 */
import { writeBase64 } from "../../wire/base64.js";

const PREFIX = '{"messages":[';
const SUFFIX = "]}";
const OPEN = '{"data":"';
const CLOSE = '"}';
/** Room a chunk needs for a message's opening (a comma and OPEN) before anything of it is written. */
const OPEN_ROOM = 1 + OPEN.length;

/** Bytes of a chunk (a multiple of 4, so that a message's base64 is cut between whole groups). */
export const CHUNK_BYTES = 256 * 1024;

/** Where the body's writing stands: messages before `index` are written, `offset` bytes of the next (-1: not opened). */
export class PublishBodyWriter {
  private index = 0;
  private offset = -1;
  private stage: 0 | 1 | 2 = 0;
  /** Bytes written so far (checked against the Content-Length at the end). */
  written = 0;

  constructor(private readonly messages: readonly Uint8Array[]) {}

  /** Whether the whole body has been written. */
  get done(): boolean {
    return this.stage === 2;
  }

  /**
   * Write the next bytes of the body into `out` (at least 16 bytes long), as many as fit; the
   * number written (0 only once done).
   */
  fill(out: Buffer): number {
    const cap = out.length;
    let at = 0;
    if (this.stage === 0) {
      at = out.write(PREFIX, 0, "latin1");
      this.stage = 1;
    }
    const messages = this.messages;
    while (this.index < messages.length) {
      const m = messages[this.index]!;
      if (this.offset < 0) {
        if (cap - at < OPEN_ROOM) break;
        if (this.index > 0) out[at++] = 0x2c; // ,
        at += out.write(OPEN, at, "latin1");
        this.offset = 0;
      }
      const left = m.length - this.offset;
      if (left > 0) {
        const room = Math.floor((cap - at) / 4) * 3; // input bytes whose base64 fits, whole groups
        if (room === 0) break;
        if (left <= room) {
          at += writeBase64(this.offset === 0 ? m : m.subarray(this.offset), out, at);
          this.offset = m.length;
        } else {
          at += writeBase64(m.subarray(this.offset, this.offset + room), out, at);
          this.offset += room;
          break;
        }
      }
      if (cap - at < CLOSE.length) break;
      at += out.write(CLOSE, at, "latin1");
      this.index++;
      this.offset = -1;
    }
    if (this.stage === 1 && this.index === messages.length && cap - at >= SUFFIX.length) {
      at += out.write(SUFFIX, at, "latin1");
      this.stage = 2;
    }
    this.written += at;
    return at;
  }
}

/**
 * Chunk buffers, reused across requests: one goes back once the socket has taken its bytes (the
 * write's callback without error); one whose write failed is left to the garbage collector.
 */
export class ChunkBuffers {
  private free: Buffer[] = [];

  constructor(private readonly bytes = CHUNK_BYTES, private readonly keep = 4) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bytes);
  }

  give(b: Buffer): void {
    if (this.free.length < this.keep) this.free.push(b);
  }

  clear(): void {
    this.free = [];
  }
}

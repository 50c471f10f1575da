/**
 * The body of Pub/Sub's REST `topics.publish`: `{"messages":[{"data":"<base64>"},...]}`, written
 * straight into one Buffer of the exact size (no JSON.stringify of megabyte strings, no concat).
 */
import { base64Length, writeBase64 } from "../../wire/base64.js";

const PREFIX = '{"messages":[';
const SUFFIX = "]}";
const OPEN = '{"data":"';
const CLOSE = '"}';
/** The bytes around the messages, and around each one. */
const FIXED = PREFIX.length + SUFFIX.length;
const PER_MESSAGE = OPEN.length + CLOSE.length;

/**
 * Pub/Sub's limit on one publish request, which over REST applies to the JSON body, base64
 * included (4/3 of the data); kept a little under Google's 10 MiB.
 */
export const MAX_REQUEST_BYTES = 10_000_000;

/** The encoded size of one message inside the body, its separating comma included. */
const entryBytes = (m: Buffer): number => PER_MESSAGE + base64Length(m.length) + 1;

/**
 * How many of the first `max` messages fit in one publish body of at most `maxBytes` (at least one:
 * a message too large on its own still goes alone, and Pub/Sub decides). Arithmetic only.
 */
export function fittingCount(messages: readonly Buffer[], max: number, maxBytes = MAX_REQUEST_BYTES): number {
  let size = FIXED;
  const n = Math.min(max, messages.length);
  for (let i = 0; i < n; i++) {
    size += entryBytes(messages[i]!);
    if (i > 0 && size > maxBytes + 1) return i;
  }
  return n;
}

/** The exact length of the publish body holding `messages`. Arithmetic only. */
export function publishBodyBytes(messages: readonly Buffer[]): number {
  let size = FIXED + Math.max(0, messages.length - 1);
  for (const m of messages) size += PER_MESSAGE + base64Length(m.length);
  return size;
}

/**
 * One publish body holding `messages`, in order: written into `into` when it has room (the
 * transport's reused buffer; the body is then its first bytes), else into a new Buffer.
 */
export function encodePublishBody(messages: readonly Buffer[], into?: Buffer): Buffer {
  const size = publishBodyBytes(messages);
  const out = into !== undefined && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  let at = out.write(PREFIX, 0, "latin1");
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    at += out.write(OPEN, at, "latin1");
    at += writeBase64(messages[i]!, out, at); // no base64 string per message (src/wire/base64.ts)
    at += out.write(CLOSE, at, "latin1");
  }
  at += out.write(SUFFIX, at, "latin1");
  if (at !== size) throw new Error(`publish body: wrote ${at} of ${size} bytes`); // a bug here, never the data's fault
  return out;
}

/**
 * The publish bodies for `messages`: one, unless its JSON would exceed `maxBytes`, then as few as
 * fit, in order. Delivery never asks for more than one (it cuts batches with fittingCount, through
 * the transport's `fits`); a caller of the transport's `send` may. A message too large on its own
 * still goes alone: Pub/Sub decides.
 */
export function encodePublishBodies(messages: readonly Buffer[], maxBytes = MAX_REQUEST_BYTES): Buffer[] {
  let total = FIXED;
  for (const m of messages) total += entryBytes(m);
  if (total <= maxBytes + 1) return [encodePublishBody(messages)];
  const bodies: Buffer[] = [];
  let start = 0;
  let size = FIXED;
  for (let i = 0; i < messages.length; i++) {
    const entry = entryBytes(messages[i]!);
    if (i > start && size + entry > maxBytes + 1) {
      bodies.push(encodePublishBody(messages.slice(start, i)));
      start = i;
      size = FIXED;
    }
    size += entry;
  }
  bodies.push(encodePublishBody(messages.slice(start)));
  return bodies;
}

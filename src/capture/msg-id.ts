/**
 * Message ids: RFC 4122 version-4-shaped UUIDs, unique per message, made without a random draw per
 * message. A random 90-bit prefix is drawn from the CSPRNG per process (and again after 2^32
 * messages), and a counter fills the last 32 bits; `crypto.randomUUID()` costs about 1.5 us per call
 * in a busy server, this a string concatenation. msg_id is an identifier, not a secret: it only has
 * to be unique (the ingestion de-duplicates retried messages on it) and a valid UUID.
 */
import { randomBytes } from "node:crypto";

let prefix = "";
let counter = 0x1_0000_0000; // forces a draw on the first call

/** `xxxxxxxx-xxxx-4xxx-yxxx-xxxx` from 90 random bits (version 4, variant 10). */
function newPrefix(): string {
  const b = randomBytes(12);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 24)}`;
}

/** A new message id. */
export function newMsgId(): string {
  if (counter > 0xffff_ffff) {
    prefix = newPrefix();
    counter = 0;
  }
  const hex = (counter++).toString(16);
  return prefix + "00000000".slice(hex.length) + hex;
}

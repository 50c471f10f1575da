/** A wire message as the bytes of one Pub/Sub message (UTF-8 JSON). */
import type { WireMessage } from "./types.js";

/** Messages whose two body fields are known to be base64 (no JSON escaping needed). */
const base64Bodies = new WeakSet<WireMessage>();

/** Say that `msg`'s two body fields are base64 text (buildMessage does), so encodeMessage may copy them as they are. */
export function markBase64Bodies(msg: WireMessage): void {
  base64Bodies.add(msg);
}

const HEAD = '{"request_body":"';
const MID = '","response_body":"';

/**
 * Encode a message as the bytes of one Pub/Sub message (UTF-8 JSON). For a message from
 * buildMessage, the two base64 bodies (the bulk of a large message) are copied into the output as
 * they are, instead of going through JSON.stringify's escaping scan and a UTF-8 re-encode: about
 * 4x faster for a 64 KiB body. Key order differs from JSON.stringify's; JSON objects are unordered.
 */
export function encodeMessage(msg: WireMessage): Buffer {
  if (!base64Bodies.has(msg)) return Buffer.from(JSON.stringify(msg));
  const req = msg.request_body;
  const res = msg.response_body;
  // JSON.stringify leaves out undefined members: hide the bodies for a moment instead of copying.
  const bodies = msg as { request_body: string | undefined; response_body: string | undefined };
  bodies.request_body = undefined;
  bodies.response_body = undefined;
  let tail: string;
  try {
    tail = JSON.stringify(msg); // "{...}": at least the required keys, never "{}"
  } finally {
    bodies.request_body = req;
    bodies.response_body = res;
  }
  const size = HEAD.length + req.length + MID.length + res.length + 2 + Buffer.byteLength(tail) - 1;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(HEAD, 0, "latin1");
  at += out.write(req, at, "latin1");
  at += out.write(MID, at, "latin1");
  at += out.write(res, at, "latin1");
  at += out.write('",', at, "latin1");
  out.write(tail.slice(1), at, "utf8");
  return out;
}

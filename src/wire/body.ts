/**
 * The message's bodies: after the head (which ends in `"request_body":"`), the request body's
 * base64, then `"response_body":"` and the response body's, and the closing `"}`. The bodies are
 * the rendered ones (redacted, cut to maxBodyBytes), possibly in scratch memory: they are read
 * here, before serializeExchange returns.
 *
 * Where the message goes decides how its base64 is made (measured on GET /stream, 64 KiB bodies,
 * Express 4, Node 24: bench/README.md):
 * - a fresh Buffer per message (no `alloc`): `Buffer#toString("base64")` and a copy of the string.
 *   The string is young-generation garbage, and that garbage is what makes V8 scavenge often
 *   enough to free the dead message Buffers before their external memory sets off full
 *   collections: written straight in (no string), the same messages cost more (+15% server CPU per
 *   request with the SDK on /stream, sdk-null 979 against 829 us).
 * - memory the caller hands out (`alloc`, e.g. delivery's reused pages): the text is written
 *   straight into it by ./base64.ts (WebAssembly SIMD128, no string, nothing on the heap): no fresh
 *   88 KB buffer and no 87 KB string per 64 KiB body.
 */
import { base64Length, writeBase64 } from "./base64.js";

const MID = '","response_body":"';

/**
 * `head`, the two bodies as base64 JSON strings, and the closing `"}`, as one Buffer of the exact
 * size: from `alloc` when given (it must return at least that many bytes; the message is its
 * first bytes), else a new Buffer.
 */
export function messageWithBodies(head: string, request: Uint8Array | undefined, response: Uint8Array | undefined, alloc?: (bytes: number) => Buffer): Buffer {
  const reqLen = request === undefined ? 0 : base64Length(request.length);
  const resLen = response === undefined ? 0 : base64Length(response.length);
  const size = Buffer.byteLength(head) + reqLen + MID.length + resLen + 2;
  if (alloc === undefined) {
    const out = Buffer.allocUnsafe(size);
    let at = out.write(head, 0, "utf8");
    if (request !== undefined) at += out.write(asBuffer(request).toString("base64"), at, "latin1");
    at += out.write(MID, at, "latin1");
    if (response !== undefined) at += out.write(asBuffer(response).toString("base64"), at, "latin1");
    out.write('"}', at, "latin1");
    return out;
  }
  const given = alloc(size);
  const out = given.length === size ? given : given.subarray(0, size);
  let at = out.write(head, 0, "utf8");
  if (request !== undefined) at += writeBase64(request, out, at);
  at += out.write(MID, at, "latin1");
  if (response !== undefined) at += writeBase64(response, out, at);
  out[at] = 0x22; // "
  out[at + 1] = 0x7d; // }
  return out;
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

import { scratch } from "../jsonpath/scratch.js";
import type { CapturedBody } from "./exchange.js";

/** A fresh, empty body capture. */
export function emptyBody(): CapturedBody {
  return { chunks: [], keptBytes: 0, totalBytes: 0 };
}

/**
 * Record one chunk as it passes, keeping references to at most `limit` bytes. Never copies a Buffer
 * (only strings are encoded), never delays or alters the chunk.
 */
export function observeChunk(
  body: CapturedBody,
  chunk: unknown,
  encoding: BufferEncoding | undefined,
  limit: number,
): void {
  if (chunk == null) return;
  let buf: Buffer;
  if (typeof chunk === "string") {
    if (body.keptBytes >= limit) {
      body.totalBytes += Buffer.byteLength(chunk, encoding);
      return;
    }
    buf = Buffer.from(chunk, encoding);
  } else if (Buffer.isBuffer(chunk)) {
    buf = chunk;
  } else if (chunk instanceof Uint8Array) {
    buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  } else {
    return;
  }
  body.totalBytes += buf.length;
  const room = limit - body.keptBytes;
  if (room <= 0 || buf.length === 0) return;
  const kept = buf.length <= room ? buf : buf.subarray(0, room);
  body.chunks.push(kept);
  body.keptBytes += kept.length;
}

/** True when the body was cut at the byte limit. */
export function isTruncated(body: CapturedBody): boolean {
  return body.totalBytes > body.keptBytes;
}

/** The kept bytes as one Buffer (copied once, off the request path; into scratch memory when serializing). */
export function bodyBytes(body: CapturedBody): Buffer {
  const { chunks } = body;
  if (chunks.length === 1) return chunks[0]!;
  const out = scratch(body.keptBytes);
  if (out === undefined) return Buffer.concat(chunks, body.keptBytes);
  let at = 0;
  for (let k = 0; k < chunks.length; k++) {
    out.set(chunks[k]!, at);
    at += chunks[k]!.length;
  }
  return at === out.length ? out : out.subarray(0, at);
}

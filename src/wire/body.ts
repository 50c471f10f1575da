/**
 * The message's bodies: after the head (which ends in `"request_body":"`), the request body's
 * base64, then `"response_body":"` and the response body's, written straight into the message's
 * buffer (./base64.ts: no base64 string, each body's bytes read once). The bodies are the rendered
 * ones (redacted, cut to maxBodyBytes), possibly in scratch memory: they are read here, before
 * serializeExchange returns.
 */
import { base64Length, writeBase64 } from "./base64.js";

const MID = '","response_body":"';

/** `head`, the two bodies as base64 JSON strings, and the closing `"}`, as one Buffer of the exact size. */
export function messageWithBodies(head: string, request: Uint8Array | undefined, response: Uint8Array | undefined): Buffer {
  const reqLen = request === undefined ? 0 : base64Length(request.length);
  const resLen = response === undefined ? 0 : base64Length(response.length);
  const out = Buffer.allocUnsafe(Buffer.byteLength(head) + reqLen + MID.length + resLen + 2);
  let at = out.write(head, 0, "utf8");
  if (request !== undefined) at += writeBase64(request, out, at);
  at += out.write(MID, at, "latin1");
  if (response !== undefined) at += writeBase64(response, out, at);
  out[at] = 0x22; // "
  out[at + 1] = 0x7d; // }
  return out;
}

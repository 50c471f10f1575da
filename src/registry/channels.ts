/**
 * Every diagnostics channel the SDK subscribes to or publishes on (undici's
 * `lib/core/diagnostics.js`). Subscribers are the SDK's; they never throw into the publisher.
 */

/** undici (fetch) request lifecycle: Node's bundled undici and any undici from npm. */
export const UNDICI = {
  create: "undici:request:create",
  bodyChunkSent: "undici:request:bodyChunkSent",
  headers: "undici:request:headers",
  bodyChunkReceived: "undici:request:bodyChunkReceived",
  trailers: "undici:request:trailers",
  error: "undici:request:error",
} as const;

/** node:http client. */
export const HTTP_CLIENT = {
  /** Node >= 22.12 / 23.2: each ClientRequest as it is built, before any write. */
  created: "http.client.request.created",
  /** The SDK's own stand-in for `created` on Node versions without it, published by a prototype pass-through. */
  createdFallback: "apitoolkit-node:http.client.request.created",
  responseFinish: "http.client.response.finish",
  error: "http.client.request.error",
} as const;

import type { CaptureSink } from "../core/sink.js";

/** Options of outgoing-call capture (filled in by the outgoing integration). */
export interface OutgoingOptions {
  redactHeaders?: string[];
  redactRequestBody?: string[];
  redactResponseBody?: string[];
  urlTemplates?: string[];
  ignoreHosts?: Array<string | RegExp>;
  ignorePaths?: Array<string | RegExp>;
}

/**
 * Start capturing outgoing calls (fetch/undici and node:http clients) for this client.
 * Returns a function that stops it. Placeholder until the outgoing integration lands.
 */
export function startOutgoing(_sink: CaptureSink, _options: { monitorOutgoing?: boolean; outgoing?: OutgoingOptions }): () => void {
  return () => undefined;
}

/**
 * Outgoing-call capture: every call the service makes with fetch/undici or node:http(s) becomes
 * one `JsOutgoing` message whose `parent_id` is the `msg_id` of the incoming request it was made
 * under (axios: `observeAxios` in ./axios.ts, `JsAxiosOutgoing`). Built on diagnostics channels, so
 * it works in ESM and bundled apps without loader flags; the SDK's own I/O runs in
 * `runSuppressed()` and is never captured.
 */
import type { CaptureSink } from "../sink.js";
import { shared, type OutgoingRuntime } from "./record.js";
import { subscribeNodeHttp } from "./node-http-client.js";
import { subscribeUndici } from "./undici.js";

/** The outgoing capture of a client: its sink and the rules compiled with its options (axios uses the same). */
export function runtimeFor(sink: CaptureSink): OutgoingRuntime {
  return { sink, rules: sink.config.outgoing };
}

/**
 * Start capturing outgoing calls (fetch/undici and node:http(s) clients) for this client; called
 * by the APIToolkit constructor with the options it validated. On by default;
 * `monitorOutgoing: false` turns it off (axios instances given to `observeAxios` are still
 * captured). Returns the function that stops it (unsubscribes every channel). Subscribers never
 * throw and keep nothing alive.
 *
 * @example
 * const stop = startOutgoing(sinkOf(apitoolkit));
 * await fetch("https://api.example.com/v1/customers/42"); // one JsOutgoing message
 * stop();
 */
export function startOutgoing(sink: CaptureSink): () => void {
  const monitor = sink.config.monitorOutgoing;
  shared.monitors.set(sink, monitor);
  if (!monitor) return () => undefined;
  const rt = runtimeFor(sink);
  const stops = [subscribeUndici(rt), subscribeNodeHttp(rt)];
  let stopped = false;
  return function stopOutgoing() {
    if (stopped) return;
    stopped = true;
    shared.monitors.set(sink, false);
    for (const stop of stops) {
      try {
        stop();
      } catch {
        /* never throw from close */
      }
    }
  };
}

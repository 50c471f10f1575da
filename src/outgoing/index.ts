/**
 * Outgoing-call capture: every call the service makes with fetch/undici or node:http(s) becomes
 * one `JsOutgoing` message whose `parent_id` is the `msg_id` of the incoming request it was made
 * under (axios: `observeAxios` in ./axios.ts, `JsAxiosOutgoing`). Built on diagnostics channels, so
 * it works in ESM and bundled apps without loader flags; the SDK's own I/O runs in
 * `runSuppressed()` and is never captured.
 */
import { APIToolkitConfigError } from "../core/codes.js";
import type { CaptureSink } from "../core/sink.js";
import { shared, type OutgoingRuntime } from "./record.js";
import { compileOutgoing, type OutgoingOptions } from "./rules.js";
import { subscribeNodeHttp } from "./node-http-client.js";
import { subscribeUndici } from "./undici.js";

export type { OutgoingOptions, OutgoingDestination, UrlTemplate, HostPattern } from "./rules.js";

const runtimes = new WeakMap<CaptureSink, OutgoingRuntime>();

/** @internal The compiled outgoing rules of a client (axios uses the same as fetch/node:http). */
export function runtimeFor(sink: CaptureSink): OutgoingRuntime {
  let rt = runtimes.get(sink);
  if (!rt) {
    rt = { sink, rules: compileOutgoing(sink.config, undefined) };
    runtimes.set(sink, rt);
  }
  return rt;
}

/**
 * Validate the outgoing options (throws APIToolkitConfigError naming the bad option) and compile
 * them on top of the top-level redaction rules. Exported so option validation can run in
 * `resolveOptions` too.
 *
 * @example
 * validateOutgoing(sinkOf(apitoolkit), { outgoing: { urlTemplates: ["no-slash"] } }); // throws ERR_INVALID_OPTION
 */
export function validateOutgoing(sink: CaptureSink, options: { monitorOutgoing?: unknown; outgoing?: unknown }): OutgoingRuntime {
  if (options.monitorOutgoing !== undefined && typeof options.monitorOutgoing !== "boolean") {
    throw new APIToolkitConfigError("ERR_INVALID_OPTION", "monitorOutgoing must be a boolean");
  }
  return { sink, rules: compileOutgoing(sink.config, options.outgoing) };
}

/**
 * Start capturing outgoing calls (fetch/undici and node:http(s) clients) for this client; called
 * by the APIToolkit constructor. On by default; `monitorOutgoing: false` turns it off (axios
 * instances given to `observeAxios` are still captured). Returns the function that stops it
 * (unsubscribes every channel). Subscribers never throw and keep nothing alive.
 *
 * @example
 * const stop = startOutgoing(sinkOf(apitoolkit), { outgoing: { urlTemplates: ["/v1/customers/:id"] } });
 * await fetch("https://api.example.com/v1/customers/42"); // one JsOutgoing message, url_path "/v1/customers/:id"
 * stop();
 */
export function startOutgoing(sink: CaptureSink, options: { monitorOutgoing?: boolean; outgoing?: OutgoingOptions }): () => void {
  const rt = validateOutgoing(sink, options);
  runtimes.set(sink, rt);
  shared.monitors.set(sink, options.monitorOutgoing !== false);
  if (options.monitorOutgoing === false) return () => undefined;
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

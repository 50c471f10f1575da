/**
 * axios capture through interceptors (`sdk_type` JsAxiosOutgoing).
 *
 * The request interceptor takes the start time and parent in the caller's context, adds two
 * per-call transforms (one last in `transformRequest`: the final URL, headers and body; one first
 * in `transformResponse`: the raw body before JSON parsing, then the message is handed over), and
 * wraps the call's adapter (resolved with axios's own `getAdapter`) in an AsyncLocalStorage mark so
 * the fetch/node:http capture skips this call, redirect hops included. Failures without a
 * response are finished by the error interceptor.
 */
import { performance } from "node:perf_hooks";
import { isSuppressed, currentRequest } from "../../capture/context.js";
import { recordError } from "../../capture/errors.js";
import { sinkOf } from "../../capture/sink.js";
import { runtimeFor } from "../../capture/outgoing/index.js";
import { finish, guard, shared } from "../../capture/outgoing/record.js";
import { compileTemplates, type UrlTemplate } from "../../config/outgoing.js";
import type { AxiosInterceptorFn as AnyFn, AxiosInstanceLike } from "./types.js";
import { STATE, adapterResolver, complete, list, markSync, start, stateOf, type CallState, type Config } from "./call.js";
import { AXIOS_INSTALLED as INSTALLED } from "../../registry/symbols.js";
import type { APIToolkit } from "../../client.js";

export type { AxiosInstanceLike, AxiosInterceptorFn, InterceptorManager } from "./types.js";

/** Options of observeAxios. */
export interface ObserveAxiosOptions {
  /** URL templates for this instance's calls, tried before the client's `outgoing.urlTemplates`. */
  urlTemplates?: UrlTemplate[];
}


/**
 * Capture the calls made with one axios instance (the default `axios` works too) as
 * `JsAxiosOutgoing` messages, linked to the incoming request they are made under. Installs
 * request and response interceptors and returns the same instance. Calls it captures are not
 * captured again by the fetch/node:http capture. Installing twice on one instance is a no-op.
 *
 * @example
 * import axios from "axios";
 * import { observeAxios } from "apitoolkit-node/axios";
 * const api = observeAxios(apitoolkit, axios.create({ baseURL: "https://api.example.com" }), {
 *   urlTemplates: ["/v1/customers/:id"],
 * });
 */
export function observeAxios<T extends AxiosInstanceLike>(client: APIToolkit, instance: T, options: ObserveAxiosOptions = {}): T {
  const sink = sinkOf(client);
  const rt = runtimeFor(sink);
  const templates = compileTemplates("observeAxios urlTemplates", options.urlTemplates);
  const marks = instance as unknown as Record<symbol, Set<object> | undefined>;
  const installed = (marks[INSTALLED] ??= new Set<object>());
  if (installed.has(sink)) return instance;
  installed.add(sink);

  const resolving = adapterResolver(instance);
  instance.interceptors.request.use(async function apitoolkitAxiosRequest(config: Config) {
    if (!config || !sink.capturing || isSuppressed() || shared.axios.getStore() !== undefined) return config;
    const startHr = performance.now();
    const st: CallState = { startEpochMs: performance.timeOrigin + startHr, startHr, parentId: currentRequest()?.msgId };
    const getAdapter = typeof config.adapter === "function" ? undefined : await resolving;
    guard(rt, () => {
      const spec = config.adapter;
      const wrapped = typeof spec === "function" || getAdapter !== undefined;
      const send = function apitoolkitAxiosSend(this: Config, data: unknown, headers: unknown) {
        guard(rt, () => {
          st.pending ??= start(rt, st, instance, this, data, headers, templates);
          // No adapter wrapper (axios module not reachable): mark the synchronous part of the
          // adapter's run at least (node:http requests are created there).
          if (!wrapped) markSync(st);
        });
        return data;
      };
      Object.defineProperty(send, STATE, { value: st });
      const receive = function apitoolkitAxiosReceive(this: Config, data: unknown, headers: unknown, status: unknown) {
        guard(rt, () => st.pending && complete(rt, st.pending, status, headers, data));
        return data;
      };
      config.transformRequest = [...list(config.transformRequest), send];
      config.transformResponse = [receive, ...list(config.transformResponse)];
      // Run the adapter inside the mark, so the fetch/node:http capture skips this call (redirect
      // hops included): AsyncLocalStorage.run, never enterWith (which leaks on Node 20).
      if (wrapped) {
        config.adapter = function apitoolkitAxiosAdapter(this: unknown, cfg: Config) {
          const adapter = (typeof spec === "function" ? spec : getAdapter!(spec ?? instance.defaults?.adapter, cfg)) as (c: Config) => unknown;
          return shared.axios.run(st, () => adapter.call(this, cfg));
        };
      }
    });
    return config;
  } as AnyFn);

  instance.interceptors.response.use(
    function apitoolkitAxiosResponse(response: { config?: Config; status?: number; headers?: unknown; data?: unknown }) {
      guard(rt, () => {
        const p = stateOf(response?.config)?.pending;
        if (p && !p.done) complete(rt, p, response.status, response.headers, response.data);
      });
      return response;
    } as AnyFn,
    function apitoolkitAxiosError(error: { config?: Config; response?: { status?: number; headers?: unknown; data?: unknown } }) {
      guard(rt, () => {
        const p = stateOf(error?.config)?.pending;
        if (!p || p.done) return;
        recordError(p.ex.errors, error);
        const r = error.response;
        if (r) complete(rt, p, r.status, r.headers, r.data);
        else finish(rt, p);
      });
      return Promise.reject(error);
    } as AnyFn,
  );
  return instance;
}

/** The per-call parts of the axios capture: adapter resolution, building and finishing the exchange. */
import { observeChunk } from "../../capture/body.js";
import type { RawHeaders } from "../../capture/exchange.js";
import type { AxiosInstanceLike } from "./types.js";
import { begin, finish, pathOf, shared, type OutgoingRuntime, type Pending } from "../../capture/outgoing/record.js";
import type { compileTemplates } from "../../config/outgoing.js";
import { AXIOS_STATE } from "../../registry/symbols.js";

export type Config = Record<string, unknown> & { method?: string; transformRequest?: unknown; transformResponse?: unknown };
export interface CallState {
  startEpochMs: number;
  startHr: number;
  parentId: string | undefined;
  pending?: Pending;
}
export const STATE = AXIOS_STATE;
type GetAdapter = (spec: unknown, config: Config) => unknown;

/**
 * axios's own adapter resolution (names like "http", "fetch" -> functions): on the default
 * instance, or from the axios module itself when it is the same copy as the instance's.
 */
export async function adapterResolver(instance: AxiosInstanceLike): Promise<GetAdapter | undefined> {
  const own = (instance as { getAdapter?: GetAdapter }).getAdapter;
  if (typeof own === "function") return own;
  try {
    const name = "axios";
    const mod = (await import(name)) as { default?: { getAdapter?: GetAdapter; interceptors?: { request?: object } } };
    const axios = mod.default;
    const sameCopy = axios?.interceptors?.request?.constructor === (instance.interceptors.request as object).constructor;
    return sameCopy && typeof axios?.getAdapter === "function" ? axios.getAdapter : undefined;
  } catch {
    return undefined;
  }
}

/** Mark the rest of the current synchronous job only (fallback when the adapter cannot be wrapped). */
export function markSync(st: object): void {
  shared.axiosSync = st;
  queueMicrotask(() => {
    if (shared.axiosSync === st) shared.axiosSync = undefined;
  });
}

export function start(rt: OutgoingRuntime, st: CallState, instance: AxiosInstanceLike, config: Config, data: unknown, headers: unknown,
  templates: ReturnType<typeof compileTemplates>): Pending | undefined {
  let url: URL | undefined;
  try {
    url = new URL(instance.getUri ? instance.getUri(config) : String(config.url));
  } catch {
    /* relative URL without baseURL: no host */
  }
  const rawUrl = url ? url.pathname + url.search : String(config.url ?? "/");
  if (rt.rules.ignored(url?.host ?? "", pathOf(rawUrl))) return undefined;
  const p = begin(rt, "JsAxiosOutgoing", String(config.method ?? "GET"), url?.host ?? "", rawUrl,
    { parentId: st.parentId, startEpochMs: st.startEpochMs, startHr: st.startHr, templates });
  p.ex.requestHeaders = headersOf(headers);
  if (rt.sink.config.traceContext && url !== undefined) p.ex.scheme = url.protocol === "https:" ? "https" : "http";
  if (typeof data === "string" || data instanceof Uint8Array) observeChunk(p.ex.requestBody, data, undefined, p.limit);
  else if (data instanceof ArrayBuffer) observeChunk(p.ex.requestBody, Buffer.from(data), undefined, p.limit);
  return p;
}

export function list(v: unknown): unknown[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

function headersOf(h: unknown): RawHeaders {
  const json = (h as { toJSON?: () => unknown } | null)?.toJSON;
  const out = typeof json === "function" ? json.call(h) : h;
  return out && typeof out === "object" ? (out as RawHeaders) : {};
}

export function stateOf(config: unknown): CallState | undefined {
  const fns = list((config as Config | undefined)?.transformRequest);
  for (const fn of fns) {
    const st = (fn as { [STATE]?: CallState } | null)?.[STATE];
    if (st) return st;
  }
  return undefined;
}

/** Record the response (status, headers, raw body) and hand the message over. */
export function complete(rt: OutgoingRuntime, p: Pending, status: unknown, headers: unknown, data: unknown): void {
  if (p.done) return;
  p.responded = typeof status === "number" && status > 0;
  if (p.responded) p.ex.statusCode = status as number;
  p.ex.responseHeaders = headersOf(headers);
  if (p.ex.method === "HEAD") p.limit = 0;
  if (typeof data === "string" || data instanceof Uint8Array) observeChunk(p.ex.responseBody, data, undefined, p.limit);
  else if (data instanceof ArrayBuffer) observeChunk(p.ex.responseBody, Buffer.from(data), undefined, p.limit);
  else if (data !== null && typeof data === "object" && typeof (data as { pipe?: unknown }).pipe !== "function") p.ex.responseBody.parsed = data;
  finish(rt, p);
}

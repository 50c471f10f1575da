/**
 * What Next.js itself knows about the route it serves, read defensively: every reader returns
 * undefined (never throws) when this Next version keeps it elsewhere, and callers fall back to
 * deriving the route from the path and the params.
 *
 * - App Router: the store Next runs each route handler in (an AsyncLocalStorage, from the module
 *   Next's runtime and the app share, an `.external` one):
 *   `route` (`/api/users/[id]`, route groups removed) of the work store in 15 and 16
 *   (`next/dist/server/app-render/work-async-storage.external`); `pagePath`
 *   (`/api/users/[id]/route`) of the static-generation store in 14
 *   (`next/dist/client/components/static-generation-async-storage.external`).
 * - Pages API routes: the request meta Next keeps on the IncomingMessage
 *   (`Symbol.for("NextInternalRequestMeta")`), in 14, 15 and 16: `match` (the matched page
 *   `/api/legacy/[id]` and its params) and `initURL` (the URL as received, before Next drops the
 *   query keys named like route params from `req.url`).
 */
import { FOREIGN } from "../../registry/symbols.js";
import type { NextParams } from "./route.js";

interface AsyncStorage {
  getStore(): unknown;
}

let storages: AsyncStorage[] | undefined;
let loading: Promise<void> | undefined;

function storageIn(mod: unknown, name: string): AsyncStorage | undefined {
  const m = mod as Record<string, unknown> & { default?: Record<string, unknown> };
  const s = (m[name] ?? m.default?.[name]) as AsyncStorage | undefined;
  return typeof s?.getStore === "function" ? s : undefined;
}

/**
 * Load Next's route-handler stores, once; the one this Next version lacks fails to load, here.
 * Never rejects. The imports are left to Node at run time (bundlers are told to ignore them:
 * Turbopack fails a build on a module it cannot resolve). Node resolves `next` from the app's
 * server bundle, so it loads the very module Next's runtime required: one instance, one store.
 */
export function loadNextStores(): Promise<void> {
  loading ??= Promise.all([
    Promise.resolve()
      .then(() => import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "next/dist/server/app-render/work-async-storage.external.js"))
      .then((m) => storageIn(m, "workAsyncStorage"), () => undefined),
    Promise.resolve()
      .then(() => import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "next/dist/client/components/static-generation-async-storage.external.js"))
      .then((m) => storageIn(m, "staticGenerationAsyncStorage"), () => undefined),
  ]).then(
    (found) => void (storages = found.filter((s) => s !== undefined)),
    () => void (storages = []),
  );
  return loading;
}

/** True once {@link loadNextStores} has settled. */
export function nextStoresLoaded(): boolean {
  return storages !== undefined;
}

/** The file-system route (`/api/users/[id]`) of the route handler being run, if Next tells. */
export function appRouteOfNext(): string | undefined {
  for (const storage of storages ?? []) {
    try {
      const store = storage.getStore() as { route?: unknown; pagePath?: unknown } | undefined;
      if (typeof store?.route === "string") return store.route;
      const page = store?.pagePath;
      if (typeof page === "string" && page.endsWith("/route")) return page.slice(0, -"/route".length) || "/";
    } catch {
      /* not Next's store after all */
    }
  }
  return undefined;
}

/** What Next matched for a Pages API request: the page, its params, the URL as received. */
export interface PagesMatch {
  page?: string;
  params?: NextParams;
  /** Path and query as received. */
  rawUrl?: string;
}

/** Path and query of `http://host/path?q` (or of `/path?q` as is). */
function pathAndQuery(url: string): string | undefined {
  if (url.startsWith("/")) return url;
  const scheme = url.indexOf("://");
  if (scheme < 0) return undefined;
  const slash = url.indexOf("/", scheme + 3);
  return slash < 0 ? "/" : url.slice(slash);
}

export function pagesMatchOf(req: object): PagesMatch {
  try {
    const meta = (req as Record<symbol, unknown>)[FOREIGN.nextRequestMeta] as
      | { initURL?: unknown; match?: { definition?: { kind?: unknown; page?: unknown }; params?: unknown } }
      | undefined;
    if (!meta || typeof meta !== "object") return {};
    const out: PagesMatch = {};
    if (typeof meta.initURL === "string") out.rawUrl = pathAndQuery(meta.initURL);
    const match = meta.match;
    if (match?.definition?.kind === "PAGES_API" && typeof match.definition.page === "string") {
      out.page = match.definition.page;
      if (match.params && typeof match.params === "object") out.params = match.params as NextParams;
    }
    return out;
  } catch {
    return {};
  }
}

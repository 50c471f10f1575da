/**
 * Route templates for Express 4 and 5 without walking private router state: the router assigns
 * `req.baseUrl`, `req.route` and `req.params` as it dispatches, so the SDK observes those
 * assignments (own accessors on this one request) and rebuilds the template of every mounted prefix
 * from the parameters matched there. Used by the Express integration and by Nest on Express.
 */
import { safeDecode } from "../url.js";
import { stringParams, type RouteMatch } from "./params.js";

interface Minimal {
  baseUrl?: string;
  route?: { path?: unknown };
  params?: Record<string, unknown>;
}

/** Params copied when a layer matched: strings, arrays (Express 5 wildcards) joined with "/". */
const copyParams = stringParams;

/** '/shops/42' with {shopId: '42'} -> '/shops/:shopId' (each parameter used once, whole segments only). */
export function templatize(segment: string, params: Record<string, string>): string {
  const unused = new Map(Object.entries(params));
  return segment
    .split("/")
    .map((part) => {
      if (!part) return part;
      const value = safeDecode(part);
      for (const [name, v] of unused) {
        if (v === value) {
          unused.delete(name);
          return `:${name}`;
        }
      }
      return part;
    })
    .join("/");
}

function routePathString(path: unknown): string {
  if (typeof path === "string") return path;
  if (Array.isArray(path)) return path.map(String).join("|");
  return String(path);
}

/**
 * Install the observers on `req`; returns a function giving the matched route (template and all
 * parameters, mount prefixes included) or undefined when no route matched (a 404).
 */
export function trackExpressRoute(req: Minimal): () => RouteMatch | undefined {
  let rawBaseUrl: unknown = req.baseUrl; // what the app reads back, exactly as assigned
  let baseUrl = typeof rawBaseUrl === "string" ? rawBaseUrl : ""; // what templates are built from
  let route = req.route;
  let params = req.params;
  let routePending = false;
  let matched: RouteMatch | undefined;
  const prefixes = new Map<string, RouteMatch>([[baseUrl, { template: baseUrl, params: {} }]]);

  Object.defineProperty(req, "baseUrl", {
    configurable: true,
    enumerable: true,
    get: () => rawBaseUrl,
    set(v: unknown) {
      rawBaseUrl = v;
      if (typeof v !== "string") {
        baseUrl = ""; // e.g. a router restoring state while unwinding from a stack overflow
        return;
      }
      if (v.length > baseUrl.length && v.startsWith(baseUrl) && !prefixes.has(v)) {
        const parent = prefixes.get(baseUrl) ?? { template: baseUrl, params: {} };
        const layerParams = copyParams(params);
        prefixes.set(v, {
          template: parent.template + templatize(v.slice(baseUrl.length), layerParams),
          params: { ...parent.params, ...layerParams },
        });
      }
      baseUrl = v;
    },
  });
  Object.defineProperty(req, "route", {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(v) {
      route = v;
      routePending = v != null;
    },
  });
  Object.defineProperty(req, "params", {
    configurable: true,
    enumerable: true,
    get: () => params,
    set(v) {
      params = v;
      if (!routePending || !route) return;
      routePending = false;
      const prefix = prefixes.get(baseUrl) ?? { template: baseUrl, params: {} };
      const path = routePathString(route.path);
      const template = path === "/" && prefix.template ? prefix.template : prefix.template + path;
      matched = { template: template || "/", params: { ...prefix.params, ...copyParams(v) } };
    },
  });
  return () => matched;
}

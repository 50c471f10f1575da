/**
 * Route templates for Express 4 and 5 without walking private router state: the router assigns
 * `req.baseUrl`, `req.route` and `req.params` as it dispatches, so the SDK observes those
 * assignments (own accessors on this one request) and rebuilds the template of every mounted prefix
 * from the parameters matched there. Used by the Express integration and by Nest on Express.
 */
import http from "node:http";
import { EXPRESS_ACCESSORS, EXPRESS_BASE_URL, EXPRESS_PARAMS, EXPRESS_ROUTE, EXPRESS_TRACKER } from "../../registry/symbols.js";
import { safeDecode } from "../url.js";
import { fastProperties } from "../node-http.js";
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

/** A request as the accessors see it: the values behind them and its tracker (captured requests only). */
type Tracked = Record<symbol, unknown> & { [EXPRESS_TRACKER]?: ExpressRouteTracker };

/**
 * The route matched so far on one request: the template of every mounted prefix (rebuilt from the
 * params matched there) and, once a route's params are assigned, the route itself.
 */
export class ExpressRouteTracker {
  /** What templates are built from (a non-string baseUrl counts as ""). */
  private base: string;
  private params: unknown;
  private route: { path?: unknown } | undefined;
  private routePending = false;
  private match: RouteMatch | undefined;
  /** Templates of the mounted prefixes seen, by concrete baseUrl ("" -> ""). Created on the first mount. */
  private prefixes: Map<string, RouteMatch> | undefined;

  constructor(baseUrl: unknown, route: unknown, params: unknown) {
    this.base = typeof baseUrl === "string" ? baseUrl : "";
    this.route = route as { path?: unknown } | undefined;
    this.params = params;
  }

  /** The matched route (template and every parameter, mount prefixes included); undefined when none matched (a 404). */
  matched(): RouteMatch | undefined {
    return this.match;
  }

  baseUrlSet(v: unknown): void {
    if (typeof v !== "string") {
      this.base = ""; // e.g. a router restoring state while unwinding from a stack overflow
      return;
    }
    const base = this.base;
    if (v.length > base.length && v.startsWith(base) && !this.prefixes?.has(v)) {
      const prefixes = (this.prefixes ??= new Map());
      const parent = prefixes.get(base) ?? { template: base, params: {} };
      const layerParams = copyParams(this.params);
      prefixes.set(v, {
        template: parent.template + templatize(v.slice(base.length), layerParams),
        params: { ...parent.params, ...layerParams },
      });
    }
    this.base = v;
  }

  routeSet(v: unknown): void {
    this.route = v as { path?: unknown } | undefined;
    this.routePending = v != null;
  }

  paramsSet(v: unknown): void {
    this.params = v;
    if (!this.routePending || !this.route) return;
    this.routePending = false;
    const prefix = this.prefixes?.get(this.base) ?? { template: this.base, params: {} };
    const path = routePathString(this.route.path);
    const template = path === "/" && prefix.template ? prefix.template : prefix.template + path;
    this.match = { template: template || "/", params: { ...prefix.params, ...copyParams(v) } };
  }
}

/**
 * Express assigns `req.baseUrl`, `req.route` and `req.params` as plain properties; an accessor of
 * that name on `IncomingMessage.prototype` receives those assignments instead, once per process
 * (shared by SDK copies), so no request pays for its own property traps. Each accessor stores the
 * value on the request (a Symbol.for key) and reads it back unchanged; it tells the request's
 * tracker, if the request is captured. Where the prototype already has such a property (another
 * library's), requests get own accessors instead. Call it when an adapter is created: requests
 * that reached the router before it keep their own data properties (and get own accessors).
 */
export function installExpressAccessors(): boolean {
  const g = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (g[EXPRESS_ACCESSORS] !== undefined) return g[EXPRESS_ACCESSORS]!;
  const proto = http.IncomingMessage.prototype as object;
  const free = (["baseUrl", "route", "params"] as const).every((name) => !(name in proto));
  g[EXPRESS_ACCESSORS] = free;
  if (!free) return false;
  // One getter and setter written out per name (not made by one helper): each keeps type feedback
  // of its own, so the stores stay monomorphic (shared feedback made them megamorphic: measured
  // ~0.6 us per Express request for the ~10 assignments its router makes).
  const define = (name: string, get: (this: Tracked) => unknown, set: (this: Tracked, v: unknown) => void): void => {
    Object.defineProperty(proto, name, { configurable: true, enumerable: false, get, set });
  };
  define("baseUrl", function getBaseUrl() {
    return this[EXPRESS_BASE_URL];
  }, function setBaseUrl(v) {
    const t = this[EXPRESS_TRACKER];
    if (t !== undefined) t.baseUrlSet(v);
    this[EXPRESS_BASE_URL] = v;
  });
  define("route", function getRoute() {
    return this[EXPRESS_ROUTE];
  }, function setRoute(v) {
    const t = this[EXPRESS_TRACKER];
    if (t !== undefined) t.routeSet(v);
    this[EXPRESS_ROUTE] = v;
  });
  define("params", function getParams() {
    return this[EXPRESS_PARAMS];
  }, function setParams(v) {
    const t = this[EXPRESS_TRACKER];
    if (t !== undefined) t.paramsSet(v);
    this[EXPRESS_PARAMS] = v;
  });
  fastProperties(proto); // new accessors can leave the prototype in slow mode for every request
  return true;
}

/** Own accessors on one request: where the prototype could not take them. */
function instanceAccessors(req: Minimal, tracker: ExpressRouteTracker): void {
  let rawBaseUrl: unknown = req.baseUrl; // what the app reads back, exactly as assigned
  let route: unknown = req.route;
  let params: unknown = req.params;
  Object.defineProperty(req, "baseUrl", { configurable: true, enumerable: true, get: () => rawBaseUrl, set: (v: unknown) => { tracker.baseUrlSet(v); rawBaseUrl = v; } });
  Object.defineProperty(req, "route", { configurable: true, enumerable: true, get: () => route, set: (v: unknown) => { tracker.routeSet(v); route = v; } });
  Object.defineProperty(req, "params", { configurable: true, enumerable: true, get: () => params, set: (v: unknown) => { tracker.paramsSet(v); params = v; } });
}

/**
 * Follow the route Express's router matches for `req` (a node IncomingMessage seen by Express 4/5
 * middleware). Cheap: one object per request; the observers are installed once per process.
 */
export function trackExpressRoute(req: Minimal): ExpressRouteTracker {
  const tracker = new ExpressRouteTracker(req.baseUrl, req.route, req.params);
  const own = Object.hasOwn(req, "baseUrl") || Object.hasOwn(req, "route") || Object.hasOwn(req, "params");
  if (own || !(req instanceof http.IncomingMessage) || !installExpressAccessors()) instanceAccessors(req, tracker);
  (req as unknown as Tracked)[EXPRESS_TRACKER] = tracker;
  return tracker;
}

/** The route of a tracked request, for an adapter's finish: the match, or "" when Express matched none. */
export function expressRouteOf(req: unknown): RouteMatch | "" {
  return (req as Tracked)[EXPRESS_TRACKER]?.matched() ?? "";
}

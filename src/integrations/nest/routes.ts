/**
 * The routes Nest registers on the Express platform, seen as it registers them, to name the route
 * of a request that Express's router never dispatched. Nest mounts its body parsers before the
 * router, so a body they reject (invalid JSON: 400, too large: 413) is answered before any route
 * matched; Fastify routes before it parses, and needs none of this.
 *
 * Nest registers every route through its HTTP adapter's method of that name (`adapter.post(path,
 * handler)`, after the global prefix, the URI version and its own path normalization are applied),
 * so the SDK observes those calls on the adapter instance (arguments and return value untouched)
 * and keeps each path in registration order, which is the router's order.
 */
import { safeDecode } from "../../capture/url.js";
import type { RouteRead } from "../../capture/routes/params.js";

/** The adapter methods Nest's RouterMethodFactory registers routes with (NestJS 10 and 11). */
const ROUTE_METHODS = ["get", "post", "put", "delete", "patch", "all", "options", "head", "search", "propfind", "proppatch", "mkcol", "copy", "move", "lock", "unlock", "query"];

/** A whole-segment parameter, as both Express 4 and 5 read it. */
const PARAM = /^:[A-Za-z_]\w*$/;
/** A literal segment with no character either Express version's path syntax treats specially. */
const LITERAL = /^[\w.~-]+$/;

interface Registered {
  method: string;
  template: string;
  /** Segments after the leading "/"; undefined when the path uses syntax the SDK does not match. */
  segments: string[] | undefined;
}

/** Express's own routing settings (public `app.enabled(name)`). */
interface SettingsLike {
  enabled?(name: string): boolean;
}

/** The routes one app registered: match a request's method and path (no query) against them. */
export interface NestRoutes {
  /** The first route Express would dispatch to, "" when none can match, undefined when unknown. */
  match(method: string, path: string): RouteRead;
}

function segmentsOf(path: string): string[] | undefined {
  if (!path.startsWith("/")) return undefined;
  const segments = path === "/" ? [] : path.replace(/\/$/, "").slice(1).split("/");
  return segments.every((s) => PARAM.test(s) || LITERAL.test(s)) ? segments : undefined;
}

/** Start recording the routes registered through `adapter`; `app` gives Express's settings. */
export function observeRoutes(adapter: object, app: SettingsLike | undefined): NestRoutes {
  const routes: Registered[] = [];
  const target = adapter as Record<string, unknown>;
  for (const method of ROUTE_METHODS) {
    const original = target[method];
    if (typeof original !== "function") continue;
    target[method] = function apitoolkitObserveRoute(this: unknown, ...args: unknown[]): unknown {
      // A route is (path, ...handlers); anything else (Express's one-argument `get(setting)`) is not.
      if (args.length > 1) {
        const path = args[0];
        routes.push({ method, template: String(path), segments: typeof path === "string" ? segmentsOf(path) : undefined });
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }

  return {
    match(requestMethod, path) {
      if (app?.enabled?.("strict routing")) return undefined; // trailing slashes then count: not modelled
      const sensitive = app?.enabled?.("case sensitive routing") === true;
      const method = requestMethod.toLowerCase();
      const parts = path === "/" ? [] : path.replace(/\/$/, "").slice(1).split("/");
      for (const r of routes) {
        // Express serves HEAD from a GET route, and `all` answers every method.
        if (r.method !== method && r.method !== "all" && !(method === "head" && r.method === "get")) continue;
        if (!r.segments) return undefined; // it may match first, and the SDK cannot tell
        const params = matchSegments(r.segments, parts, sensitive);
        if (params) return { template: r.template, params };
      }
      return "";
    },
  };
}

function matchSegments(pattern: string[], parts: string[], sensitive: boolean): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const part = parts[i]!;
    if (p.startsWith(":")) {
      if (!part) return undefined;
      params[p.slice(1)] = safeDecode(part);
    } else if (sensitive ? p !== part : p.toLowerCase() !== part.toLowerCase()) {
      return undefined;
    }
  }
  return params;
}

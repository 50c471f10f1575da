/**
 * A whole App Router route module: Next answers the methods a module does not export by itself
 * (`autoImplementMethods` in next/dist/server/route-modules/app-route/helpers, the same in 14, 15
 * and 16), without calling any handler, so nothing wrapped per method ever sees those requests.
 * Exporting a handler for every method, each answering as Next would, lets them be captured.
 */
import { wrapRouteHandler, type RouteHandler, type WithAPIToolkitOptions } from "./app.js";
import type { APIToolkit } from "../../client.js";

/** The methods Next routes to a route module (`HTTP_METHODS` of next/dist/server/web/http). */
const ROUTE_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** Next's answer to a method the module does not export. */
function methodNotAllowed(): Response {
  return new Response(null, { status: 405 });
}

/** Next's automatic OPTIONS: 204 with `Allow` listing OPTIONS, the exported methods, and HEAD when GET is. */
function automaticOptions(exported: RouteMethod[]): () => Response {
  const allow = new Set<string>(["OPTIONS", ...exported]);
  if (allow.has("GET")) allow.add("HEAD");
  const header = [...allow].sort().join(", ");
  return function options() {
    return new Response(null, { status: 204, headers: { Allow: header } });
  };
}

/** The wrapped module behind `withAPIToolkitRoute` (see there). */
export function wrapRouteModule<Req extends Request, Ctx>(
  client: APIToolkit,
  handlers: Partial<Record<RouteMethod, RouteHandler<Req, Ctx>>>,
  options: WithAPIToolkitOptions,
): Record<RouteMethod, (req: Req, ctx: Ctx) => Promise<Response>> {
  // Next counts a method as exported when its export is truthy; so does this.
  const exported = ROUTE_METHODS.filter((m) => handlers[m]);
  const wrapped = {} as Record<RouteMethod, (req: Req, ctx: Ctx) => Promise<Response>>;
  for (const m of ROUTE_METHODS) {
    const own = handlers[m];
    if (own) wrapped[m] = wrapRouteHandler(client, own, options);
  }
  for (const m of ROUTE_METHODS) {
    if (wrapped[m]) continue;
    // Next serves HEAD through GET when only GET is exported; the rest it answers itself.
    if (m === "HEAD" && wrapped.GET) wrapped.HEAD = wrapped.GET;
    else wrapped[m] = wrapRouteHandler<Req, Ctx>(client, m === "OPTIONS" ? automaticOptions(exported) : methodNotAllowed, options);
  }
  return wrapped;
}

/**
 * Next.js 14, 15 and 16: App Router route handlers (`withAPIToolkit` per exported method, or
 * `withAPIToolkitRoute` for a whole route module) and Pages Router API routes
 * (`withAPIToolkitPages`). The route template is the route Next matched (`/api/users/[id]` is
 * reported as `/api/users/:id`), unless the `route` option names it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { wrapRouteHandler, type RouteHandler, type WithAPIToolkitOptions } from "./app.js";
import { wrapRouteModule, type RouteMethod } from "./methods.js";
import { wrapPagesHandler } from "./pages.js";
import type { APIToolkit } from "../../client.js";

export type { RouteHandler, RouteMethod, WithAPIToolkitOptions };

/**
 * Wrap an App Router route handler: captures the exchange (route template, params, bodies,
 * streaming responses as they flow, errors; a throwing handler is reported as the 500 Next sends)
 * and flushes through `after()` so serverless invocations publish before they end.
 *
 * `Ctx` is whatever the handler declares its second argument to be (`unknown` when it declares
 * none), so the result type-checks as the route export Next expects in either case.
 *
 * @example
 * // app/api/users/[id]/route.ts
 * export const GET = withAPIToolkit(apitoolkit, async (req: NextRequest, { params }: { params: Promise<{ id: string }> }) => {
 *   const { id } = await params;
 *   return Response.json({ id });
 * });
 * // a handler that ignores its context needs no type for it
 * export const DELETE = withAPIToolkit(apitoolkit, async (req) => new Response(null, { status: 204 }));
 */
export function withAPIToolkit<Req extends Request, Ctx = unknown>(
  client: APIToolkit,
  handler: RouteHandler<Req, Ctx>,
  options: WithAPIToolkitOptions = {},
): (req: Req, ctx: Ctx) => Promise<Response> {
  return wrapRouteHandler(client, handler, options);
}

/**
 * Wrap every method of an App Router route module, including the ones it does not export.
 *
 * Next answers a method the module does not export by itself, without calling any handler: 405
 * with no body, OPTIONS with 204 and `Allow`, HEAD through GET. So `withAPIToolkit` on each export
 * never sees those requests. This returns a handler for all seven methods Next routes (GET, HEAD,
 * OPTIONS, POST, PUT, DELETE, PATCH): yours, wrapped, and for the others Next's own answer (the
 * same status, headers and `Allow` list, built as Next builds them), wrapped too, so they are
 * reported with their status and the route template while the client receives exactly what it
 * would without the SDK. Export all seven: a method left out is answered by Next again, and a
 * stand-in exported without OPTIONS would show up in Next's automatic `Allow` header.
 *
 * Exporting POST/PUT/DELETE/PATCH/OPTIONS makes Next render the route per request: a GET that Next
 * would otherwise prerender at build time (Next 14's default for GET-only routes, `dynamic =
 * "force-static"`) is not prerendered. A prerendered response is served from Next's cache without
 * running any handler, so it could not be captured anyway; keep `withAPIToolkit` per export for a
 * route that must stay static.
 *
 * @example
 * // app/api/users/[id]/route.ts: POST /api/users/1 is answered 405 by Next and reported as such
 * export const { GET, HEAD, OPTIONS, POST, PUT, DELETE, PATCH } = withAPIToolkitRoute(apitoolkit, {
 *   GET: async (req: NextRequest, { params }: { params: Promise<{ id: string }> }) => Response.json({ id: (await params).id }),
 * });
 */
export function withAPIToolkitRoute<Req extends Request, Ctx = unknown>(
  client: APIToolkit,
  handlers: Partial<Record<RouteMethod, RouteHandler<Req, Ctx>>>,
  options: WithAPIToolkitOptions = {},
): Record<RouteMethod, (req: Req, ctx: Ctx) => Promise<Response>> {
  return wrapRouteModule(client, handlers, options);
}

/**
 * Wrap a Pages Router API route (`pages/api/*`): captures the exchange like the Express adapter
 * (the body Next parsed is used when its bytes were read before the handler ran; the URL as the
 * client sent it, query string included) and resolves only once it is published (unless
 * `flush: false`), so serverless invocations do not lose it.
 *
 * @example
 * // pages/api/hello.ts
 * export default withAPIToolkitPages(apitoolkit, (req, res) => res.status(200).json({ hello: "world" }));
 */
export function withAPIToolkitPages<Req extends IncomingMessage, Res extends ServerResponse>(
  client: APIToolkit,
  handler: (req: Req, res: Res) => unknown,
  options: WithAPIToolkitOptions = {},
): (req: Req, res: Res) => Promise<void> {
  return wrapPagesHandler(client, handler, options);
}

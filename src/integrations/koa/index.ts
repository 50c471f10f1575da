import type { IncomingMessage, ServerResponse } from "node:http";
import { adapterKit } from "../../capture/kit.js";
import type { NodeReaders } from "../../capture/node-http.js";
import { stringParams, type RouteRead } from "../../capture/routes/params.js";
import type { APIToolkit } from "../../client.js";

/** Structural Koa context (Koa 2/3 plus what @koa/router sets), so the SDK never depends on koa. */
export interface KoaContextLike {
  req: IncomingMessage;
  res: ServerResponse;
  originalUrl?: string;
  request: { body?: unknown };
  params?: Record<string, unknown>;
  /**
   * Set by @koa/router when a route matched path and method: its path, router prefixes and nested
   * mounts included. Unset when only other methods' routes matched the path (a 404 or 405).
   */
  _matchedRoute?: unknown;
}
/** Koa's `next`. */
export type KoaNext = () => Promise<unknown>;
export type KoaMiddleware = (ctx: KoaContextLike, next: KoaNext) => Promise<void>;

/** The @koa/router route that answered; "" when none handled the request (or no router ran). */
function koaRoute(ctx: KoaContextLike): RouteRead {
  const route = ctx._matchedRoute;
  const template = route === undefined || route === null ? "" : String(route);
  return template ? { template, params: stringParams(ctx.params) } : "";
}

/** What the capture reads of a Koa context when its response finishes. */
const READERS: NodeReaders<KoaContextLike> = {
  parsedBody: (ctx) => ctx.request.body,
  route: koaRoute,
};

/**
 * Koa 2/3 middleware: captures every exchange (the @koa/router route template with prefixes and
 * nested routers, params, bodies, timing, errors thrown downstream) and hands it to the client.
 * Mount it first. Errors are recorded and rethrown, so Koa's own error handling is unchanged.
 * Requests no @koa/router route matched get `url_path` "". Sent with sdk_type `JsExpress` (the
 * wire format has no Koa value).
 *
 * @example
 * const app = new Koa();
 * app.use(koaMiddleware(apitoolkit));
 * app.use(bodyParser());
 * app.use(router.routes());
 */
export function koaMiddleware(client: APIToolkit): KoaMiddleware {
  const kit = adapterKit(client);
  return async function apitoolkitKoaMiddleware(ctx, next) {
    const capture = kit.startNodeWith(ctx.req, ctx.res, "JsExpress", ctx.originalUrl ?? ctx.req.url ?? "/", READERS, ctx);
    if (!capture) {
      await next();
      return;
    }
    try {
      // next() starts inside the request context, so everything downstream runs in it.
      await kit.run(capture, next);
    } catch (err) {
      kit.recordError(capture, err);
      throw err;
    }
  };
}

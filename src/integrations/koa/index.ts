import type { IncomingMessage, ServerResponse } from "node:http";
import { sinkOf } from "../../capture/sink.js";
import { startNodeCapture, type NodeCapture } from "../../capture/node-http.js";
import { runInRequest } from "../../capture/context.js";
import { recordError } from "../../capture/errors.js";

/** Structural Koa context (Koa 2/3 plus what @koa/router sets), so the SDK never depends on koa. */
interface KoaContextLike {
  req: IncomingMessage;
  res: ServerResponse;
  originalUrl?: string;
  request: { body?: unknown };
  params?: Record<string, unknown>;
  /** Set by @koa/router: path of the matched layer, router prefixes and nested mounts included. */
  _matchedRoute?: unknown;
  /** Set by @koa/router: layers whose path matched. */
  matched?: Array<{ path?: unknown; methods?: unknown[] }>;
}
type Next = () => Promise<unknown>;
export type KoaMiddleware = (ctx: KoaContextLike, next: Next) => Promise<void>;

function routeTemplate(ctx: KoaContextLike): string {
  let route = ctx._matchedRoute;
  if (route === undefined && Array.isArray(ctx.matched)) {
    const layers = ctx.matched.filter((l) => Array.isArray(l.methods) && l.methods.length > 0);
    route = layers[layers.length - 1]?.path;
  }
  return route === undefined || route === null ? "" : String(route);
}

function paramsOf(ctx: KoaContextLike): Record<string, string> {
  const out: Record<string, string> = {};
  const p = ctx.params;
  if (p && typeof p === "object") for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = String(v);
  return out;
}

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
export function koaMiddleware(client: object): KoaMiddleware {
  const sink = sinkOf(client);
  return async function apitoolkitKoaMiddleware(ctx, next) {
    let capture: NodeCapture | undefined;
    try {
      capture = startNodeCapture(sink, ctx.req, ctx.res, "JsExpress", ctx.originalUrl ?? ctx.req.url ?? "/");
      if (capture) {
        const c = capture;
        c.parsedBody = () => ctx.request.body;
        c.beforeFinish = () => {
          const template = routeTemplate(ctx);
          c.exchange.urlPath = template;
          c.exchange.pathParams = template ? paramsOf(ctx) : {};
        };
      }
    } catch (err) {
      sink.warnOnce("W_CAPTURE_FAILED", err);
      capture = undefined;
    }
    if (!capture) {
      await next();
      return;
    }
    const errors = capture.exchange.errors;
    await runInRequest(capture.ctx, async function apitoolkitKoaNext() {
      try {
        await next();
      } catch (err) {
        recordError(errors, err);
        throw err;
      }
    });
  };
}

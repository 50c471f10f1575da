import { sinkOf } from "../../capture/sink.js";
import { startWebCapture, type WebCapture } from "../../capture/web.js";
import { runInRequest } from "../../capture/context.js";
import { recordError } from "../../capture/errors.js";
import type { RawHeaders } from "../../capture/exchange.js";

/** Structural slice of Hono's Context (no dependency on hono itself). */
interface HonoRoute {
  path: string;
  method: string;
  handler: (...args: never[]) => unknown;
}
interface HonoRequestLike {
  raw: Request;
  routeIndex?: number;
  readonly matchedRoutes?: HonoRoute[];
  param(): Record<string, string>;
}
/** The parts of Hono's `Context` the middleware uses. */
export interface HonoContextLike {
  req: HonoRequestLike;
  res: Response;
  error?: unknown;
  /** On @hono/node-server: `{ incoming, outgoing }` (node's request and response). */
  env?: unknown;
}
export type HonoMiddleware = (c: HonoContextLike, next: () => Promise<void>) => Promise<void>;

interface NodeIncoming {
  url?: string;
  rawHeaders?: string[];
  httpVersionMajor?: number;
  httpVersionMinor?: number;
}

function nodeIncoming(env: unknown): NodeIncoming | undefined {
  const incoming = (env as { incoming?: NodeIncoming } | null | undefined)?.incoming;
  return incoming && Array.isArray(incoming.rawHeaders) ? incoming : undefined;
}

/** Hono route syntax to the wire's: `/posts/:id{[0-9]+}` -> `/posts/:id`. */
function template(path: string): string {
  return path.replace(/(:[^/{?]+)\{(?:[^{}]|\{[^{}]*\})*\}/g, "$1");
}

/**
 * Hono 4 middleware (any runtime; tested on Node with @hono/node-server): captures every exchange
 * with its route template (nested `app.route()` and `basePath()` included), params, bodies and
 * errors, and hands it to the client. Register it first, for all paths.
 *
 * @example
 * const app = new Hono();
 * app.use(honoMiddleware(apitoolkit));
 * app.get("/users/:id", (c) => c.json({ id: c.req.param("id") }));
 */
export function honoMiddleware(client: object): HonoMiddleware {
  const sink = sinkOf(client);
  return async function apitoolkitHonoMiddleware(c, next) {
    let cap: WebCapture | undefined;
    try {
      const incoming = nodeIncoming(c.env);
      cap = startWebCapture(sink, c.req.raw, "JsExpress", {
        rawUrl: incoming?.url,
        requestHeaders: incoming?.rawHeaders as RawHeaders | undefined,
        protoMajor: incoming?.httpVersionMajor,
        protoMinor: incoming?.httpVersionMinor,
        alias: incoming,
      });
      if (cap) c.req.raw = cap.wrapRequest(c.req.raw);
    } catch (err) {
      sink.warnOnce("W_CAPTURE_FAILED", err);
      cap = undefined;
    }
    if (!cap) return next();
    const capture = cap;
    capture.beforeFinish = () => routeOf(c, apitoolkitHonoMiddleware, capture);
    try {
      await runInRequest(capture.ctx, next);
    } catch (err) {
      // Not an Error instance: Hono rethrows it past onError and answers 500 itself.
      recordError(capture.exchange.errors, err);
      capture.finish(500);
      throw err;
    }
    try {
      if (c.error !== undefined) recordError(capture.exchange.errors, c.error);
      c.res = capture.wrapResponse(c.res);
    } catch (err) {
      sink.warnOnce("W_CAPTURE_FAILED", err);
    }
  };
}

/** Route template and params of the route that answered; "" when none matched (404). */
function routeOf(c: HonoContextLike, self: unknown, cap: WebCapture): void {
  const routes = c.req.matchedRoutes;
  const route = routes?.[c.req.routeIndex ?? -1];
  const ex = cap.exchange;
  // The deepest route reached is this middleware (or another one that passed on): nothing matched.
  if (!route || route.handler === self || (route.handler.length >= 2 && route.method === "ALL" && ex.statusCode === 404)) {
    ex.urlPath = "";
    ex.pathParams = {};
    return;
  }
  ex.urlPath = template(route.path);
  ex.pathParams = { ...c.req.param() };
}

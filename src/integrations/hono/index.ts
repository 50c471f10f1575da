import { IncomingMessage, ServerResponse } from "node:http";
import { adapterKit } from "../../capture/kit.js";
import type { NodeReaders } from "../../capture/node-http.js";
import { stringParams, type RouteRead } from "../../capture/routes/params.js";
import type { RawHeaders } from "../../capture/exchange.js";
import type { APIToolkit } from "../../client.js";

/** A route as Hono's router reports it. */
export interface HonoRoute {
  path: string;
  method: string;
  handler: (...args: never[]) => unknown;
}
/** The part of Hono's request the middleware reads (structural: no dependency on hono). */
export interface HonoRequestLike {
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

/** node's request and response, when Hono runs on @hono/node-server. */
function nodePair(env: unknown): { incoming: IncomingMessage; outgoing: ServerResponse } | undefined {
  const e = env as { incoming?: unknown; outgoing?: unknown } | null | undefined;
  return e && e.incoming instanceof IncomingMessage && e.outgoing instanceof ServerResponse
    ? { incoming: e.incoming, outgoing: e.outgoing }
    : undefined;
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
export function honoMiddleware(client: APIToolkit): HonoMiddleware {
  const kit = adapterKit(client);
  // On @hono/node-server the node request/response are at hand: capture there (the process-wide
  // node:http hooks), leaving Hono's own Response objects and its fast write path untouched.
  const readers: NodeReaders<HonoContextLike> = {
    route: (c) => honoRoute(c, middleware, c.res?.status ?? 0),
  };
  const middleware: HonoMiddleware = async function apitoolkitHonoMiddleware(c, next) {
    const node = nodePair(c.env);
    if (node) {
      const capture = kit.startNodeWith(node.incoming, node.outgoing, "JsExpress", node.incoming.url ?? "/", readers, c);
      if (!capture) return next();
      try {
        await kit.run(capture, next);
      } catch (err) {
        kit.recordError(capture, err); // not an Error instance: Hono rethrows it and answers 500 itself
        throw err;
      }
      if (c.error !== undefined) kit.recordError(capture, c.error);
      return;
    }
    const incoming = nodeIncoming(c.env);
    const options = {
      rawUrl: incoming?.url,
      requestHeaders: incoming?.rawHeaders as RawHeaders | undefined,
      protoMajor: incoming?.httpVersionMajor,
      protoMinor: incoming?.httpVersionMinor,
      alias: incoming,
    };
    const capture = kit.startWeb(c.req.raw, "JsExpress", options, (cap) => {
      cap.route = () => honoRoute(c, apitoolkitHonoMiddleware, cap.exchange.statusCode);
      c.req.raw = cap.wrapRequest(c.req.raw);
    });
    if (!capture) return next();
    try {
      await kit.run(capture, next);
    } catch (err) {
      // Not an Error instance: Hono rethrows it past onError and answers 500 itself.
      kit.recordError(capture, err);
      capture.finish(500);
      throw err;
    }
    if (c.error !== undefined) kit.recordError(capture, c.error);
    kit.guard(() => {
      c.res = capture.wrapResponse(c.res);
    });
  };
  return middleware;
}

/** Route template and params of the route that answered; "" when none matched (404). */
function honoRoute(c: HonoContextLike, self: unknown, statusCode: number): RouteRead {
  const routes = c.req.matchedRoutes;
  const route = routes?.[c.req.routeIndex ?? -1];
  // The deepest route reached is this middleware (or another one that passed on): nothing matched.
  if (!route || route.handler === self || (route.handler.length >= 2 && route.method === "ALL" && statusCode === 404)) return "";
  return { template: template(route.path), params: stringParams(c.req.param()) };
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { adapterKit } from "../../capture/kit.js";
import { reportError } from "../../capture/errors.js";
import { expressRouteOf, installExpressAccessors, trackExpressRoute } from "../../capture/routes/express.js";
import type { NodeReaders } from "../../capture/node-http.js";
import type { APIToolkit } from "../../client.js";

/** The part of an Express 4/5 request the SDK reads (structural: the SDK never depends on express). */
export type ExpressRequestLike = IncomingMessage & { originalUrl?: string; body?: unknown; baseUrl?: string; route?: { path?: unknown }; params?: Record<string, unknown> };
/** Express's `next`. */
export type ExpressNext = (err?: unknown) => void;
/** The middleware `expressMiddleware` returns (Express 4 and 5). */
export type ExpressMiddleware = (req: ExpressRequestLike, res: ServerResponse, next: ExpressNext) => void;
/** The error middleware `expressErrorHandler` returns. */
export type ExpressErrorMiddleware = (err: unknown, req: ExpressRequestLike, res: ServerResponse, next: ExpressNext) => void;

/** What the capture reads of an Express request when its response finishes. */
const READERS: NodeReaders<ExpressRequestLike> = {
  start: trackExpressRoute,
  parsedBody: (req) => req.body,
  route: expressRouteOf,
};

/**
 * Express 4/5 middleware: captures every exchange (route template, params, bodies, timing) and
 * hands it to the client for redaction and delivery. Mount it first: it captures bodies whether it
 * runs before or after the body parsers, but requests a parser rejects never reach middleware
 * mounted after that parser.
 *
 * @example
 * app.use(expressMiddleware(apitoolkit));
 * app.use(express.json());
 */
export function expressMiddleware(client: APIToolkit): ExpressMiddleware {
  const kit = adapterKit(client);
  installExpressAccessors();
  return function apitoolkitExpressMiddleware(req, res, next) {
    const capture = kit.startNodeWith(req, res, "JsExpress", req.originalUrl ?? req.url ?? "/", READERS, req);
    kit.run(capture, next);
  };
}

/**
 * Express error middleware: records the error on the request's message, then passes it on
 * (`next(err)`), so your own error handlers and Express's default behave exactly as before.
 *
 * @example
 * app.use(expressErrorHandler(apitoolkit)); // after your routes
 */
export function expressErrorHandler(client: APIToolkit): ExpressErrorMiddleware {
  const kit = adapterKit(client);
  return function apitoolkitExpressErrorHandler(err, req, _res, next) {
    const capture = kit.captureOf(req);
    if (capture) kit.recordError(capture, err);
    else reportError(err);
    next(err);
  };
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { adapterKit } from "../../capture/kit.js";
import { reportError } from "../../capture/errors.js";
import { trackExpressRoute } from "../../capture/routes/express.js";

/** Structural Express types, so the SDK never depends on express itself. */
type Req = IncomingMessage & { originalUrl?: string; body?: unknown; baseUrl?: string; route?: { path?: unknown }; params?: Record<string, unknown> };
type Next = (err?: unknown) => void;
/** The middleware `expressMiddleware` returns (Express 4 and 5). */
export type ExpressMiddleware = (req: Req, res: ServerResponse, next: Next) => void;
/** The error middleware `expressErrorHandler` returns. */
export type ExpressErrorMiddleware = (err: unknown, req: Req, res: ServerResponse, next: Next) => void;

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
export function expressMiddleware(client: object): ExpressMiddleware {
  const kit = adapterKit(client);
  return function apitoolkitExpressMiddleware(req, res, next) {
    const capture = kit.startNode(req, res, "JsExpress", req.originalUrl ?? req.url ?? "/", (c) => {
      const matched = trackExpressRoute(req);
      c.parsedBody = () => req.body;
      c.route = () => matched() ?? "";
    });
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
export function expressErrorHandler(client: object): ExpressErrorMiddleware {
  const kit = adapterKit(client);
  return function apitoolkitExpressErrorHandler(err, req, _res, next) {
    const capture = kit.captureOf(req);
    if (capture) kit.recordError(capture, err);
    else reportError(err);
    next(err);
  };
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { sinkOf } from "../../capture/sink.js";
import { startNodeCapture, type NodeCapture } from "../../capture/node-http.js";
import { runInRequest } from "../../capture/context.js";
import { recordError, reportError } from "../../capture/errors.js";
import { trackExpressRoute } from "../../capture/routes/express.js";

/** Structural Express types, so the SDK never depends on express itself. */
type Req = IncomingMessage & { originalUrl?: string; body?: unknown; baseUrl?: string; route?: { path?: unknown }; params?: Record<string, unknown> };
type Next = (err?: unknown) => void;
export type ExpressMiddleware = (req: Req, res: ServerResponse, next: Next) => void;
export type ExpressErrorMiddleware = (err: unknown, req: Req, res: ServerResponse, next: Next) => void;

const captures = new WeakMap<object, NodeCapture>();

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
  const sink = sinkOf(client);
  return function apitoolkitExpressMiddleware(req, res, next) {
    let capture: NodeCapture | undefined;
    try {
      capture = startNodeCapture(sink, req, res, "JsExpress", req.originalUrl ?? req.url ?? "/");
      if (capture) {
        const c = capture;
        const matched = trackExpressRoute(req);
        c.parsedBody = () => req.body;
        c.beforeFinish = () => {
          const m = matched();
          c.exchange.urlPath = m ? m.template : "";
          c.exchange.pathParams = m ? m.params : {};
        };
        captures.set(req, c);
      }
    } catch (err) {
      sink.warnOnce("W_CAPTURE_FAILED", err);
      capture = undefined;
    }
    if (!capture) return next();
    runInRequest(capture.ctx, next);
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
  sinkOf(client);
  return function apitoolkitExpressErrorHandler(err, req, _res, next) {
    const capture = captures.get(req);
    if (capture) recordError(capture.exchange.errors, err);
    else reportError(err);
    next(err);
  };
}

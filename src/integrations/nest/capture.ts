/**
 * Capture on the platform under Nest (Express or Fastify), before Nest's body parsers, guards,
 * pipes and exception filters, so timing, bodies, 404s and rejected requests are all complete.
 * Route templates come from the platform router: the path Nest registered there already holds the
 * global prefix and the URI version.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sinkOf, type CaptureSink } from "../../capture/sink.js";
import { startNodeCapture, type NodeCapture } from "../../capture/node-http.js";
import { runInRequest } from "../../capture/context.js";
import { trackExpressRoute } from "../../capture/routes/express.js";
import type { RouteMatch } from "../../capture/routes/params.js";

/** Structural Fastify request/reply: only what the SDK reads. */
export interface FastifyRequestLike {
  raw: IncomingMessage;
  url?: string;
  params?: unknown;
  body?: unknown;
  is404?: boolean;
  routeOptions?: { url?: string };
  routerPath?: string;
}
export interface FastifyReplyLike {
  raw: ServerResponse;
}
type Req = IncomingMessage & { originalUrl?: string; body?: unknown; app?: unknown };
type Next = (err?: unknown) => void;

/**
 * Express middleware `(req, res, next)` and, with the same function, Fastify `onRequest` hook
 * `(request, reply, done)`.
 */
export type NestCaptureHandler = (req: Req | FastifyRequestLike, res: ServerResponse | FastifyReplyLike, next: Next) => void;

/** The in-flight captures, keyed by the node request (Fastify: `request.raw`). */
const captures = new WeakMap<object, NestCapture>();

interface NestCapture extends NodeCapture {
  /** The Fastify request, once the `onRequest` hook saw it (route and parsed body come from it). */
  fastify?: FastifyRequestLike;
  /** Route found by the interceptor, for captures that cannot see the router. */
  fallback?: RouteMatch;
}

/** @internal The capture of a request (Express req, Fastify request or node request). */
export function captureOf(req: unknown): NestCapture | undefined {
  if (!req || typeof req !== "object") return undefined;
  const raw = (req as { raw?: unknown }).raw;
  return captures.get(raw && typeof raw === "object" ? raw : req);
}

function stringParams(p: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (p && typeof p === "object") {
    for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = String(v);
  }
  return out;
}

/** Route of a Fastify request: `routeOptions.url` (Fastify >= 4.10) or `routerPath` (older 4.x). */
export function fastifyRoute(request: FastifyRequestLike): RouteMatch | undefined {
  if (request.is404) return undefined;
  const url = request.routeOptions?.url ?? request.routerPath;
  if (typeof url !== "string" || !url) return undefined;
  return { template: url, params: stringParams(request.params) };
}

function isFastify(req: unknown, res: unknown): req is FastifyRequestLike {
  const raw = (req as { raw?: unknown }).raw;
  return !!raw && typeof raw === "object" && "headers" in raw && !!(res as { raw?: unknown }).raw;
}

/** Start capturing on the node request/response; `express` when Express's router can be observed. */
function startRaw(sink: CaptureSink, req: Req, res: ServerResponse, express: boolean): NestCapture | undefined {
  const c: NestCapture | undefined = startNodeCapture(sink, req, res, "JsNest", req.originalUrl ?? req.url ?? "/");
  if (!c) return undefined;
  const matched = express ? trackExpressRoute(req as Parameters<typeof trackExpressRoute>[0]) : () => undefined;
  c.parsedBody = () => (c.fastify ? c.fastify.body : req.body);
  c.beforeFinish = () => {
    const m = (c.fastify ? fastifyRoute(c.fastify) : matched()) ?? c.fallback;
    // "" means "no route matched"; without a router to observe only a 404 is known to be that.
    const known = express || !!c.fastify || c.exchange.statusCode === 404;
    c.exchange.urlPath = m ? m.template : known ? "" : undefined;
    c.exchange.pathParams = m ? m.params : {};
  };
  captures.set(req, c);
  return c;
}

function start(sink: CaptureSink, req: Req | FastifyRequestLike, res: ServerResponse | FastifyReplyLike): NestCapture | undefined {
  if (isFastify(req, res)) {
    const c = captures.get(req.raw) ?? startRaw(sink, req.raw, (res as FastifyReplyLike).raw, false);
    if (c) c.fastify ??= req;
    return c;
  }
  // A plain node request here is Fastify's middie running `app.use` middleware: no router to observe.
  return captures.get(req) ?? startRaw(sink, req, res as ServerResponse, !!req.app);
}

/**
 * The capture as one function that is both an Express middleware and a Fastify `onRequest` hook.
 * `APIToolkitModule.forRoot()` installs it for you; use it directly only without the module.
 *
 * @example
 * // Express platform (main.ts), before app.listen():
 * app.use(apitoolkitNestMiddleware(apitoolkit));
 * // Fastify platform:
 * app.getHttpAdapter().getInstance().addHook("onRequest", apitoolkitNestMiddleware(apitoolkit));
 */
export function apitoolkitNestMiddleware(client: object): NestCaptureHandler {
  const sink = sinkOf(client);
  return function apitoolkitNestCapture(req, res, next) {
    let capture: NodeCapture | undefined;
    try {
      capture = start(sink, req, res);
    } catch (err) {
      sink.warnOnce("W_CAPTURE_FAILED", err);
      capture = undefined;
    }
    if (!capture) return next();
    runInRequest(capture.ctx, next);
  };
}

/** Structural Nest HTTP adapter (`app.getHttpAdapter()` / `HttpAdapterHost.httpAdapter`). */
export interface HttpAdapterLike {
  getType?(): string;
  getInstance?(): unknown;
}

/**
 * Install the capture on the platform instance behind a Nest HTTP adapter: first in the Express
 * middleware stack, or as a Fastify `onRequest` hook. Returns false when the adapter is neither.
 */
export function installOnAdapter(client: object, adapter: HttpAdapterLike | undefined): boolean {
  const sink = sinkOf(client);
  try {
    const type = adapter?.getType?.();
    const instance = adapter?.getInstance?.() as
      | { use?(fn: unknown): unknown; addHook?(name: string, fn: unknown): unknown; server?: { prependListener?(event: string, fn: (req: Req, res: ServerResponse) => void): unknown } }
      | undefined;
    const handler = apitoolkitNestMiddleware(client);
    if (type === "fastify" && typeof instance?.addHook === "function") {
      // Start on the server's 'request' event, ahead of every hook and middie middleware (one that
      // answers by itself is still captured); the hook then adds the route and the request context.
      instance.server?.prependListener?.("request", function apitoolkitNestRequest(req: Req, res: ServerResponse) {
        try {
          if (!captures.has(req)) startRaw(sink, req, res, false);
        } catch (err) {
          sink.warnOnce("W_CAPTURE_FAILED", err);
        }
      });
      instance.addHook("onRequest", handler);
      return true;
    }
    if (type === "express" && typeof instance?.use === "function") {
      instance.use(handler);
      return true;
    }
  } catch (err) {
    sink.warnOnce("W_CAPTURE_FAILED", err);
  }
  return false;
}

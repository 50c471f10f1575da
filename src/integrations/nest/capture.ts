/**
 * Capture on the platform under Nest (Express or Fastify), before Nest's body parsers, guards,
 * pipes and exception filters, so timing, bodies, 404s and rejected requests are all complete.
 * Route templates come from the platform router: the path Nest registered there already holds the
 * global prefix and the URI version.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { adapterKit, type AdapterKit } from "../../capture/kit.js";
import type { NodeCapture } from "../../capture/node-http.js";
import { installExpressAccessors, trackExpressRoute } from "../../capture/routes/express.js";
import { fastifyRoute, type FastifyRequestLike, type FastifyReplyLike } from "../../capture/routes/fastify.js";
import type { RouteRead } from "../../capture/routes/params.js";
import { pathOf } from "../../capture/url.js";
import { observeRoutes, type NestRoutes } from "./routes.js";
import type { APIToolkit } from "../../client.js";

export type { FastifyRequestLike, FastifyReplyLike };

/** The part of an Express request (Nest on Express) the capture reads. */
export type NestExpressRequestLike = IncomingMessage & { originalUrl?: string; body?: unknown; app?: unknown; baseUrl?: string; route?: { path?: unknown }; params?: Record<string, unknown> };
/** Express's `next` / Fastify's hook `done`. */
export type NestNext = (err?: unknown) => void;

/**
 * Express middleware `(req, res, next)` and, with the same function, Fastify `onRequest` hook
 * `(request, reply, done)`.
 */
export type NestCaptureHandler = (req: NestExpressRequestLike | FastifyRequestLike, res: ServerResponse | FastifyReplyLike, next: NestNext) => void;

/** Structural Nest HTTP adapter (`app.getHttpAdapter()` / `HttpAdapterHost.httpAdapter`). */
export interface HttpAdapterLike {
  getType?(): string;
  getInstance?(): unknown;
}

/** What the SDK uses of the platform instance behind the adapter (an Express app or a Fastify instance). */
interface PlatformLike {
  use?(fn: unknown): unknown;
  addHook?(name: string, fn: unknown): unknown;
  enabled?(setting: string): boolean;
  server?: { prependListener?(event: string, fn: (req: NestExpressRequestLike, res: ServerResponse) => void): unknown };
}

/** From now on read the route and the parsed body of the capture from its Fastify request. */
export function useFastifyRequest(c: { route?: () => RouteRead; parsedBody?: () => unknown }, request: FastifyRequestLike): void {
  c.route = () => fastifyRoute(request);
  c.parsedBody = () => request.body;
}

function isFastify(req: unknown, res: unknown): req is FastifyRequestLike {
  const raw = (req as { raw?: unknown }).raw;
  return !!raw && typeof raw === "object" && "headers" in raw && !!(res as { raw?: unknown }).raw;
}

/**
 * Start capturing on the node request/response. `express`: Express's router dispatches the request
 * (`routes`: the routes Nest registered there, for requests answered before the router ran).
 */
function startRaw(kit: AdapterKit, req: NestExpressRequestLike, res: ServerResponse, express: boolean, routes?: NestRoutes): NodeCapture | undefined {
  const rawUrl = req.originalUrl ?? req.url ?? "/";
  return kit.startNode(req, res, "JsNest", rawUrl, (c) => {
    c.parsedBody = () => req.body;
    if (!express) {
      // No router to observe (Fastify before its hooks ran, or middie): only a 404 is known to be "no route".
      c.route = () => (c.exchange.statusCode === 404 ? "" : undefined);
      return;
    }
    const matched = trackExpressRoute(req);
    c.route = () => matched.matched() ?? (routes && c.exchange.statusCode !== 404 ? routes.match(c.exchange.method, pathOf(rawUrl)) : "");
  });
}

function start(kit: AdapterKit, req: NestExpressRequestLike | FastifyRequestLike, res: ServerResponse | FastifyReplyLike, routes: NestRoutes | undefined): NodeCapture | undefined {
  if (isFastify(req, res)) {
    const c = (kit.captureOf(req.raw) as NodeCapture | undefined) ?? startRaw(kit, req.raw, (res as FastifyReplyLike).raw, false);
    if (c) useFastifyRequest(c, req);
    return c;
  }
  // A plain node request here is Fastify's middie running `app.use` middleware: no router to observe.
  return (kit.captureOf(req) as NodeCapture | undefined) ?? startRaw(kit, req, res as ServerResponse, !!req.app, routes);
}

function nestCapture(kit: AdapterKit, routes?: NestRoutes): NestCaptureHandler {
  return function apitoolkitNestCapture(req, res, next) {
    let capture: NodeCapture | undefined;
    try {
      capture = start(kit, req, res, routes);
    } catch (err) {
      kit.sink.captureFailed(err);
      capture = undefined;
    }
    kit.run(capture, next);
  };
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
export function apitoolkitNestMiddleware(client: APIToolkit): NestCaptureHandler {
  installExpressAccessors();
  return nestCapture(adapterKit(client));
}

/**
 * Install the capture on the platform instance behind a Nest HTTP adapter, before Nest registers
 * its body parsers and routes: first in the Express middleware stack (and the adapter's route
 * registrations observed), or on the Fastify server's `request` event plus an `onRequest` hook.
 * Returns false when the adapter is neither.
 */
export function installOnAdapter(client: APIToolkit, adapter: HttpAdapterLike | undefined): boolean {
  const kit = adapterKit(client);
  installExpressAccessors();
  try {
    const type = adapter?.getType?.();
    const instance = adapter?.getInstance?.() as PlatformLike | undefined;
    if (type === "fastify" && typeof instance?.addHook === "function") {
      // Start on the server's 'request' event, ahead of every hook and middie middleware (one that
      // answers by itself is still captured); the hook then adds the route and the request context.
      instance.server?.prependListener?.("request", function apitoolkitNestRequest(req, res) {
        kit.guard(() => {
          if (!kit.captureOf(req)) startRaw(kit, req, res, false);
        });
      });
      instance.addHook("onRequest", nestCapture(kit));
      return true;
    }
    if (adapter && type === "express" && typeof instance?.use === "function") {
      const routes = observeRoutes(adapter, instance);
      instance.use(nestCapture(kit, routes));
      return true;
    }
  } catch (err) {
    kit.sink.warnOnce("W_CAPTURE_FAILED", err);
  }
  return false;
}

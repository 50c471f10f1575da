import { runInRequest } from "../../capture/context.js";
import { recordError } from "../../capture/errors.js";
import { captureOf, fastifyRoute, type FastifyRequestLike } from "./capture.js";

/** Structural `ExecutionContext`: only what the interceptor reads. */
export interface ExecutionContextLike {
  getType?(): string;
  switchToHttp(): { getRequest(): unknown };
}

/** Structural rxjs Observable: what the interceptor needs from `next.handle()`. */
interface ObservableLike {
  subscribe(observer: { next(v: unknown): void; error(e: unknown): void; complete(): void }): unknown;
}
interface Subscriber {
  next(v: unknown): void;
  error(e: unknown): void;
  complete(): void;
}
type ObservableCtor = new (subscribe: (s: Subscriber) => unknown) => ObservableLike;

/** Route seen from inside Nest, for captures made where the router is not observable. */
function routeOf(req: unknown): { template: string; params: Record<string, string> } | undefined {
  if (!req || typeof req !== "object") return undefined;
  if ("raw" in req) return fastifyRoute(req as FastifyRequestLike);
  const r = req as { baseUrl?: string; route?: { path?: unknown }; params?: Record<string, unknown> };
  if (typeof r.route?.path !== "string") return undefined;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.params ?? {})) if (v !== undefined) params[k] = String(v);
  return { template: (r.baseUrl ?? "") + r.route.path, params };
}

/**
 * Nest interceptor that attaches errors thrown by controllers (and pipes) to the captured
 * request, with the status the client finally got from the exception filters, and runs the handler
 * in the request's context so `reportError()` works inside async controller methods. It needs the
 * capture installed by `APIToolkitModule.forRoot()` or `apitoolkitNestMiddleware()`; on requests
 * without one it passes through. `APIToolkitModule.forRoot()` registers it globally for you.
 *
 * @example
 * app.use(apitoolkitNestMiddleware(apitoolkit));
 * app.useGlobalInterceptors(new APIToolkitInterceptor());
 */
export class APIToolkitInterceptor {
  intercept<O>(context: ExecutionContextLike, next: { handle(): O }): O {
    let capture;
    let req: unknown;
    try {
      if (context.getType && context.getType() !== "http") return next.handle();
      req = context.switchToHttp().getRequest();
      capture = captureOf(req);
    } catch {
      capture = undefined;
    }
    if (!capture) return next.handle();
    const c = capture;
    try {
      if (!c.fallback) c.fallback = routeOf(req);
    } catch {
      /* the route stays unknown */
    }
    // Nest binds handle()'s deferred work to the async context it is called in.
    const source = runInRequest(c.ctx, () => next.handle()) as unknown as ObservableLike;
    const Observable = (source as { constructor?: unknown })?.constructor;
    if (typeof Observable !== "function" || typeof source.subscribe !== "function") return source as unknown as O;
    return new (Observable as ObservableCtor)(function apitoolkitObserve(subscriber) {
      return runInRequest(c.ctx, () =>
        source.subscribe({
          next: (v) => subscriber.next(v),
          error: (e) => {
            recordError(c.exchange.errors, e);
            subscriber.error(e);
          },
          complete: () => subscriber.complete(),
        }),
      );
    }) as unknown as O;
  }
}

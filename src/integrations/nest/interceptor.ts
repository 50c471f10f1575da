import { adapterKit, type AdapterKit } from "../../capture/kit.js";
import { useFastifyRequest, type FastifyRequestLike } from "./capture.js";
import type { APIToolkit } from "../../client.js";

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

/**
 * Nest interceptor that attaches errors thrown by controllers (and pipes) to the captured
 * request, with the status the client finally got from the exception filters, and runs the handler
 * in the request's context so `reportError()` works inside async controller methods. It needs the
 * capture installed by `APIToolkitModule.forRoot()` or `apitoolkitNestMiddleware()` for the same
 * client; on requests without one it passes through. `APIToolkitModule.forRoot()` registers it
 * globally for you. Throws APIToolkitConfigError (`ERR_INVALID_CLIENT`) when `client` is not an
 * APIToolkit, at start-up.
 *
 * @example
 * app.use(apitoolkitNestMiddleware(apitoolkit));
 * app.useGlobalInterceptors(new APIToolkitInterceptor(apitoolkit));
 */
export class APIToolkitInterceptor {
  readonly #kit: AdapterKit;

  constructor(client: APIToolkit) {
    this.#kit = adapterKit(client);
  }

  intercept<O>(context: ExecutionContextLike, next: { handle(): O }): O {
    const kit = this.#kit;
    let capture;
    try {
      if (context.getType && context.getType() !== "http") return next.handle();
      const req = context.switchToHttp().getRequest();
      // Express: the node request itself; Fastify: the node request is `request.raw`.
      const raw = req && typeof req === "object" ? (req as { raw?: unknown }).raw : undefined;
      capture = kit.captureOf(raw && typeof raw === "object" ? raw : req);
      // A capture started where Fastify's router is not observable (middie) learns the route here.
      if (capture && raw) useFastifyRequest(capture, req as FastifyRequestLike);
    } catch {
      capture = undefined;
    }
    if (!capture) return next.handle();
    const c = capture;
    // Nest binds handle()'s deferred work to the async context it is called in.
    const source = kit.run(c, () => next.handle()) as unknown as ObservableLike;
    const Observable = (source as { constructor?: unknown })?.constructor;
    if (typeof Observable !== "function" || typeof source.subscribe !== "function") return source as unknown as O;
    return new (Observable as ObservableCtor)(function apitoolkitObserve(subscriber) {
      return kit.run(c, () =>
        source.subscribe({
          next: (v) => subscriber.next(v),
          error: (e) => {
            kit.recordError(c, e);
            subscriber.error(e);
          },
          complete: () => subscriber.complete(),
        }),
      );
    }) as unknown as O;
  }
}

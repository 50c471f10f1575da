import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIToolkit } from "../../client.js";
import { adapterKit, type AdapterKit } from "../../capture/kit.js";
import type { NodeReaders } from "../../capture/node-http.js";
import { stringParams, type RouteRead } from "../../capture/routes/params.js";

/** The parts of AdonisJS 6's `HttpContext` the SDK reads (structural: the SDK never depends on @adonisjs/core). */
export interface AdonisContextLike {
  request: {
    /** node's request. */
    request: IncomingMessage;
    /** The body text the bodyparser read (JSON, form, text); null when it read none. */
    raw(): string | null;
    /** The parsed body (`{}` when there is none). */
    body(): unknown;
  };
  response: { response: ServerResponse };
  /** Set by Adonis's router once a route matched (its `pattern` has group prefixes applied). */
  route?: { pattern?: unknown };
  params?: Record<string, unknown>;
  /** The request's view of the app's container: where the middleware finds the app, once. */
  containerResolver?: { make(binding: "app"): Promise<unknown> };
}
/** Adonis's `next` (NextFn). */
export type AdonisNext = () => unknown;
/** An AdonisJS middleware class: the container constructs it and calls `handle` per request. */
export interface AdonisMiddlewareClass {
  new (): { handle(ctx: AdonisContextLike, next: AdonisNext): Promise<unknown> };
}
/** What `adonisErrorReporter` returns: call it from your exception handler's `report()`. */
export type AdonisErrorReporter = (error: unknown, ctx: AdonisContextLike) => void;

/** The route Adonis's router matched; "" when none did (a 404). */
function adonisRoute(ctx: AdonisContextLike): RouteRead {
  const pattern = ctx.route?.pattern;
  return typeof pattern === "string" && pattern ? { template: pattern, params: stringParams(ctx.params) } : "";
}

/**
 * Used only when no bytes went by the capture (a parser registered ahead of the middleware read
 * them): the text the bodyparser read, else the fields it parsed (multipart). Adonis's body() is `{}`
 * both for no body and for one it refused unread (413): nothing, then, rather than a made-up `{}`.
 */
function adonisBody(ctx: AdonisContextLike): unknown {
  const raw = ctx.request.raw();
  if (typeof raw === "string") return raw;
  const body = ctx.request.body();
  return body !== null && typeof body === "object" && Object.keys(body).length > 0 ? body : undefined;
}

/** What the capture reads of an HttpContext when its response finishes. */
const READERS: NodeReaders<AdonisContextLike> = {
  parsedBody: adonisBody,
  route: adonisRoute,
};

/** The part of Adonis's Application the middleware uses. */
interface AdonisAppLike {
  terminating(handler: () => unknown): unknown;
}

/**
 * Flush the client when the app terminates (`app.terminate()`: what bin/server.ts runs on SIGTERM),
 * like the Fastify plugin's onClose hook. The app is found through the first request's container.
 */
function flushOnTerminate(kit: AdapterKit, ctx: AdonisContextLike): void {
  kit.guard(() => {
    const made = ctx.containerResolver?.make("app");
    if (!made || typeof made.then !== "function") return;
    made.then(
      (app) => kit.guard(() => {
        if (typeof (app as AdonisAppLike | null)?.terminating === "function") (app as AdonisAppLike).terminating(() => kit.flush());
      }),
      () => undefined, // no app binding: nothing to hook
    );
  });
}

/**
 * AdonisJS 6 middleware: captures every exchange (the route pattern from Adonis's router, group
 * prefixes included, params, bodies, timing) and hands it to the client. Returns the middleware
 * class; export it as the default of a middleware file and register that file first in
 * `server.use([...])` of `start/kernel.ts`. Server middleware runs for every request, 404s included,
 * before the router matches, and the route is read when the response is written, after it matched.
 * Router middleware (`router.use`) would miss requests no route matched. Adonis turns thrown errors
 * into responses inside the chain, so they never reach this middleware: record them with
 * {@link adonisErrorReporter} in `app/exceptions/handler.ts`. The client is flushed (bounded by
 * its `flushTimeoutMs`) when the app terminates.
 *
 * @example
 * // app/middleware/apitoolkit_middleware.ts
 * import { adonisMiddleware } from "apitoolkit-node/adonis";
 * import { apitoolkit } from "#start/apitoolkit";
 * export default adonisMiddleware(apitoolkit);
 *
 * // start/kernel.ts
 * server.use([
 *   () => import("#middleware/apitoolkit_middleware"),
 *   () => import("#middleware/container_bindings_middleware"),
 * ]);
 */
export function adonisMiddleware(client: APIToolkit): AdonisMiddlewareClass {
  const kit = adapterKit(client);
  let hooked = false;
  return class ApitoolkitMiddleware {
    async handle(ctx: AdonisContextLike, next: AdonisNext): Promise<unknown> {
      if (!hooked) {
        hooked = true;
        flushOnTerminate(kit, ctx);
      }
      const req = ctx.request?.request;
      const res = ctx.response?.response;
      const capture = req && res ? kit.startNodeWith(req, res, "JsAdonis", req.url ?? "/", READERS, ctx) : undefined;
      if (!capture) return next();
      try {
        // next() starts inside the request context: the router, bodyparser, handler and the
        // exception handler's report() all run in it (reportError, outgoing parent_id).
        return await kit.run(capture, next);
      } catch (err) {
        kit.recordError(capture, err); // only when the exception handler itself threw
        throw err;
      }
    }
  };
}

/**
 * Records an error Adonis's exception handler reports on the request's message, with the status
 * the handler then answers. Call it from `report()` in `app/exceptions/handler.ts`. Adonis's
 * "no route matched" (E_ROUTE_NOT_FOUND, a 404) is not recorded: no other integration records its
 * router's 404 as an error. Never throws.
 *
 * @example
 * // app/exceptions/handler.ts
 * const recordError = adonisErrorReporter(apitoolkit);
 * export default class HttpExceptionHandler extends ExceptionHandler {
 *   async report(error: unknown, ctx: HttpContext) {
 *     recordError(error, ctx);
 *     return super.report(error, ctx);
 *   }
 * }
 */
export function adonisErrorReporter(client: APIToolkit): AdonisErrorReporter {
  const kit = adapterKit(client);
  return function apitoolkitAdonisReportError(error, ctx) {
    kit.guard(() => {
      if ((error as { code?: unknown } | null)?.code === "E_ROUTE_NOT_FOUND") return;
      kit.recordError(kit.captureOf(ctx?.request?.request), error);
    });
  };
}

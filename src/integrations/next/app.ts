/**
 * App Router route handlers: one capture per call of a wrapped handler, through the adapter kit's
 * Web capture (request body read through the SDK, streaming responses observed as they flow).
 */
import { adapterKit } from "../../capture/kit.js";
import { pathOf } from "../../capture/url.js";
import { deferred, keepAlive, within } from "./flush.js";
import { appRouteOfNext, loadNextStores, nextStoresLoaded } from "./internals.js";
import { fromFileRoute, fromParams, paramStrings, type NextParams } from "./route.js";
import type { APIToolkit } from "../../client.js";

export interface WithAPIToolkitOptions {
  /** The file-system route, e.g. `/api/users/[id]` (reported as `/api/users/:id`). Default: the
   *  route Next matched; where Next does not tell, derived from the path and the params. */
  route?: string;
  /** Publish before the invocation ends (serverless): through `after()` (Next 15+) or the platform's
   *  `waitUntil`; for pages routes by resolving only once published. Default true; set false on a
   *  long-running `next start` server to keep batching. */
  flush?: boolean;
}

/** A route handler as Next calls it. */
export type RouteHandler<Req, Ctx> = (req: Req, ctx: Ctx) => Response | Promise<Response>;

/** The `digest` Next puts on its control-flow throws (redirect, notFound, dynamic usage). */
function controlDigest(err: unknown): string | undefined {
  try {
    const digest = (err as { digest?: unknown } | null)?.digest;
    return typeof digest === "string" ? digest : undefined;
  } catch {
    return undefined;
  }
}

/** Status Next answers for its control-flow throws (`redirect()`, `notFound()`, ...), which are not errors. */
function controlStatus(err: unknown): number | undefined {
  const digest = controlDigest(err);
  if (digest === undefined) return undefined;
  if (digest.startsWith("NEXT_REDIRECT")) return Number(digest.split(";")[3]) || 307;
  if (digest === "NEXT_NOT_FOUND") return 404;
  const m = /^NEXT_HTTP_ERROR_FALLBACK;(\d{3})$/.exec(digest);
  return m ? Number(m[1]) : undefined;
}

/** A NextRequest (or Request) like `req` whose body is read through the SDK. */
function rebuild<R extends Request>(req: R, init: RequestInit): R {
  const Ctor = req.constructor as new (input: Request | string, init: RequestInit & { nextConfig?: object }) => R;
  const basePath = basePathOf(req);
  const extra = basePath ? { nextConfig: { basePath } } : {};
  try {
    return new Ctor(req, { ...init, ...extra });
  } catch {
    // Next hands route handlers a Proxy of the request; undici 7 (Node 24) cannot read its private
    // state, so build the copy from the request's public fields instead.
    return new Ctor(req.url, { method: req.method, headers: req.headers, signal: req.signal, ...init, ...extra });
  }
}

function basePathOf(req: Request): string {
  return (req as { nextUrl?: { basePath?: string } }).nextUrl?.basePath ?? "";
}

/** The wrapped handler behind `withAPIToolkit` (see there). */
export function wrapRouteHandler<Req extends Request, Ctx>(
  client: APIToolkit,
  handler: RouteHandler<Req, Ctx>,
  options: WithAPIToolkitOptions,
): (req: Req, ctx: Ctx) => Promise<Response> {
  const kit = adapterKit(client);
  void loadNextStores();
  return async function apitoolkitNextRoute(req, ctx) {
    if (!nextStoresLoaded()) await loadNextStores();
    let params: NextParams | undefined;
    const finished = deferred();
    const capture = kit.startWeb(req, "JsNext", { rethrow: (err) => controlDigest(err) !== undefined }, (c) => {
      // Read now: Next's store is the one of this call only while the handler runs.
      const route = options.route ?? appRouteOfNext();
      const template = route === undefined ? undefined : basePathOf(req) + fromFileRoute(route);
      c.route = () => ({ template: template ?? fromParams(pathOf(c.exchange.rawUrl), params ?? {}), params: paramStrings(params) });
      c.beforeFinish = finished.resolve;
    });
    if (!capture) return handler(req, ctx);
    const paramsReady = Promise.resolve((ctx as { params?: unknown } | undefined)?.params).then(
      (p) => void (params = p && typeof p === "object" ? (p as NextParams) : undefined),
      () => undefined,
    );
    if (options.flush !== false) {
      const ms = kit.sink.config.flushTimeoutMs;
      keepAlive(() => within(finished.promise, ms).then(() => kit.flush(ms)));
    }
    let res: Response;
    try {
      res = await kit.run(capture, () => handler(capture.wrapRequest(req, rebuild), ctx));
    } catch (err) {
      await paramsReady;
      const status = controlStatus(err);
      if (status === undefined) kit.recordError(capture, err);
      capture.finish(status ?? 500);
      throw err;
    }
    await paramsReady;
    if (typeof (res as Partial<Response> | undefined)?.status !== "number") {
      capture.finish(500); // Next answers 500 to a handler that returns no Response
      return res;
    }
    return capture.wrapResponse(res);
  };
}

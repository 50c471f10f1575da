import type { IncomingMessage, ServerResponse } from "node:http";
import { sinkOf } from "../../capture/sink.js";
import { startWebCapture } from "../../capture/web.js";
import { startNodeCapture } from "../../capture/node-http.js";
import { runInRequest } from "../../capture/context.js";
import { recordError } from "../../capture/errors.js";
import { queryParams } from "../../wire/message.js";
import { fromFileRoute, fromParams, paramStrings, type NextParams } from "./route.js";
import { deferred, keepAlive, within } from "./flush.js";

/** What the wrappers need of the client: an `APIToolkit`. */
export interface FlushableClient {
  flush(timeoutMs?: number): Promise<boolean>;
}

export interface WithAPIToolkitOptions {
  /** The file-system route, e.g. `/api/users/[id]` (reported as `/api/users/:id`). Default: derived
   *  from the path and the params (each segment equal to a param value becomes `:name`). */
  route?: string;
  /** Publish before the invocation ends (serverless): through `after()` (Next 15+) or the platform's
   *  `waitUntil`; for pages routes by resolving only once published. Default true; set false on a
   *  long-running `next start` server to keep batching. */
  flush?: boolean;
}

interface PagesRequest extends IncomingMessage { query?: Record<string, string | string[] | undefined>; body?: unknown }

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
  const basePath = (req as { nextUrl?: { basePath?: string } }).nextUrl?.basePath;
  const extra = basePath ? { nextConfig: { basePath } } : {};
  try {
    return new Ctor(req, { ...init, ...extra });
  } catch {
    // Next hands route handlers a Proxy of the request; undici 7 (Node 24) cannot read its private
    // state, so build the copy from the request's public fields instead.
    return new Ctor(req.url, { method: req.method, headers: req.headers, signal: req.signal, ...init, ...extra });
  }
}

/**
 * Wrap an App Router route handler: captures the exchange (route template, params, bodies,
 * streaming responses as they flow, errors; a throwing handler is reported as the 500 Next sends)
 * and flushes through `after()` so serverless invocations publish before they end.
 *
 * @example
 * // app/api/users/[id]/route.ts
 * export const GET = withAPIToolkit(apitoolkit, async (req, { params }) => {
 *   const { id } = await params;
 *   return Response.json({ id });
 * }, { route: "/api/users/[id]" });
 */
// `any` by default, so a handler that ignores its context still type-checks as a Next route export.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function withAPIToolkit<Req extends Request, Ctx = any>(
  client: FlushableClient,
  handler: (req: Req, ctx: Ctx) => Response | Promise<Response>,
  options: WithAPIToolkitOptions = {},
): (req: Req, ctx: Ctx) => Promise<Response> {
  const sink = sinkOf(client);
  const template = options.route === undefined ? undefined : fromFileRoute(options.route);
  return async function apitoolkitNextRoute(req, ctx) {
    let cap: ReturnType<typeof startWebCapture>;
    try {
      cap = startWebCapture(sink, req, "JsNext");
    } catch (err) {
      // Next's own signals (e.g. DYNAMIC_SERVER_USAGE while prerendering) are Next's, not failures.
      if (controlDigest(err) !== undefined) throw err;
      sink.warnOnce("W_CAPTURE_FAILED", err);
    }
    if (!cap) return handler(req, ctx);
    const c = cap;
    let params: NextParams | undefined;
    const paramsReady = Promise.resolve((ctx as { params?: unknown } | undefined)?.params).then(
      (p) => void (params = p && typeof p === "object" ? (p as NextParams) : undefined),
      () => undefined,
    );
    const finished = deferred();
    c.beforeFinish = () => {
      const path = c.exchange.rawUrl.split("?")[0]!;
      const basePath = (req as { nextUrl?: { basePath?: string } }).nextUrl?.basePath ?? "";
      c.exchange.urlPath = template !== undefined ? basePath + template : fromParams(path, params ?? {});
      c.exchange.pathParams = paramStrings(params);
      finished.resolve();
    };
    if (options.flush !== false) {
      const ms = sink.config.flushTimeoutMs;
      keepAlive(() => within(finished.promise, ms).then(() => client.flush(ms)));
    }
    let res: Response;
    try {
      res = await runInRequest(c.ctx, () => handler(c.wrapRequest(req, rebuild), ctx));
    } catch (err) {
      await paramsReady;
      const status = controlStatus(err);
      if (status === undefined) recordError(c.exchange.errors, err);
      c.finish(status ?? 500);
      throw err;
    }
    await paramsReady;
    if (typeof (res as Partial<Response> | undefined)?.status !== "number") {
      c.finish(500); // Next answers 500 to a handler that returns no Response
      return res;
    }
    return c.wrapResponse(res);
  };
}

/**
 * Wrap a Pages Router API route (`pages/api/*`): captures the exchange like the Express adapter
 * (the body Next parsed is used when its bytes were read before the handler ran) and resolves only
 * once it is published (unless `flush: false`), so serverless invocations do not lose it.
 *
 * @example
 * // pages/api/hello.ts
 * export default withAPIToolkitPages(apitoolkit, (req, res) => res.status(200).json({ hello: "world" }));
 */
export function withAPIToolkitPages<Req extends IncomingMessage, Res extends ServerResponse>(
  client: FlushableClient,
  handler: (req: Req, res: Res) => unknown,
  options: WithAPIToolkitOptions = {},
): (req: Req, res: Res) => Promise<void> {
  const sink = sinkOf(client);
  const template = options.route === undefined ? undefined : fromFileRoute(options.route);
  return async function apitoolkitNextPagesRoute(req, res) {
    let cap: ReturnType<typeof startNodeCapture>;
    try {
      cap = startNodeCapture(sink, req, res, "JsNext", req.url ?? "/");
    } catch (err) {
      sink.warnOnce("W_CAPTURE_FAILED", err);
    }
    if (!cap) return void (await handler(req, res));
    const c = cap;
    const r = req as PagesRequest;
    const finished = deferred();
    c.parsedBody = () => r.body;
    c.beforeFinish = () => {
      // Next merges route params into req.query: the ones the query string does not hold are params.
      const search = queryParams(c.exchange.rawUrl);
      const params: NextParams = {};
      for (const [k, v] of Object.entries(r.query ?? {})) {
        if (v !== undefined && String(search[k] ?? "") !== String(v)) params[k] = v;
      }
      c.exchange.urlPath = template ?? fromParams(c.exchange.rawUrl.split("?")[0]!, params);
      c.exchange.pathParams = paramStrings(params);
      finished.resolve();
    };
    const ms = sink.config.flushTimeoutMs;
    const publish = () => within(finished.promise, ms).then(() => client.flush(ms));
    try {
      await runInRequest(c.ctx, () => handler(req, res));
    } catch (err) {
      recordError(c.exchange.errors, err);
      if (options.flush !== false) keepAlive(publish);
      throw err;
    }
    if (options.flush !== false) await publish();
  };
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { sinkOf } from "../../capture/sink.js";
import { startNodeCapture, type NodeCapture } from "../../capture/node-http.js";
import { runInRequest } from "../../capture/context.js";
import { recordError } from "../../capture/errors.js";
import { FOREIGN } from "../../registry/symbols.js";

/** Structural Fastify types (v4 and v5), so the SDK never depends on fastify itself. */
interface FastifyRequestLike {
  raw: IncomingMessage;
  params?: unknown;
  body?: unknown;
  is404?: boolean;
  routeOptions?: { url?: string };
  routerPath?: string;
}
interface FastifyReplyLike {
  raw: ServerResponse;
}
type Done = (err?: Error) => void;
interface FastifyInstanceLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
}
/** A Fastify plugin function (what `app.register` takes), marked to apply to the whole app. */
export type FastifyPluginLike = ((instance: FastifyInstanceLike, opts: unknown, done: Done) => void) & {
  [key: symbol]: unknown;
};

function routeTemplate(request: FastifyRequestLike): string {
  if (request.is404) return "";
  // routeOptions exists from v4.10 on; routerPath (deprecated) only before it.
  const url = request.routeOptions ? request.routeOptions.url : request.routerPath;
  return typeof url === "string" ? url : "";
}

function paramsOf(request: FastifyRequestLike): Record<string, string> {
  const out: Record<string, string> = {};
  const p = request.params;
  if (request.is404 || !p || typeof p !== "object") return out;
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) if (v !== undefined) out[k] = String(v);
  return out;
}

/**
 * Fastify 4/5 plugin: captures every exchange of the whole app (route template with register
 * prefixes, params, bodies, timing, errors from the `onError` hook) and hands it to the client.
 * `reportError()` works in handlers and hooks; `app.close()` flushes the client (bounded by its
 * `flushTimeoutMs`) through an `onClose` hook. Not encapsulated (no need for fastify-plugin).
 *
 * @example
 * const apitoolkit = new APIToolkit({ apiKey: process.env.APITOOLKIT_KEY });
 * const app = Fastify();
 * await app.register(fastifyPlugin(apitoolkit));
 * app.get("/users/:id", async (req) => ({ id: req.params.id }));
 */
export function fastifyPlugin(client: object): FastifyPluginLike {
  const sink = sinkOf(client);
  const flush = (client as { flush?: (timeoutMs?: number) => Promise<unknown> }).flush;
  const captures = new WeakMap<object, NodeCapture>(); // per plugin: two clients on one app stay apart

  function apitoolkitOnRequest(request: FastifyRequestLike, reply: FastifyReplyLike, done: Done): void {
    let capture: NodeCapture | undefined;
    try {
      capture = startNodeCapture(sink, request.raw, reply.raw, "JsFastify", request.raw.url ?? "/");
      if (capture) {
        const c = capture;
        c.parsedBody = () => request.body;
        c.beforeFinish = () => {
          c.exchange.urlPath = routeTemplate(request);
          c.exchange.pathParams = paramsOf(request);
        };
        captures.set(request.raw, c);
      }
    } catch (err) {
      sink.warnOnce("W_CAPTURE_FAILED", err);
      capture = undefined;
    }
    // The rest of the hook chain and the handler run in the request context (reportError, outgoing
    // parent_id). Fastify's body parser callback keeps it (it runs in an AsyncResource of the request).
    if (capture) runInRequest(capture.ctx, done);
    else done();
  }

  function apitoolkitOnError(request: FastifyRequestLike, _reply: FastifyReplyLike, error: unknown, done: Done): void {
    const capture = captures.get(request.raw);
    if (capture) recordError(capture.exchange.errors, error);
    done();
  }

  function apitoolkitOnClose(_instance: unknown, done: Done): void {
    if (typeof flush !== "function") return done();
    flush.call(client).then(
      () => done(),
      () => done(),
    );
  }

  const plugin = function apitoolkitFastifyPlugin(instance: FastifyInstanceLike, _opts: unknown, done: Done): void {
    instance.addHook("onRequest", apitoolkitOnRequest);
    instance.addHook("onError", apitoolkitOnError);
    instance.addHook("onClose", apitoolkitOnClose);
    done();
  } as FastifyPluginLike;
  // What fastify-plugin sets: hooks apply to the whole app, not an encapsulated child.
  plugin[FOREIGN.fastifySkipOverride] = true;
  plugin[FOREIGN.fastifyDisplayName] = "apitoolkit";
  return plugin;
}

import { adapterKit } from "../../capture/kit.js";
import type { NodeReaders } from "../../capture/node-http.js";
import { fastifyRoute, type FastifyReplyLike, type FastifyRequestLike } from "../../capture/routes/fastify.js";
import { FOREIGN } from "../../registry/symbols.js";
import type { APIToolkit } from "../../client.js";

/** Fastify's plugin/hook callback. */
export type FastifyDone = (err?: Error) => void;
/** The part of a Fastify instance the plugin uses (structural: no dependency on fastify). */
export interface FastifyInstanceLike {
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
}
/** A Fastify plugin function (what `app.register` takes), marked to apply to the whole app. */
export type FastifyPluginLike = ((instance: FastifyInstanceLike, opts: unknown, done: FastifyDone) => void) & {
  [key: symbol]: unknown;
};

/** What the capture reads of a Fastify request when its response finishes. */
const READERS: NodeReaders<FastifyRequestLike> = {
  parsedBody: (request) => request.body,
  route: fastifyRoute,
};

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
export function fastifyPlugin(client: APIToolkit): FastifyPluginLike {
  const kit = adapterKit(client); // one per client: two clients on one app stay apart

  function apitoolkitOnRequest(request: FastifyRequestLike, reply: FastifyReplyLike, done: FastifyDone): void {
    // With `rewriteUrl`, Fastify keeps the URL the client sent in raw.originalUrl.
    const raw = request.raw as FastifyRequestLike["raw"] & { originalUrl?: string };
    const capture = kit.startNodeWith(raw, reply.raw, "JsFastify", raw.originalUrl ?? raw.url ?? "/", READERS, request);
    // The rest of the hook chain and the handler run in the request context (reportError, outgoing
    // parent_id). Fastify's body parser callback keeps it (it runs in an AsyncResource of the request).
    kit.run(capture, done);
  }

  function apitoolkitOnError(request: FastifyRequestLike, _reply: FastifyReplyLike, error: unknown, done: FastifyDone): void {
    kit.recordError(kit.captureOf(request.raw), error);
    done();
  }

  function apitoolkitOnClose(_instance: unknown, done: FastifyDone): void {
    void kit.flush().then(() => done());
  }

  const plugin = function apitoolkitFastifyPlugin(instance: FastifyInstanceLike, _opts: unknown, done: FastifyDone): void {
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

// The benchmark app in every framework: the same five routes (bench/app.ts has the bodies), served
// bare or with a capturing variant mounted the way its docs say. Used by the server child
// (bench/server.ts); bench/run.ts reads only the table's keys, labels and target columns.
import http from "node:http";
import { Readable } from "node:stream";
import type { AddressInfo } from "node:net";
import { ITEMS_20K, STREAM_CHUNK, STREAM_CHUNKS, callUpstream, streamChunks } from "./app.js";

/** Which column of the target table a framework is held to. */
export type TargetColumn = "express" | "fastify" | "koa" | "hono";

/** The SDK under test: its integration module (src/integrations/<fw>/index.ts, compiled) and a client. */
export interface SdkMount { kind: "sdk"; integration: Record<string, unknown>; client: object }
/** The reference SDK (apitoolkit-express): its middleware and error handler (Express only). */
export interface ReferenceMount { kind: "reference"; middleware: unknown; errorHandler: unknown }
/** A peer that instruments the app's modules instead of mounting a middleware (OpenTelemetry):
 *  the app is built from the `express` it patched (bench/node_modules/express, the same version). */
export interface InstrumentedMount { kind: "instrumented"; express: unknown }
export type Mount = SdkMount | ReferenceMount | InstrumentedMount;

/** A listening server and how to stop it (the framework's own close where it has one). */
export interface Served { server: http.Server; close(): Promise<void> }

export interface Framework {
  key: string;
  label: string;
  column: TargetColumn;
  /** Folder under src/integrations/ of its SDK integration. */
  integration: string;
  /** Build the app (with `mount` when the variant captures) and listen on a loopback port. */
  serve(mount: Mount | undefined): Promise<Served>;
}

/** The integration's export `name`, as a function of the client. */
function factory<T>(mount: SdkMount, name: string): T {
  const f = mount.integration[name] as ((client: object) => T) | undefined;
  if (typeof f !== "function") throw new Error(`src/integrations: no export ${name}`);
  return f(mount.client);
}

function listen(server: http.Server): Promise<http.Server> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
function closeServer(server: http.Server): Promise<void> {
  return new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
}
export function portOf(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

type ExpressModule = typeof import("express");
/** Express 4 and 5: the SDK first (its docs), the reference after the JSON parser (its README). */
async function serveExpress(express: ExpressModule, mount: Mount | undefined): Promise<Served> {
  const app = express();
  app.set("etag", false);
  app.set("x-powered-by", false);
  if (mount?.kind === "sdk") app.use(factory<import("express").RequestHandler>(mount, "expressMiddleware"));
  app.use(express.json({ limit: "2mb" }));
  if (mount?.kind === "reference") app.use(mount.middleware as import("express").RequestHandler);
  app.get("/health", (_req, res) => {
    res.json({ ok: true });
  });
  app.post("/echo", (req, res) => {
    res.json(req.body);
  });
  app.get("/items", (_req, res) => {
    res.json(ITEMS_20K);
  });
  app.get("/stream", (_req, res) => {
    res.type("text/plain");
    Readable.from(streamChunks()).pipe(res);
  });
  app.get("/outgoing", (_req, res, next) => {
    callUpstream().then((text) => res.type("application/json").send(text), next);
  });
  if (mount?.kind === "reference") app.use(mount.errorHandler as import("express").ErrorRequestHandler);
  const server = await listen(http.createServer(app));
  return { server, close: () => closeServer(server) };
}

async function serveFastify(mount: Mount | undefined): Promise<Served> {
  const { default: Fastify } = await import("fastify5");
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
  if (mount?.kind === "sdk") await app.register(factory<Parameters<typeof app.register>[0]>(mount, "fastifyPlugin"));
  app.get("/health", async () => ({ ok: true }));
  app.post("/echo", async (req) => req.body);
  app.get("/items", (_req, reply) => {
    void reply.send(ITEMS_20K);
  });
  app.get("/stream", (_req, reply) => {
    void reply.type("text/plain").send(Readable.from(streamChunks()));
  });
  app.get("/outgoing", async (_req, reply) => reply.type("application/json").send(await callUpstream()));
  await app.listen({ port: 0, host: "127.0.0.1" });
  return { server: app.server, close: () => app.close() };
}

/** Koa has no body parser of its own: the same small JSON reader in every Koa variant. */
async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function serveKoa(mount: Mount | undefined): Promise<Served> {
  const { default: Koa } = await import("koa3");
  const { default: Router } = await import("@koa/router");
  const app = new Koa();
  app.silent = true; // no stderr line for each stream a client closes mid-way (end of a run)
  if (mount?.kind === "sdk") app.use(factory<import("koa").Middleware>(mount, "koaMiddleware"));
  app.use(async function jsonBody(ctx, next) {
    if (ctx.method === "POST" && ctx.is("application/json")) (ctx.request as { body?: unknown }).body = await readJson(ctx.req);
    await next();
  });
  const router = new Router();
  router.get("/health", (ctx) => {
    ctx.body = { ok: true };
  });
  router.post("/echo", (ctx) => {
    ctx.body = (ctx.request as { body?: unknown }).body;
  });
  router.get("/items", (ctx) => {
    ctx.type = "application/json";
    ctx.body = ITEMS_20K;
  });
  router.get("/stream", (ctx) => {
    ctx.type = "text/plain";
    ctx.body = Readable.from(streamChunks());
  });
  router.get("/outgoing", async (ctx) => {
    ctx.type = "application/json";
    ctx.body = await callUpstream();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  const server = await listen(http.createServer(app.callback()));
  return { server, close: () => closeServer(server) };
}

async function serveHono(mount: Mount | undefined): Promise<Served> {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const app = new Hono();
  if (mount?.kind === "sdk") app.use(factory<import("hono").MiddlewareHandler>(mount, "honoMiddleware"));
  const json = { "content-type": "application/json" };
  app.get("/health", (c) => c.json({ ok: true }));
  app.post("/echo", async (c) => c.json(await c.req.json()));
  app.get("/items", (c) => c.json(ITEMS_20K as object));
  app.get("/stream", () => {
    let left = STREAM_CHUNKS;
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (left-- > 0) ctrl.enqueue(STREAM_CHUNK);
        else ctrl.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  });
  app.get("/outgoing", async (c) => c.body(await callUpstream(), 200, json));
  const server = await new Promise<http.Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as http.Server));
  });
  return { server, close: () => closeServer(server) };
}

/** Every framework benchmarked, in report order. Add a row to add a framework. */
export const FRAMEWORKS: Framework[] = [
  { key: "express4", label: "Express 4", column: "express", integration: "express", serve: async (m) => serveExpress(m?.kind === "instrumented" ? (m.express as ExpressModule) : ((await import("express4")).default as unknown as ExpressModule), m) },
  { key: "express5", label: "Express 5", column: "express", integration: "express", serve: async (m) => serveExpress((await import("express5")).default as unknown as ExpressModule, m) },
  { key: "fastify5", label: "Fastify 5", column: "fastify", integration: "fastify", serve: serveFastify },
  { key: "koa3", label: "Koa 3 (+ @koa/router)", column: "koa", integration: "koa", serve: serveKoa },
  { key: "hono4", label: "Hono 4 (@hono/node-server)", column: "hono", integration: "hono", serve: serveHono },
];

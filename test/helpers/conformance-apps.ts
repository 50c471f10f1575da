// The one service of the conformance suite (test/conformance.test.ts), written once per integration
// that serves plain HTTP: the same routes, the same answers, each in its framework's own idiom.
//
//   GET  /users/:id      200 JSON {id, name}, response header X-Api-Key (redacted by name)
//   POST /echo           201 JSON {token, echo: <the request body>}
//   GET  /stream         200 text/plain "one two three", written in parts
//   GET  /boom           throws payment provider unreachable (cause: TypeError ECONNREFUSED) -> 500
//   GET  /report         reportError(RangeError) in an async handler, then 200 "ok"
//   POST /report         reportError(RangeError "reported after parsing <n>") after the body was parsed, 200
//   GET  /slow           answers after 400 ms (the suite aborts it)
//   GET  /whoami/:id     setUser, setTenant, setSession, setAttributes with awaits between them, 200 JSON {id, name}
//   anything else        404
//
// Each `start` takes the client, or undefined for the same app without the SDK (to compare answers).
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import express4 from "express4";
import express5 from "express5";
import Fastify4 from "fastify4";
import Fastify5 from "fastify5";
import Koa2 from "koa2";
import Koa3 from "koa3";
import Router from "@koa/router";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import "reflect-metadata";
import * as nest from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { FastifyAdapter } from "@nestjs/platform-fastify";
import { type APIToolkit, reportError, setAttributes, setSession, setTenant, setUser } from "../../src/index.js";
import { expressMiddleware, expressErrorHandler } from "../../src/integrations/express/index.js";
import { fastifyPlugin } from "../../src/integrations/fastify/index.js";
import { koaMiddleware } from "../../src/integrations/koa/index.js";
import { honoMiddleware } from "../../src/integrations/hono/index.js";
import { wrapHandler } from "../../src/integrations/http/index.js";
import { APIToolkitModule } from "../../src/integrations/nest/index.js";
import type { Router as AdonisRouter } from "@adonisjs/core/http";
import { startAdonisApp } from "../../examples/adonis/app.js";
import { listen } from "./server.js";

export interface Served {
  url: string;
  close(): Promise<void>;
}
export type StartApp = (apitoolkit: APIToolkit | undefined) => Promise<Served>;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const user = (id: string) => ({ id, name: "Ada" });
const echo = (body: unknown) => ({ token: "tok-SECRET-123", echo: body });
const boom = () => new Error("payment provider unreachable", { cause: new TypeError("ECONNREFUSED 10.0.0.7:443") });
const reportInHandler = () => reportError(new RangeError("reported in handler"));
const reportAfterParsing = (body: unknown) => reportError(new RangeError(`reported after parsing ${(body as { n?: number } | undefined)?.n}`));
const STREAM_PARTS = ["one ", "two ", "three"];

/** What /whoami/:id sets, awaiting between the calls so that concurrent requests interleave. */
export async function identify(id: string): Promise<void> {
  setUser({ id: `u_${id}`, email: `${id}@example.com`, name: "Ann Lee" });
  await pause(1 + (id.length % 3));
  setTenant({ id: "t_7", name: "Acme" });
  setSession(`s_${id}`);
  await pause(1);
  setAttributes({ plan: "pro", "cart.items": id.length, beta: true });
}
/** The tags /whoami/:id publishes after the global ones. */
export function identityTags(id: string): string[] {
  return [`user.id:u_${id}`, `user.email:${id}@example.com`, "user.full_name:Ann Lee", "tenant.id:t_7", "tenant.name:Acme", `session.id:s_${id}`, "plan:pro", `cart.items:${id.length}`, "beta:true"];
}

// Express: the error handler records, then the app's own final handler answers (quietly: Express's
// default one prints every stack to stderr). /boom throws synchronously: Express 4 does not catch
// a rejected async handler.
function expressStarter(express: typeof express5): StartApp {
  return (apitoolkit) => {
    const app = express();
    if (apitoolkit) app.use(expressMiddleware(apitoolkit));
    app.use(express.json());
    app.get("/users/:id", (req, res) => void res.set("X-Api-Key", "server-secret").json(user(req.params.id!)));
    app.post("/echo", (req, res) => void res.status(201).json(echo(req.body)));
    app.get("/stream", (_req, res) => {
      res.type("text/plain");
      res.write(STREAM_PARTS[0]);
      res.write(Buffer.from(STREAM_PARTS[1]!));
      setTimeout(() => res.end(STREAM_PARTS[2]), 2);
    });
    app.get("/boom", () => {
      throw boom();
    });
    app.get("/report", async (_req, res) => {
      await pause(5);
      reportInHandler();
      res.send("ok");
    });
    app.post("/report", async (req, res) => {
      await pause(5);
      reportAfterParsing(req.body);
      res.json({ ok: true });
    });
    app.get("/slow", (_req, res) => void setTimeout(() => res.send("late"), 400));
    app.get("/whoami/:id", async (req, res) => {
      await identify(req.params.id!);
      res.json(user(req.params.id!));
    });
    if (apitoolkit) app.use(expressErrorHandler(apitoolkit));
    app.use((_err: unknown, _req: express5.Request, res: express5.Response, _next: express5.NextFunction) => {
      res.status(500).type("text/plain").send("Internal Server Error");
    });
    return listen(http.createServer(app));
  };
}

function fastifyStarter(fastify: typeof Fastify5): StartApp {
  return async (apitoolkit) => {
    const app = fastify();
    if (apitoolkit) app.register(fastifyPlugin(apitoolkit));
    app.get<{ Params: { id: string } }>("/users/:id", async (req, reply) => {
      reply.header("X-Api-Key", "server-secret");
      return user(req.params.id);
    });
    app.post("/echo", async (req, reply) => {
      reply.code(201);
      return echo(req.body);
    });
    app.get("/stream", (_req, reply) => void reply.type("text/plain").send(Readable.from(STREAM_PARTS)));
    app.get("/boom", async () => {
      await pause(1);
      throw boom();
    });
    app.get("/report", async () => {
      await pause(5);
      reportInHandler();
      return "ok";
    });
    app.post("/report", async (req) => {
      await pause(5);
      reportAfterParsing(req.body);
      return { ok: true };
    });
    app.get("/slow", async () => {
      await pause(400);
      return "late";
    });
    app.get<{ Params: { id: string } }>("/whoami/:id", async (req) => {
      await identify(req.params.id);
      return user(req.params.id);
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  };
}

/** A minimal JSON body parser reading ctx.req, the way koa-bodyparser does. */
function koaJson(): Koa3.Middleware {
  return async function parseJson(ctx, next) {
    if (ctx.is("application/json")) {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString("utf8");
      (ctx.request as { body?: unknown }).body = text ? JSON.parse(text) : undefined;
    }
    await next();
  };
}

function koaStarter(Koa: typeof Koa3): StartApp {
  return (apitoolkit) => {
    const app = new Koa();
    app.silent = true; // Koa would log the expected 500 to stderr
    if (apitoolkit) app.use(koaMiddleware(apitoolkit));
    app.use(koaJson());
    const bodyOf = (ctx: Koa3.Context) => (ctx.request as { body?: unknown }).body;
    const router = new Router();
    router.get("/users/:id", (ctx) => {
      ctx.set("X-Api-Key", "server-secret");
      ctx.body = user(ctx.params.id!);
    });
    router.post("/echo", (ctx) => {
      ctx.status = 201;
      ctx.body = echo(bodyOf(ctx));
    });
    router.get("/stream", (ctx) => {
      ctx.type = "text/plain";
      ctx.body = Readable.from(STREAM_PARTS);
    });
    router.get("/boom", async () => {
      await pause(1);
      throw boom();
    });
    router.get("/report", async (ctx) => {
      await pause(5);
      reportInHandler();
      ctx.body = "ok";
    });
    router.post("/report", async (ctx) => {
      await pause(5);
      reportAfterParsing(bodyOf(ctx));
      ctx.body = { ok: true };
    });
    router.get("/slow", async (ctx) => {
      await pause(400);
      ctx.body = "late";
    });
    router.get("/whoami/:id", async (ctx) => {
      await identify(ctx.params.id!);
      ctx.body = user(ctx.params.id!);
    });
    app.use(router.routes()).use(router.allowedMethods());
    return listen(http.createServer(app.callback()));
  };
}

const startHono: StartApp = async (apitoolkit) => {
  const app = new Hono();
  if (apitoolkit) app.use(honoMiddleware(apitoolkit));
  app.get("/users/:id", (c) => {
    c.header("X-Api-Key", "server-secret");
    return c.json(user(c.req.param("id")));
  });
  app.post("/echo", async (c) => c.json(echo(await c.req.json()), 201));
  app.get("/stream", (c) => {
    const parts = [...STREAM_PARTS];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    return c.body(body, 200, { "content-type": "text/plain" });
  });
  app.get("/boom", async () => {
    await pause(1);
    throw boom();
  });
  app.get("/report", async (c) => {
    await pause(5);
    reportInHandler();
    return c.text("ok");
  });
  app.post("/report", async (c) => {
    const body: unknown = await c.req.json();
    await pause(5);
    reportAfterParsing(body);
    return c.json({ ok: true });
  });
  app.get("/slow", async (c) => {
    await pause(400);
    return c.text("late");
  });
  app.get("/whoami/:id", async (c) => {
    await identify(c.req.param("id"));
    return c.json(user(c.req.param("id")));
  });
  app.onError((_err, c) => c.text("Internal Server Error", 500)); // Hono's default one logs too
  const server = await new Promise<http.Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as http.Server));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
};

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

// node:http: no router (the app matches paths itself) and no error hook: a listener that throws
// takes the process down, so the app catches, calls reportError, and answers 500 itself.
const startHttp: StartApp = (apitoolkit) => {
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    const id = /^\/users\/([^/]+)$/.exec(pathname)?.[1];
    const is = (method: string, path: string) => req.method === method && pathname === path;
    if (req.method === "GET" && id !== undefined) {
      res.setHeader("X-Api-Key", "server-secret");
      return sendJson(res, 200, user(decodeURIComponent(id)));
    }
    if (is("POST", "/echo")) return sendJson(res, 201, echo(await readJson(req)));
    if (is("GET", "/stream")) {
      res.setHeader("content-type", "text/plain");
      res.write(STREAM_PARTS[0]);
      res.write(Buffer.from(STREAM_PARTS[1]!));
      await pause(2);
      return void res.end(STREAM_PARTS[2]);
    }
    if (is("GET", "/boom")) {
      await pause(1);
      throw boom();
    }
    if (is("GET", "/report")) {
      await pause(5);
      reportInHandler();
      return void res.end("ok");
    }
    if (is("POST", "/report")) {
      const body = await readJson(req);
      await pause(5);
      reportAfterParsing(body);
      return sendJson(res, 200, { ok: true });
    }
    if (is("GET", "/slow")) {
      await pause(400);
      return void res.end("late");
    }
    const who = /^\/whoami\/([^/]+)$/.exec(pathname)?.[1];
    if (req.method === "GET" && who !== undefined) {
      await identify(decodeURIComponent(who));
      return sendJson(res, 200, user(decodeURIComponent(who)));
    }
    res.statusCode = 404;
    res.end("Not Found");
  }
  // Without the SDK the app would not call reportError (which, outside a captured request, counts
  // in errorsOutsideRequest of every client in the process).
  const report = apitoolkit ? reportError : () => undefined;
  const app = async function conformanceApp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await route(req, res);
    } catch (err) {
      report(err);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("Internal Server Error");
    }
  };
  return listen(http.createServer(apitoolkit ? wrapHandler(apitoolkit, app) : app));
};

// NestJS: decorators without constructor injection (tsx does not emit design:paramtypes).
@nest.Controller()
class ConformanceController {
  @nest.Get("users/:id")
  @nest.Header("X-Api-Key", "server-secret")
  getUser(@nest.Param("id") id: string) {
    return user(id);
  }

  @nest.Post("echo")
  postEcho(@nest.Body() body: unknown) {
    return echo(body); // POST answers 201 by default in Nest
  }

  @nest.Get("stream")
  getStream() {
    return new nest.StreamableFile(Readable.from(STREAM_PARTS), { type: "text/plain" });
  }

  @nest.Get("boom")
  async getBoom() {
    await pause(1);
    throw boom();
  }

  @nest.Get("report")
  async getReport() {
    await pause(5);
    reportInHandler();
    return "ok";
  }

  @nest.Post("report")
  @nest.HttpCode(200)
  async reportPost(@nest.Body() body: unknown) {
    await pause(5);
    reportAfterParsing(body);
    return { ok: true };
  }

  @nest.Get("slow")
  async getSlow() {
    await pause(400);
    return "late";
  }

  @nest.Get("whoami/:id")
  async getWhoami(@nest.Param("id") id: string) {
    await identify(id);
    return user(id);
  }
}

function nestStarter(platform: "express" | "fastify"): StartApp {
  return async (apitoolkit) => {
    class ConformanceModule {}
    nest.Module({ imports: apitoolkit ? [APIToolkitModule.forRoot(apitoolkit)] : [], controllers: [ConformanceController] })(ConformanceModule);
    const adapter = platform === "express" ? new ExpressAdapter() : new FastifyAdapter();
    const app = await NestFactory.create(ConformanceModule, adapter, { logger: false });
    await app.listen(0, "127.0.0.1");
    const { port } = (app.getHttpServer() as http.Server).address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  };
}

// AdonisJS 6: the example's real app (bodyparser as router middleware, the SDK first among the server
// middleware, errors recorded from the exception handler's report()), with this suite's routes.
function adonisRoutes(router: AdonisRouter): void {
  router.get("/users/:id", ({ params, response }) => {
    response.header("X-Api-Key", "server-secret");
    return user(String(params.id));
  });
  router.post("/echo", ({ request, response }) => {
    response.status(201);
    return echo(request.body());
  });
  router.get("/stream", ({ response }) => {
    response.header("content-type", "text/plain");
    response.stream(Readable.from(STREAM_PARTS));
  });
  router.get("/boom", async () => {
    await pause(1);
    throw boom();
  });
  router.get("/report", async () => {
    await pause(5);
    reportInHandler();
    return "ok";
  });
  router.post("/report", async ({ request }) => {
    await pause(5);
    reportAfterParsing(request.body());
    return { ok: true };
  });
  router.get("/slow", async () => {
    await pause(400);
    return "late";
  });
  router.get("/whoami/:id", async ({ params }) => {
    await identify(String(params.id));
    return user(String(params.id));
  });
}

const startAdonis: StartApp = async (apitoolkit) => {
  const app = await startAdonisApp(apitoolkit, { routes: adonisRoutes });
  return { url: app.url, close: app.close };
};

export const startExpress4 = expressStarter(express4);
export const startExpress5 = expressStarter(express5);
export const startFastify4 = fastifyStarter(Fastify4 as unknown as typeof Fastify5);
export const startFastify5 = fastifyStarter(Fastify5);
export const startKoa2 = koaStarter(Koa2);
export const startKoa3 = koaStarter(Koa3);
export { startHono, startHttp, startAdonis };
export const startNestExpress = nestStarter("express");
export const startNestFastify = nestStarter("fastify");

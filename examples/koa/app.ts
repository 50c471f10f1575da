// An example Koa service using apitoolkit-node with @koa/router. Used by the tests (Koa 2 and 3).
import http from "node:http";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import Koa from "koa3";
import Router from "@koa/router";
import { APIToolkit, reportError } from "../../src/index.js";
import { koaMiddleware } from "../../src/integrations/koa/index.js";

type KoaClass = typeof Koa;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A tiny JSON body parser, reading ctx.req the way @koa/bodyparser and koa-bodyparser do. Use a
 * real one in your app; order relative to koaMiddleware does not matter.
 */
function jsonBody(): Koa.Middleware {
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

interface Body {
  user?: { name?: string };
  payment?: { card?: { number?: string } };
  n?: number;
}
const bodyOf = (ctx: Koa.Context): Body => ((ctx.request as { body?: Body }).body ?? {});

/** Build the app; without a client it is the same app with no SDK (the tests compare both). */
export function createApp(apitoolkit: APIToolkit | undefined, KoaApp: KoaClass = Koa) {
  const app = new KoaApp();
  if (apitoolkit) app.use(koaMiddleware(apitoolkit));
  app.use(jsonBody());

  // Nested routers under a prefix: the route template is /api/shops/:shopId/orders/:orderId.
  const orders = new Router();
  orders.get("/orders/:orderId", (ctx) => {
    ctx.set("X-Api-Key", "server-secret");
    ctx.body = { shop: ctx.params.shopId, order: ctx.params.orderId };
  });
  const shops = new Router();
  shops.use("/shops/:shopId", orders.routes());
  const api = new Router({ prefix: "/api" });
  api.use(shops.routes());

  const root = new Router();
  root.post("/login", (ctx) => {
    const body = bodyOf(ctx);
    ctx.status = 201;
    ctx.body = { token: "tok-SECRET-123", user: body.user?.name, cardEcho: body.payment?.card?.number };
  });
  root.get("/search", (ctx) => {
    ctx.body = { q: ctx.query.q };
  });
  root.get("/stream", (ctx) => {
    ctx.type = "text/plain";
    ctx.body = Readable.from(["one ", "two ", "three"]);
  });
  root.get("/boom", async () => {
    await pause(1);
    throw new Error("payment provider unreachable", { cause: new TypeError("ECONNREFUSED 10.0.0.7:443") });
  });
  root.get("/teapot", (ctx) => {
    ctx.throw(418, "no coffee here");
  });
  root.get("/report", async (ctx) => {
    await pause(5);
    reportError(new RangeError("cache miss (reported, not thrown)"));
    ctx.body = "ok";
  });
  root.post("/report", async (ctx) => {
    await pause(5);
    reportError(new RangeError(`reported after parsing ${bodyOf(ctx).n}`));
    ctx.body = { ok: true };
  });
  root.get("/slow", async (ctx) => {
    await pause(400);
    ctx.body = "late";
  });

  app.use(api.routes()).use(api.allowedMethods());
  app.use(root.routes()).use(root.allowedMethods());
  return app;
}

/** The redaction rules the example uses. */
export const exampleOptions = {
  redactHeaders: ["X-Api-Key"],
  redactRequestBody: ["$.user.password", "$..cvv"],
  redactResponseBody: ["$.token"],
  serviceVersion: "1.4.0",
  tags: ["env:test"],
};

// Run directly: APITOOLKIT_KEY=... node --import tsx examples/koa/app.ts
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apitoolkit = new APIToolkit({ ...exampleOptions, apiKey: process.env.APITOOLKIT_KEY });
  const server = http.createServer(createApp(apitoolkit).callback()).listen(Number(process.env.PORT ?? 3000));
  process.once("SIGINT", () => server.close(() => void apitoolkit.close()));
}

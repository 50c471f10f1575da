// An example AdonisJS 6 service using apitoolkit-node. Used by the tests (test/adonis.test.ts and the
// conformance suite). In an Adonis app the pieces below live in the files named in each comment;
// here one module holds them, and `startAdonisApp` boots the real Adonis application and HTTP server
// the way `bin/server.ts` does, with adonisrc.ts and config/*.ts given as objects, so that one test
// process can run several apps side by side (Adonis's preload files run once per process).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { Application } from "@adonisjs/core/app";
import type { ContainerBindings } from "@adonisjs/core/types";
import { defineConfig as httpConfig, ExceptionHandler, type HttpContext, type Router, type Server } from "@adonisjs/core/http";
import { defineConfig as bodyparserConfig } from "@adonisjs/core/bodyparser";
import { APIToolkit, reportError } from "../../src/index.js";
import { adonisMiddleware, adonisErrorReporter } from "../../src/integrations/adonis/index.js";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** app/middleware/apitoolkit_middleware.ts: `export default adonisMiddleware(apitoolkit)`. */
const middlewareModule = (apitoolkit: APIToolkit) => {
  const mod = { default: adonisMiddleware(apitoolkit) };
  return async function apitoolkitMiddleware() {
    return mod;
  };
};

/** app/exceptions/handler.ts: the app's exception handler, with the one line that records errors. */
function exceptionHandler(apitoolkit: APIToolkit | undefined) {
  const recordError = apitoolkit ? adonisErrorReporter(apitoolkit) : undefined;
  return class HttpExceptionHandler extends ExceptionHandler {
    protected override debug = false; // no stack pages: the same short answer in every environment
    override async report(error: unknown, ctx: HttpContext) {
      recordError?.(error, ctx);
      return super.report(error, ctx);
    }
  };
}

/** start/routes.ts */
export function exampleRoutes(router: Router): void {
  router
    .group(() => {
      router.get("/shops/:shopId/orders/:orderId", ({ params, response }) => {
        response.header("X-Api-Key", "server-secret");
        return { shop: params.shopId, order: params.orderId };
      });
    })
    .prefix("/api");
  router.post("/login", ({ request, response }) => {
    const body = request.body() as { user?: { name?: string }; payment?: { card?: { number?: string } } };
    response.status(201);
    return { token: "tok-SECRET-123", user: body.user?.name, cardEcho: body.payment?.card?.number };
  });
  router.get("/search", ({ request }) => ({ q: request.qs().q }));
  router.get("/stream", ({ response }) => {
    response.header("content-type", "text/plain");
    response.stream(Readable.from(["one ", "two ", "three"]));
  });
  router.get("/boom", async () => {
    await pause(1);
    throw new Error("payment provider unreachable", { cause: new TypeError("ECONNREFUSED 10.0.0.7:443") });
  });
  router.get("/teapot", ({ response }) => {
    response.abort({ message: "no coffee here" }, 418);
  });
  router.get("/report", async () => {
    await pause(5);
    reportError(new RangeError("cache miss (reported, not thrown)"));
    return "ok";
  });
}

export interface AdonisAppOptions {
  /** start/routes.ts: routes to register (the router of this app). */
  routes?: (router: Router) => void;
  /** Register the bodyparser as server middleware ahead of the SDK instead of router middleware after it. */
  bodyparserFirst?: boolean;
  /** Register the SDK as router middleware (`router.use`) instead of server middleware. */
  sdkAsRouterMiddleware?: boolean;
}

export interface RunningAdonisApp {
  url: string;
  /** The Adonis application (what `@adonisjs/core/services/app` is in an app). */
  app: Application<ContainerBindings>;
  server: http.Server;
  /** Stops the app the way SIGTERM does (app.terminate(): its terminating hooks, then providers). */
  close(): Promise<void>;
}

/**
 * Boot a real AdonisJS 6 application (providers, config, container, router, bodyparser, exception
 * handler) and serve it with Adonis's HTTP server on 127.0.0.1, port 0. Without a client it is the
 * same app with no SDK (the tests compare both).
 */
export async function startAdonisApp(apitoolkit: APIToolkit | undefined, options: AdonisAppOptions = {}): Promise<RunningAdonisApp> {
  const appRoot = new URL("./", import.meta.url);
  const app = new Application<ContainerBindings>(appRoot, { environment: "web", importer: (path) => import(path) });
  // adonisrc.ts
  app.rcContents({ providers: [() => import("@adonisjs/core/providers/app_provider")] });
  // config/app.ts, config/logger.ts, config/bodyparser.ts
  app.useConfig({
    app: { appKey: "example-app-key-0123456789abcdef", http: httpConfig({}) },
    logger: { default: "app", loggers: { app: { enabled: false, name: "example", level: "info" } } },
    bodyparser: bodyparserConfig({}),
  });
  await app.init();
  await app.boot();
  let nodeServer: http.Server | undefined;
  await app.start(async () => {
    const server: Server = await app.container.make("server");
    const router: Router = await app.container.make("router");
    const bodyparser = () => import("@adonisjs/core/bodyparser_middleware");
    // start/kernel.ts: the SDK first among the server middleware; the bodyparser as router middleware.
    server.errorHandler(async () => ({ default: exceptionHandler(apitoolkit) }));
    if (options.bodyparserFirst) server.use([bodyparser]);
    if (apitoolkit && !options.sdkAsRouterMiddleware) server.use([middlewareModule(apitoolkit)]);
    if (apitoolkit && options.sdkAsRouterMiddleware) router.use([middlewareModule(apitoolkit)]);
    if (!options.bodyparserFirst) router.use([bodyparser]);
    (options.routes ?? exampleRoutes)(router);
    await server.boot();
    nodeServer = http.createServer(server.handle.bind(server));
    server.setNodeServer(nodeServer);
    await new Promise<void>((resolve, reject) => nodeServer!.once("error", reject).listen(0, "127.0.0.1", resolve));
    app.terminating(() => new Promise<void>((resolve) => {
      nodeServer!.closeAllConnections();
      nodeServer!.close(() => resolve());
    }));
  });
  const port = (nodeServer!.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, app, server: nodeServer!, close: () => app.terminate() };
}

/** The redaction rules the example uses. */
export const exampleOptions = {
  redactHeaders: ["X-Api-Key"],
  redactRequestBody: ["$.user.password", "$..cvv"],
  redactResponseBody: ["$.token"],
  serviceVersion: "1.4.0",
  tags: ["env:test"],
};

// Run directly: APITOOLKIT_KEY=... node --import tsx examples/adonis/app.ts
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apitoolkit = new APIToolkit({ ...exampleOptions, apiKey: process.env.APITOOLKIT_KEY });
  const running = await startAdonisApp(apitoolkit);
  running.app.terminating(() => apitoolkit.close(3000)); // start/apitoolkit.ts does this in an app
  console.log(`listening on ${running.url}`);
  process.once("SIGINT", () => void running.close());
}

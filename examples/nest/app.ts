// An example NestJS service using apitoolkit-node, on the Express or the Fastify platform.
// Used by the tests (with NestJS 11 from the top-level install and NestJS 10 from
// test/fixtures/nest10), so the Nest packages can be passed in; a real app imports them directly.
//
// Controllers here use decorators without constructor injection: esbuild (tsx) does not emit
// `design:paramtypes`, so an app run through tsx must not rely on it.
import "reflect-metadata";
import type { ServerResponse } from "node:http";
import * as common from "@nestjs/common";
import * as core from "@nestjs/core";
import * as platformExpress from "@nestjs/platform-express";
import * as platformFastify from "@nestjs/platform-fastify";
import type { DynamicModule, INestApplication } from "@nestjs/common";
import { APIToolkit, reportError } from "../../src/index.js";
import { APIToolkitModule, APIToolkitInterceptor, apitoolkitNestMiddleware } from "../../src/integrations/nest/index.js";

/** The Nest packages the app is built from (the top-level NestJS 11 unless given). */
export interface NestPackages {
  common: typeof common;
  core: typeof core;
  express: typeof platformExpress;
  fastify: typeof platformFastify;
}

export interface ExampleAppOptions {
  platform: "express" | "fastify";
  nest?: NestPackages;
  /** "module": APIToolkitModule (default); "manual": the middleware/hook plus the interceptor;
   *  "none": no APIToolkit at all (to compare responses). */
  wiring?: "module" | "manual" | "none";
  /** The module to import (default `APIToolkitModule.forRoot(apitoolkit)`). */
  apitoolkitModule?: DynamicModule;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function defineControllers(nest: typeof common) {
  const { Controller, Get, Post, Param, Query, Body, Header, UseGuards, HttpCode } = nest;

  class DenyGuard {
    canActivate(): boolean {
      return false; // Nest answers 403 "Forbidden resource"
    }
  }

  @Controller("shops")
  class ShopsController {
    @Get(":shopId/orders/:orderId")
    @Header("X-Api-Key", "server-secret")
    order(@Param("shopId") shopId: string, @Param("orderId") orderId: string) {
      return { shop: shopId, order: orderId };
    }
  }

  @Controller()
  class AppController {
    @Post("login")
    @HttpCode(201)
    login(@Body() body: { user?: { name?: string }; payment?: { card?: { number?: string } } }) {
      return { token: "tok-SECRET-123", user: body?.user?.name, cardEcho: body?.payment?.card?.number };
    }

    @Get("search")
    search(@Query() query: Record<string, unknown>) {
      return { q: query.q };
    }

    @Get("admin")
    @UseGuards(new DenyGuard())
    admin() {
      return { secret: "never sent" };
    }

    @Get("mine/:id")
    mine(@Param("id") id: string) {
      throw new nest.ForbiddenException(`order ${id} is not yours`);
    }

    @Get("boom")
    async boom() {
      await sleep(2);
      throw new Error("outer failure", { cause: new TypeError("inner cause") });
    }

    @Post("report")
    async report(@Body() body: { n?: number }) {
      await sleep(5);
      reportError(new RangeError(`reported in handler ${body?.n}`));
      return { ok: true };
    }
  }

  @Controller({ path: "users", version: "2" })
  class UsersV2Controller {
    @Get(":id")
    user(@Param("id") id: string) {
      return { id, name: "Ada", email: "ada@example.com" };
    }

    @Post(":id")
    @HttpCode(200)
    rename(@Param("id") id: string, @Body() body: { name?: string }) {
      return { id, name: body?.name };
    }
  }

  return [ShopsController, AppController, UsersV2Controller];
}

/**
 * Build (not yet listening) the example app: global prefix `api`, URI versioning, and APIToolkit.
 *
 * @example
 * const app = await createNestExampleApp(apitoolkit, { platform: "fastify" });
 * await app.listen(3000);
 */
export async function createNestExampleApp(apitoolkit: APIToolkit, opts: ExampleAppOptions): Promise<INestApplication> {
  const nest = opts.nest ?? { common, core, express: platformExpress, fastify: platformFastify };
  const wiring = opts.wiring ?? "module";
  const imports = wiring === "module" ? [opts.apitoolkitModule ?? APIToolkitModule.forRoot(apitoolkit)] : [];

  const controllers = defineControllers(nest.common);
  class AppModule {
    // A Nest middleware on one controller's routes (runs after the capture, before the guards).
    configure(consumer: common.MiddlewareConsumer) {
      consumer
        .apply(function servedBy(req: { headers: Record<string, unknown> }, res: ServerResponse, next: () => void) {
          res.setHeader("x-served-by", "nest-middleware");
          if (req.headers["x-block"] !== undefined) {
            res.writeHead(429, { "content-type": "text/plain" }).end("slow down");
            return;
          }
          next();
        })
        .forRoutes(controllers[0]!);
    }
  }
  nest.common.Module({ imports, controllers })(AppModule);

  const adapter = opts.platform === "express" ? new nest.express.ExpressAdapter() : new nest.fastify.FastifyAdapter();
  const app = await nest.core.NestFactory.create(AppModule, adapter, { logger: false });
  if (wiring === "manual") {
    // Before app.listen()/init(): ahead of Nest's body parsers and routes.
    const capture = apitoolkitNestMiddleware(apitoolkit);
    if (opts.platform === "express") app.use(capture);
    else (app.getHttpAdapter().getInstance() as { addHook(name: string, fn: unknown): void }).addHook("onRequest", capture);
    app.useGlobalInterceptors(new APIToolkitInterceptor(apitoolkit));
  }
  app.setGlobalPrefix("api");
  app.enableVersioning({ type: nest.common.VersioningType.URI });
  return app;
}

/** The redaction rules the example uses. */
export const nestExampleOptions = {
  redactHeaders: ["X-Api-Key"],
  redactRequestBody: ["$.user.password", "$..cvv"],
  redactResponseBody: ["$.token"],
  serviceVersion: "1.4.0",
  tags: ["env:test"],
};

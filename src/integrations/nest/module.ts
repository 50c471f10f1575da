/**
 * The Nest module. `APIToolkitModule` is public (re-exported by index.ts); `defineNestModule` is
 * not: it lets the tests build the module against another copy of `@nestjs/core`.
 */
import type { DynamicModule } from "@nestjs/common";
import { HttpAdapterHost } from "@nestjs/core";
import { installOnAdapter, type HttpAdapterLike } from "./capture.js";
import { APIToolkitInterceptor } from "./interceptor.js";
import { NEST_INSTALLED as INSTALLED } from "../../registry/symbols.js";
import type { APIToolkit } from "../../client.js";

/** Nest's token for global interceptors (the string `@nestjs/core` exports as APP_INTERCEPTOR). */
const APP_INTERCEPTOR = "APP_INTERCEPTOR";

/**
 * What `APIToolkitModule.forRoot()` returns, given the HttpAdapterHost class of the Nest that runs
 * the app: for a process holding two copies of `@nestjs/core` (the tests run NestJS 10 from a
 * fixture while the top-level install is 11). Not part of the package's API.
 *
 * @example
 * const nest10 = createRequire(fixtureDir)("@nestjs/core");
 * imports: [defineNestModule(APIToolkitModule, nest10.HttpAdapterHost, apitoolkit)]
 */
export function defineNestModule(module: new () => object, adapterHostToken: unknown, client: APIToolkit): DynamicModule {
  const interceptor = new APIToolkitInterceptor(client); // fails fast on a wrong argument, at start-up
  return {
    module: module as DynamicModule["module"],
    global: true,
    providers: [
      {
        // Runs while NestFactory.create() builds the app: before body parsers, middleware and routes
        // are registered, so the capture sits first on the platform and sees every route registered.
        provide: INSTALLED,
        useFactory: (host: { httpAdapter?: HttpAdapterLike } | undefined) => installOnAdapter(client, host?.httpAdapter),
        inject: [adapterHostToken as DynamicModule["module"]],
      },
      { provide: APP_INTERCEPTOR, useValue: interceptor },
    ],
  };
}

/**
 * Nest module that captures every HTTP exchange of the app (Express or Fastify platform): route
 * templates with the global prefix and version, 404s, requests rejected by body parsers, guards and
 * pipes, errors thrown by controllers, and `reportError()` calls made while handling a request.
 *
 * @example
 * const apitoolkit = new APIToolkit({ apiKey: process.env.APITOOLKIT_KEY });
 *
 * @Module({ imports: [APIToolkitModule.forRoot(apitoolkit)], controllers: [CatsController] })
 * export class AppModule {}
 *
 * // on shutdown: await apitoolkit.close();
 */
export class APIToolkitModule {
  static forRoot(client: APIToolkit): DynamicModule {
    return defineNestModule(APIToolkitModule, HttpAdapterHost, client);
  }
}

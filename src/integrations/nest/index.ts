/**
 * NestJS 10 and 11, on the Express and Fastify platforms (`sdk_type` "JsNest").
 *
 * The one-line setup is `APIToolkitModule.forRoot(apitoolkit)`; `apitoolkitNestMiddleware` and
 * `APIToolkitInterceptor` are the same two pieces for apps that wire things by hand.
 */
export { APIToolkitModule } from "./module.js";
export { apitoolkitNestMiddleware, type NestCaptureHandler, type NestExpressRequestLike, type NestNext, type FastifyRequestLike, type FastifyReplyLike, type HttpAdapterLike } from "./capture.js";
export { APIToolkitInterceptor, type ExecutionContextLike } from "./interceptor.js";

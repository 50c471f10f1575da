// Type the version-aliased Koa packages (installed as koa2/koa3) with @types/koa. The fastify4 and
// fastify5 aliases ship their own declarations and need nothing here.
declare module "koa2" {
  export { default } from "koa";
}
declare module "koa3" {
  export { default } from "koa";
}

// Type the version-aliased framework packages (installed as express4/express5, ...) with their usual types.
declare module "express4" {
  export { default } from "express";
}
declare module "express5" {
  export { default } from "express";
}

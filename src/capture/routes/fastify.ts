/** The route of a Fastify request (4 and 5), for the Fastify integration and Nest on Fastify. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { stringParams, type RouteRead } from "./params.js";

/** Structural Fastify request (v4 and v5): only what the SDK reads. */
export interface FastifyRequestLike {
  raw: IncomingMessage;
  url?: string;
  params?: unknown;
  body?: unknown;
  is404?: boolean;
  routeOptions?: { url?: string };
  /** Before v4.10 (deprecated after). */
  routerPath?: string;
}

/** Structural Fastify reply. */
export interface FastifyReplyLike {
  raw: ServerResponse;
}

/** The route Fastify's router matched: `routeOptions.url` (>= 4.10) or `routerPath`; "" for a 404. */
export function fastifyRoute(request: FastifyRequestLike): RouteRead {
  if (request.is404) return "";
  const url = request.routeOptions ? request.routeOptions.url : request.routerPath;
  if (typeof url !== "string" || !url) return "";
  return { template: url, params: stringParams(request.params) };
}

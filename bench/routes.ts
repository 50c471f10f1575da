// The routes every framework serves (bench/frameworks.ts), how the load generator calls them, and
// the targets for each: server CPU per request SDK/bare in pinned mode, per framework
// column; requests/s SDK/bare in free mode; whether every message must be delivered.
import { BODIES } from "./app.js";
import type { TargetColumn } from "./frameworks.js";

export interface Route {
  key: string;
  label: string;
  path: string;
  method: "GET" | "POST";
  body?: string;
  /** Max SDK/bare server CPU per request, pinned mode, by framework column. */
  cpuTarget: Record<TargetColumn, number>;
  /** Min SDK/bare requests/s in free mode (undefined: no target; the route is not run free by default). */
  freeTarget?: number;
  /** Every message must arrive (no drop at all); otherwise drops must be counted and only beyond the queue budget. */
  deliverAll: boolean;
  /** The handler makes one outgoing fetch (a second message per request when the variant captures it). */
  outgoing?: boolean;
}

const all = (n: number): Record<TargetColumn, number> => ({ express: n, fastify: n, koa: n, hono: n });

export const ROUTES: Route[] = [
  { key: "health", label: "GET /health (tiny)", path: "/health", method: "GET", cpuTarget: { express: 1.25, fastify: 1.35, koa: 1.3, hono: 1.3 }, freeTarget: 0.95, deliverAll: true },
  { key: "echo", label: "POST /echo (1 KB JSON echoed)", path: "/echo", method: "POST", body: BODIES.post1k, cpuTarget: { express: 1.3, fastify: 1.4, koa: 1.35, hono: 1.35 }, freeTarget: 0.9, deliverAll: true },
  { key: "items", label: "GET /items (20 KB JSON array)", path: "/items", method: "GET", cpuTarget: { express: 1.6, fastify: 1.7, koa: 1.65, hono: 1.65 }, freeTarget: 0.85, deliverAll: false },
  { key: "stream", label: "GET /stream (1 MB streamed)", path: "/stream", method: "GET", cpuTarget: all(1.1), deliverAll: false },
  { key: "outgoing", label: "GET /outgoing (one fetch to a local upstream)", path: "/outgoing", method: "GET", cpuTarget: all(1.2), deliverAll: false, outgoing: true },
];

/** Headers of every load-generator request: the redacted key header, plus the JSON type for bodies. */
export function headersOf(route: Route): Record<string, string> {
  return route.body ? { "content-type": "application/json", "x-api-key": "client-secret" } : { "x-api-key": "client-secret" };
}

/** Peak RSS target: the SDK child may use at most this much more than the bare child (default options). */
export const RSS_BUDGET_BYTES = 40 * 1024 * 1024;

// An example Hono service using apitoolkit-node, served on Node by @hono/node-server. Used by the tests.
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { APIToolkit, reportError } from "../../src/index.js";
import { honoMiddleware } from "../../src/integrations/hono/index.js";

export interface HonoExampleHooks {
  /** The SSE route sends its first event, awaits this, then sends the second. */
  sseGate?: () => Promise<void>;
  /** Called right before the SSE route produces its second event. */
  onSecondEvent?: () => void;
}

/** The example app; without a client it is the same app, uninstrumented (to compare responses). */
export function createHonoApp(apitoolkit: APIToolkit | undefined, hooks: HonoExampleHooks = {}) {
  const app = new Hono();
  if (apitoolkit) app.use(honoMiddleware(apitoolkit));

  // Routes mounted under a base path and a nested sub-app: templates come out whole.
  const orders = new Hono();
  orders.get("/:shopId/orders/:orderId{[0-9]+}", (c) => {
    c.header("X-Api-Key", "server-secret");
    return c.json({ shop: c.req.param("shopId"), order: c.req.param("orderId") });
  });
  const api = new Hono().basePath("/api");
  api.route("/shops", orders);

  api.post("/login", async (c) => {
    const body = await c.req.json<{ user?: { name?: string } }>();
    c.header("Set-Cookie", "sid=SECRET-SID; HttpOnly", { append: true });
    c.header("Set-Cookie", "theme=dark", { append: true });
    return c.json({ token: "tok-SECRET-123", user: body.user?.name }, 201);
  });
  api.get("/search", (c) => c.json({ q: c.req.queries("q") ?? [] }));
  api.post("/ignore-body", (c) => c.text("not read", 202));
  api.get("/stream", (c) => {
    const parts = ["alpha,", "beta,", "gamma"];
    return c.body(new ReadableStream({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    }), 200, { "content-type": "text/plain" });
  });
  api.get("/big", (c) => c.text("x".repeat(200_000)));
  api.get("/sse", (c) =>
    streamSSE(c, async (stream) => {
      await stream.writeSSE({ event: "tick", data: "one" });
      await (hooks.sseGate?.() ?? Promise.resolve());
      hooks.onSecondEvent?.();
      await stream.writeSSE({ event: "tick", data: "two" });
    }),
  );
  api.get("/boom", async () => {
    await new Promise((r) => setTimeout(r, 2));
    throw new Error("outer failure", { cause: new TypeError("inner cause") });
  });
  api.get("/report", async (c) => {
    await new Promise((r) => setTimeout(r, 5));
    reportError(new RangeError("reported in handler"));
    return c.text("ok");
  });
  api.get("/slow", async (c) => {
    await new Promise((r) => setTimeout(r, 400));
    return c.text("late");
  });
  app.route("/", api);
  // Hono's default onError logs the error too; the answer (and c.error, which the SDK reads) is the same.
  app.onError((_err, c) => c.text("Internal Server Error", 500));
  return app;
}

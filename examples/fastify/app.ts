// An example Fastify service using apitoolkit-node. Used by the tests (with Fastify 4 and 5).
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import Fastify from "fastify5";
import { APIToolkit, reportError } from "../../src/index.js";
import { fastifyPlugin } from "../../src/integrations/fastify/index.js";

type FastifyFactory = typeof Fastify;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Build the app; without a client it is the same app with no SDK (the tests compare both). */
export function createApp(apitoolkit: APIToolkit | undefined, fastify: FastifyFactory = Fastify) {
  const app = fastify();
  if (apitoolkit) app.register(fastifyPlugin(apitoolkit));

  // Nested prefixes: the route template is /api/shops/:shopId/orders/:orderId.
  app.register(
    async (api) => {
      api.register(
        async (shops) => {
          shops.get<{ Params: { shopId: string; orderId: string } }>("/:shopId/orders/:orderId", async (req, reply) => {
            reply.header("x-api-key", "server-secret");
            return { shop: req.params.shopId, order: req.params.orderId };
          });
        },
        { prefix: "/shops" },
      );
    },
    { prefix: "/api" },
  );

  app.post<{ Body: { user?: { name?: string }; payment?: { card?: { number?: string } } } }>("/login", async (req, reply) => {
    reply.code(201);
    return { token: "tok-SECRET-123", user: req.body?.user?.name, cardEcho: req.body?.payment?.card?.number };
  });

  app.get<{ Querystring: { q?: string | string[] } }>("/search", async (req) => ({ q: req.query.q }));

  app.get("/stream", (_req, reply) => {
    reply.type("text/plain").send(Readable.from(["one ", "two ", "three"]));
  });

  app.get("/boom", async () => {
    await pause(1);
    throw new Error("payment provider unreachable", { cause: new TypeError("ECONNREFUSED 10.0.0.7:443") });
  });

  app.get("/teapot", async () => {
    throw Object.assign(new Error("no coffee here"), { statusCode: 418 });
  });

  // An encapsulated error handler: the message carries the error and the 503 the client got.
  app.register(
    async (v2) => {
      v2.setErrorHandler(async (_err, _req, reply) => reply.code(503).send({ error: "try again later" }));
      v2.get("/pay", async () => {
        throw new Error("charge failed", { cause: new Error("card processor timeout") });
      });
    },
    { prefix: "/v2" },
  );

  app.get("/report", async () => {
    await pause(5);
    reportError(new RangeError("cache miss (reported, not thrown)"));
    return "ok";
  });

  app.post<{ Body: { n?: number } }>("/report", async (req) => {
    await pause(5);
    reportError(new RangeError(`reported after parsing ${req.body?.n}`));
    return { ok: true };
  });

  app.get("/slow", async () => {
    await pause(400);
    return "late";
  });

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

// Run directly: APITOOLKIT_KEY=... node --import tsx examples/fastify/app.ts
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apitoolkit = new APIToolkit({ ...exampleOptions, apiKey: process.env.APITOOLKIT_KEY });
  const app = createApp(apitoolkit);
  await app.listen({ port: Number(process.env.PORT ?? 3000) });
  process.once("SIGINT", () => void app.close()); // onClose flushes the SDK
}

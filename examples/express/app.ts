// An example Express service using apitoolkit-node. Used by `npm run demo` and by the tests.
import express from "express5";
import { APIToolkit, reportError } from "../../src/index.js";
import { expressMiddleware, expressErrorHandler } from "../../src/integrations/express/index.js";

export function createExampleApp(apitoolkit: APIToolkit) {
  const app = express();
  app.use(expressMiddleware(apitoolkit)); // first, so requests a body parser rejects are captured too
  app.use(express.json());

  const users = express.Router();
  users.get("/:id", (req, res) => {
    res.json({ id: req.params.id, name: "Ada", email: "ada@example.com" });
  });
  app.use("/users", users);

  app.post("/login", (req, res) => {
    const { username } = req.body ?? {};
    res.status(201).json({ user: username, token: "eyJhbGciOi.SECRET-SESSION-TOKEN" });
  });

  app.post("/payments", (req, res) => {
    res.status(202).json({ status: "accepted", last4: String(req.body?.card?.number ?? "").slice(-4) });
  });

  app.get("/fail", async () => {
    await new Promise((r) => setTimeout(r, 2));
    throw new Error("payment provider unreachable", { cause: new Error("ECONNREFUSED 10.0.0.7:443") });
  });

  app.get("/warn", (_req, res) => {
    reportError(new Error("cache miss for user 42 (reported, not thrown)"));
    res.send("ok");
  });

  app.use(expressErrorHandler(apitoolkit)); // records the error, then next(err)
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: "internal error" });
  });
  return app;
}

/** The redaction rules the example uses. */
export const exampleOptions = {
  redactHeaders: ["X-Api-Key"],
  redactRequestBody: ["$.password", "$.card.number", "$..cvv"],
  redactResponseBody: ["$.token"],
  serviceVersion: "1.0.0",
  tags: ["env:demo"],
};

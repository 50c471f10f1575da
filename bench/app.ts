// The benchmark application: one Express 5 app, served bare or with the SDK mounted. Shared by the
// bench server child (bench/server.ts) and the soak run.
import { Readable } from "node:stream";
import express from "express5";

/** SDK redaction used by every SDK variant: the brief's header and body paths, plus the three-path route's. */
export const REDACTION = {
  redactHeaders: ["x-api-key"],
  redactRequestBody: ["$.password", "$[*].secret", "$..token", "$.items[?@.kind=='secret'].value"],
  redactResponseBody: ["$.password", "$[*].secret"],
};

/** A JSON object of about `bytes` bytes with a password field (1 KB POST body). */
export function jsonObject(bytes: number): Record<string, unknown> {
  const o: Record<string, unknown> = { user: "ann", password: "hunter2", email: "ann@example.com", notes: [] as string[] };
  let i = 0;
  while (JSON.stringify(o).length < bytes) (o.notes as string[]).push(`note number ${i++} with some text`);
  return o;
}

/** A JSON array of about `bytes` bytes; each item has a `secret` ($[*].secret). */
export function jsonArray(bytes: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const item = { id: i, name: `item ${i}`, price: i * 1.25, secret: `s-${i}-${"x".repeat(8)}`, tags: ["a", "b"] };
    size += JSON.stringify(item).length + 1;
    out.push(item);
  }
  return out;
}

/** The three-path POST body: nested tokens ($..token) and typed items ($.items[?@.kind=='secret']). */
export function nestedBody(): Record<string, unknown> {
  return {
    password: "p4ss",
    session: { token: "t-1", user: { id: 7, prefs: { token: "t-2", theme: "dark" } } },
    items: Array.from({ length: 12 }, (_, i) => ({ kind: i % 3 === 0 ? "secret" : "plain", value: `v${i}`, meta: { token: `t-item-${i}` } })),
  };
}

export const BODIES = {
  post1k: JSON.stringify(jsonObject(1024)),
  array20k: JSON.stringify(jsonArray(20 * 1024)),
  nested: JSON.stringify(nestedBody()),
};

const MB_CHUNK = Buffer.alloc(64 * 1024, "streamed-bytes;");

/** Build the app. With `sdkMiddleware`, it is mounted first (before the body parser). */
export function buildApp(sdkMiddleware?: express.RequestHandler): express.Express {
  const app = express();
  app.set("etag", false);
  app.set("x-powered-by", false);
  if (sdkMiddleware) app.use(sdkMiddleware);
  app.use(express.json({ limit: "2mb" }));
  const array20k = Buffer.from(BODIES.array20k);
  app.get("/health", (_req, res) => {
    res.json({ ok: true });
  });
  app.post("/echo", (req, res) => {
    res.json(req.body);
  });
  app.get("/items", (_req, res) => {
    res.type("application/json").send(array20k);
  });
  app.post("/nested", (req, res) => {
    const body = req.body as { items?: unknown[] };
    res.status(201).json({ ok: true, items: body.items?.length ?? 0 });
  });
  app.get("/stream", (_req, res) => {
    res.type("text/plain");
    let left = 16; // 16 x 64 KiB = 1 MiB
    Readable.from((function* chunks() {
      while (left-- > 0) yield MB_CHUNK;
    })()).pipe(res);
  });
  return app;
}

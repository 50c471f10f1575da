// An example plain node:http service using apitoolkit-node. Used by the tests (over http and https).
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { pathToFileURL } from "node:url";
import { APIToolkit, reportError } from "../../src/index.js";
import { wrapHandler } from "../../src/integrations/http/index.js";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const user = /^\/users\/([^/]+)$/.exec(url.pathname);
  if (req.method === "GET" && user) {
    res.setHeader("X-Api-Key", "server-secret");
    return sendJson(res, 200, { id: decodeURIComponent(user[1]!), name: "Ada" });
  }
  if (req.method === "POST" && url.pathname === "/login") {
    const body = (await readJson(req)) as { user?: { name?: string }; payment?: { card?: { number?: string } } };
    return sendJson(res, 201, { token: "tok-SECRET-123", user: body.user?.name, cardEcho: body.payment?.card?.number });
  }
  if (url.pathname === "/search") return sendJson(res, 200, { q: url.searchParams.getAll("q") });
  if (url.pathname === "/stream") {
    res.setHeader("content-type", "text/plain");
    res.write("one ");
    res.write(Buffer.from("two "));
    await pause(2);
    return void res.end("three");
  }
  if (url.pathname === "/boom") {
    await pause(1);
    throw new Error("payment provider unreachable", { cause: new TypeError("ECONNREFUSED 10.0.0.7:443") });
  }
  if (url.pathname === "/report") {
    if (req.method === "POST") await readJson(req);
    await pause(5);
    reportError(new RangeError("cache miss (reported, not thrown)"));
    return void res.end("ok");
  }
  if (url.pathname === "/slow") {
    await pause(400);
    return void res.end("late");
  }
  res.statusCode = 404;
  res.end("Not Found");
}

/**
 * The request listener; without a client it is the same app with no SDK (the tests compare both).
 * It handles its own errors the way plain node apps do: report, then answer 500.
 */
export function createHandler(apitoolkit: APIToolkit | undefined): http.RequestListener {
  const app = async function exampleApp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await route(req, res);
    } catch (err) {
      reportError(err); // attaches it to this request's message (a no-op without the SDK)
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("Internal Server Error");
    }
  };
  const handler = apitoolkit ? wrapHandler(apitoolkit, app) : app;
  // app never rejects (it answers 500 itself), so node has nothing to do with the promise.
  return function exampleHandler(req, res) {
    void handler(req, res);
  };
}

/** The redaction rules the example uses. */
export const exampleOptions = {
  redactHeaders: ["X-Api-Key"],
  redactRequestBody: ["$.user.password", "$..cvv"],
  redactResponseBody: ["$.token"],
  serviceVersion: "1.4.0",
  tags: ["env:test"],
};

// Run directly: APITOOLKIT_KEY=... node --import tsx examples/http/app.ts
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apitoolkit = new APIToolkit({ ...exampleOptions, apiKey: process.env.APITOOLKIT_KEY });
  const server = http.createServer(createHandler(apitoolkit)).listen(Number(process.env.PORT ?? 3000));
  process.once("SIGINT", () => server.close(() => void apitoolkit.close()));
}

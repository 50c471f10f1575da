// Outgoing-call capture: an Express service whose handler calls two upstreams, one with fetch and
// one with axios. Each incoming request yields three messages: the incoming one (JsExpress) and one
// per outgoing call (JsOutgoing, JsAxiosOutgoing) whose parent_id is the incoming msg_id.
//
// Run: node --import tsx examples/outgoing/app.ts   (prints the messages instead of publishing; the
// fourth one is main()'s own fetch to the service: a call made outside any request, so no parent_id)
import http from "node:http";
import axios from "axios";
import express from "express5";
import { APIToolkit, type APIToolkitOptions } from "../../src/index.js";
import { expressMiddleware } from "../../src/integrations/express/index.js";
import { observeAxios } from "../../src/integrations/axios/index.js";

/** Options showing the outgoing rules; `upstream` is the partner API's host (host:port). */
export function outgoingOptions(upstream: string): APIToolkitOptions {
  return {
    redactRequestBody: ["$.password"],
    outgoing: {
      redactHeaders: ["x-partner-key"],
      redactRequestBody: ["$.card.number"],
      redactResponseBody: ["$.customer.email"],
      urlTemplates: ["/v1/customers/:id", { host: upstream, template: "/v2/charges/:chargeId" }],
      ignorePaths: ["/health"],
    },
  };
}

export function createOutgoingApp(apitoolkit: APIToolkit, upstreamUrl: string) {
  const partner = observeAxios(apitoolkit, axios.create({ baseURL: upstreamUrl, headers: { "x-partner-key": "pk_live_123" } }));
  const app = express();
  app.use(expressMiddleware(apitoolkit));
  app.post("/checkout/:id", express.json(), async (req, res) => {
    const customer = await fetch(`${upstreamUrl}/v1/customers/${req.params.id}`).then((r) => r.json());
    const charge = await partner.post(`/v2/charges/ch_${req.params.id}`, { amount: 1000, card: { number: "4242424242424242" } });
    res.status(201).json({ customer, charge: charge.data });
  });
  return app;
}

/** A stand-in for the partner API. */
export function createUpstream() {
  return http.createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ path: req.url, customer: { id: 7, email: "ada@example.com" } }));
  });
}

async function main(): Promise<void> {
  const upstream = createUpstream().listen(0, "127.0.0.1");
  await new Promise((r) => upstream.once("listening", r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const apitoolkit = new APIToolkit({
    ...outgoingOptions(new URL(upstreamUrl).host),
    publishIntervalMs: 50,
    // Print instead of publishing (no account needed).
    transport: () => ({
      send: async (messages) => messages.forEach((m) => console.log(m.toString("utf8"))),
      close: async () => undefined,
    }),
  });
  const server = createOutgoingApp(apitoolkit, upstreamUrl).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const { port } = server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/checkout/7`, { method: "POST" });
  console.error(`POST /checkout/7 -> ${res.status}`);
  await apitoolkit.close(2000);
  server.close();
  upstream.close();
}

if (import.meta.url === `file://${process.argv[1]}`) void main();

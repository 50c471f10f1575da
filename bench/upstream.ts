// The upstream of GET /outgoing: a tiny node:http server on loopback answering a small JSON object
// (keep-alive), started by bench/run.ts on core 0 in pinned mode. Answers { url } when listening.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { answer } from "./lib.js";

const BODY = JSON.stringify({ ok: true, source: "upstream", token: "upstream-token" });
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
  res.end(BODY);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.send?.({ id: 0, result: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/upstream` } });
});
answer((op) => {
  if (op !== "close") return undefined;
  server.closeAllConnections();
  server.close();
  setImmediate(() => process.disconnect?.());
  return { closed: true };
});

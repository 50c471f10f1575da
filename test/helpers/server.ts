// Listen on loopback port 0 and give back the base URL.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Listening { url: string; server: Server; close(): Promise<void> }

export async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

export function b64json(s: string): unknown {
  const text = Buffer.from(s, "base64").toString("utf8");
  return text ? JSON.parse(text) : undefined;
}

export function b64text(s: string): string {
  return Buffer.from(s, "base64").toString("utf8");
}

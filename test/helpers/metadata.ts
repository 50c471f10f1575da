// A stand-in for APIToolkit's GET /api/client_metadata, on loopback port 0.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { TEST_PROJECT } from "./pubsub.js";

export const PROJECT_ID = "00000000-0000-4000-8000-000000000001";
export const GOOD_KEY = "test-key-1234";

export interface MetadataServer {
  url: string;
  /** Requests received so far, with their Authorization header. */
  calls: Array<{ authorization: string | undefined }>;
  /** Change the behaviour: answer with this status (200 means the metadata body). */
  setStatus(status: number): void;
  /** Answer a 200 with this raw body instead of the metadata (undefined: the metadata again). */
  setBody(body: string | undefined): void;
  /** With `hold`: answer the calls held so far and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

export async function startMetadataServer(topicId: string, opts: { status?: number; delayMs?: number; body?: string; hold?: boolean } = {}): Promise<MetadataServer> {
  let status = opts.status ?? 200;
  let body = opts.body;
  const calls: MetadataServer["calls"] = [];
  // hold: no answer until release(), so "before bootstrap finished" does not depend on how fast the app booted.
  let held: Array<() => void> | undefined = opts.hold ? [] : undefined;
  const server = http.createServer((req, res) => {
    calls.push({ authorization: req.headers.authorization });
    const answer = () => {
      if (req.url !== "/api/client_metadata") return res.writeHead(404).end();
      if (req.headers.authorization !== `Bearer ${GOOD_KEY}`) return res.writeHead(401).end("unauthorized");
      if (status !== 200) return res.writeHead(status).end("error");
      res.setHeader("content-type", "application/json");
      if (body !== undefined) return res.end(body);
      res.end(JSON.stringify({
        project_id: PROJECT_ID,
        pubsub_project_id: TEST_PROJECT,
        topic_id: topicId,
        pubsub_push_service_account: { type: "service_account", client_email: "sdk@example.iam.gserviceaccount.com", private_key: "unused-on-the-emulator" },
      }));
    };
    if (held) held.push(answer);
    else if (opts.delayMs) setTimeout(answer, opts.delayMs);
    else answer();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    setStatus: (s) => (status = s),
    setBody: (b) => (body = b),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const answer of waiting) answer();
    },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

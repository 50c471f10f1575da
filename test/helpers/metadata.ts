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
  close(): Promise<void>;
}

export async function startMetadataServer(topicId: string, opts: { status?: number; delayMs?: number; body?: string } = {}): Promise<MetadataServer> {
  let status = opts.status ?? 200;
  let body = opts.body;
  const calls: MetadataServer["calls"] = [];
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
    if (opts.delayMs) setTimeout(answer, opts.delayMs);
    else answer();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    setStatus: (s) => (status = s),
    setBody: (b) => (body = b),
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

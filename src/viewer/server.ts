/**
 * The viewer's HTTP side: node:http, one page (HTML, CSS, JS), one Server-Sent Events stream of
 * the published messages and of stats() once a second, and one JSON endpoint for the redaction
 * report of a message. It never keeps the process alive (server, sockets and timer are unref'd),
 * and on loopback it answers only requests addressed to a loopback name (no DNS rebinding).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { Stats } from "../delivery/stats.js";
import type { WireMessage } from "../wire/types.js";
import { History, type HeldMessage } from "./history.js";
import { redactionReport, type ViewerRules } from "./report.js";
import { PAGE_HTML } from "./page-html.js";
import { PAGE_CSS } from "./page-css.js";
import { PAGE_JS } from "./page-js.js";

/** One point of the stats chart. */
export interface StatsSample {
  /** Milliseconds since the epoch. */
  t: number;
  stats: Stats;
  viewer: { held: number; heldBytes: number; evicted: number; clients: number };
}

export interface ServerOptions {
  port: number;
  host: string;
  maxHistoryBytes: number;
  rules: ViewerRules;
  /** Rule names shown on the page (header names and body paths as configured). */
  ruleNames: { headers: string[]; request: string[]; response: string[] };
  stats(): Stats;
}

export interface RunningServer {
  readonly url: string;
  readonly loopback: boolean;
  /** Hold one published message and send it to every open page. Never throws. */
  publish(message: Buffer): void;
  close(): Promise<void>;
}

const STATS_INTERVAL_MS = 1000;
/** Samples kept for a page that opens later: five minutes. */
const MAX_SAMPLES = 300;
/** A page that lets this much pile up unread is cut off; its EventSource reconnects and replays. */
const MAX_CLIENT_BACKLOG_BYTES = 4 * 1024 * 1024;

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

const ASSETS: Record<string, { type: string; body: Buffer }> = {
  "/": { type: "text/html; charset=utf-8", body: Buffer.from(PAGE_HTML) },
  "/viewer.css": { type: "text/css; charset=utf-8", body: Buffer.from(PAGE_CSS) },
  "/viewer.js": { type: "text/javascript; charset=utf-8", body: Buffer.from(PAGE_JS) },
};

/** True for a name or address that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/** Listen; rejects when the port cannot be had. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const history = new History(o.maxHistoryBytes);
  const clients = new Set<ServerResponse>();
  const samples: StatsSample[] = [];
  const instance = randomUUID();
  const loopback = isLoopback(o.host);
  let port = 0;

  const sample = (): StatsSample => ({
    t: Date.now(),
    stats: o.stats(),
    viewer: { held: history.size, heldBytes: history.bytes, evicted: history.evicted, clients: clients.size },
  });

  const send = (res: ServerResponse, chunk: string): void => {
    if (res.destroyed) return void clients.delete(res);
    res.write(chunk);
    if (res.writableLength > MAX_CLIENT_BACKLOG_BYTES) {
      clients.delete(res);
      res.destroy();
    }
  };
  const broadcast = (chunk: string): void => {
    for (const res of clients) send(res, chunk);
  };

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (loopback && !isLoopback(hostOf(req.headers.host))) {
      res.writeHead(403, { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS });
      return void res.end("the viewer answers only requests addressed to this machine (127.0.0.1, localhost)\n");
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", ...SECURITY_HEADERS });
      return void res.end();
    }
    const url = new URL(req.url ?? "/", "http://viewer.invalid");
    const asset = ASSETS[url.pathname];
    if (asset) {
      res.writeHead(200, { "content-type": asset.type, "content-length": asset.body.length, ...SECURITY_HEADERS });
      return void res.end(req.method === "HEAD" ? undefined : asset.body);
    }
    if (url.pathname === "/events") return openStream(req, res);
    if (url.pathname === "/api/stats") return json(res, sample());
    const report = /^\/api\/exchanges\/(\d+)$/.exec(url.pathname);
    if (report) {
      const held = history.get(Number(report[1]));
      if (!held) return json(res, { error: "no longer held (the history keeps the newest messages within maxHistoryBytes)" }, 404);
      const message = JSON.parse(held.text) as WireMessage;
      return json(res, { seq: held.seq, report: redactionReport(message, o.rules) });
    }
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS });
    res.end("not found\n");
  };

  /** One message as an SSE event, its id `<instance>.<seq>` (a message is one line of JSON; a stray line break still frames right). */
  const event = (m: HeldMessage): string => {
    const data = /[\r\n]/.test(m.text) ? m.text.split(/\r\n|\r|\n/).join("\ndata: ") : m.text;
    return `id: ${instance}.${m.seq}\nevent: exchange\ndata: ${data}\n\n`;
  };

  const openStream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "x-accel-buffering": "no", ...SECURITY_HEADERS });
    // A page reconnecting to this same viewer asks only for what it missed (EventSource sends the last id).
    const [lastInstance, lastSeq] = String(req.headers["last-event-id"] ?? "").split(".");
    const since = lastInstance === instance && Number.isSafeInteger(Number(lastSeq)) ? Number(lastSeq) : 0;
    const hello = { instance, maxHistoryBytes: o.maxHistoryBytes, rules: o.ruleNames, evicted: history.evicted };
    let chunk = `retry: 1000\n\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`;
    chunk += `event: stats-history\ndata: ${JSON.stringify([...samples, sample()])}\n\n`;
    res.write(chunk);
    for (const m of history.since(since)) res.write(event(m));
    clients.add(res);
    res.on("close", () => clients.delete(res));
  };

  const timer = setInterval(() => {
    try {
      const s = sample();
      samples.push(s);
      if (samples.length > MAX_SAMPLES) samples.shift();
      if (clients.size) broadcast(`event: stats\ndata: ${JSON.stringify(s)}\n\n`);
    } catch {
      /* a stats() that throws must not stop the viewer */
    }
  }, STATS_INTERVAL_MS);
  timer.unref();

  server.on("connection", (socket) => socket.unref());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(o.port, o.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    clearInterval(timer);
    throw err;
  }
  server.on("error", () => undefined); // after listening: nothing to do but keep serving
  server.unref();
  port = (server.address() as AddressInfo).port;
  const hostInUrl = o.host.includes(":") && !o.host.startsWith("[") ? `[${o.host}]` : o.host;

  return {
    url: `http://${hostInUrl}:${port}/`,
    loopback,
    publish(message) {
      try {
        const held = history.add(message.toString("utf8"), message.length);
        if (clients.size) broadcast(event(held));
      } catch {
        /* the viewer never affects delivery */
      }
    },
    close() {
      clearInterval(timer);
      for (const res of clients) res.end();
      clients.clear();
      history.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function json(res: ServerResponse, body: unknown, status = 200): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": bytes.length, ...SECURITY_HEADERS });
  res.end(bytes);
}

/** The host part of a Host header (`[::1]:7070` -> `::1`, `localhost:7070` -> `localhost`). */
function hostOf(header: string | undefined): string {
  if (!header) return "";
  if (header.startsWith("[")) return header.slice(1, header.indexOf("]"));
  const colon = header.lastIndexOf(":");
  return colon > 0 ? header.slice(0, colon) : header;
}

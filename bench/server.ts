// Bench server child: serves bench/app.ts bare (VARIANT=bare) or with the SDK (VARIANT=sdk) on a
// loopback port, and answers the parent over IPC: CPU time (all threads), served count, peak RSS,
// SDK stats, flush and close. Started by bench/run.ts and bench/soak.ts (maybe under taskset).
import http from "node:http";
import { pathToFileURL } from "node:url";
import type { AddressInfo } from "node:net";
import type { RequestHandler } from "express";
import type { APIToolkit as APIToolkitType } from "../src/index.js";
import { buildApp, REDACTION } from "./app.js";

// The SDK as users get it: tsc output (BENCH_SDK_DIR, built by bench/run.ts), not src through tsx
// (tsx wraps every named closure in a __name() call, a per-request cost the real build does not have).
const sdkDir = process.env.BENCH_SDK_DIR ? pathToFileURL(`${process.env.BENCH_SDK_DIR}/`).href : new URL("../src/", import.meta.url).href;
const ext = process.env.BENCH_SDK_DIR ? "js" : "ts";
const { APIToolkit } = (await import(`${sdkDir}index.${ext}`)) as { APIToolkit: typeof APIToolkitType };
const { expressMiddleware } = (await import(`${sdkDir}integrations/express/index.${ext}`)) as { expressMiddleware(c: object): RequestHandler };

// bare: no SDK. sdk: the SDK publishing to Pub/Sub. sdk-null: the SDK with a transport that
// discards (isolates capture + build + encode from the Pub/Sub client's cost; diagnostic only).
const variant = process.env.VARIANT ?? "bare";
const quiet = { info() {}, warn: (m: string) => process.stderr.write(`${m}\n`), error() {} };
const nullTransport = () => ({ send: async () => undefined, close: async () => undefined });
const apitoolkit = variant === "bare"
  ? undefined
  : new APIToolkit({
    apiKey: process.env.BENCH_KEY, rootURL: process.env.BENCH_ROOT_URL, logger: quiet, monitorOutgoing: false, ...REDACTION,
    // The emulator ingests far slower than Pub/Sub (and shares a core with the load generator in
    // pinned mode): a larger budget absorbs a 10 s burst instead of dropping (drops would be counted).
    maxQueueBytes: Number(process.env.BENCH_QUEUE_BYTES ?? 256 * 1024 * 1024),
    ...(variant === "sdk-null" ? { transport: nullTransport } : {}),
  });

let served = 0;
const server = http.createServer(buildApp(apitoolkit ? expressMiddleware(apitoolkit) : undefined));
server.on("request", () => {
  served++;
});
server.keepAliveTimeout = 60_000;

export type Ask = { id: number; op: "sample" | "flush" | "close" };

function sample() {
  const cpu = process.cpuUsage(); // getrusage(RUSAGE_SELF): every thread of the process
  const mem = process.memoryUsage();
  return {
    served,
    cpuUs: cpu.user + cpu.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    stats: apitoolkit?.stats(),
  };
}

process.on("message", (msg: Ask) => {
  void (async () => {
    let result: unknown;
    if (msg.op === "sample") result = sample();
    else if (msg.op === "flush") result = { flushed: apitoolkit ? await apitoolkit.flush(60_000) : true, ...sample() };
    else if (msg.op === "close") {
      await new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
      if (apitoolkit) await apitoolkit.close(10_000);
      result = sample();
      process.send?.({ id: msg.id, result });
      process.disconnect?.(); // the process must now exit on its own: no timers or handles left
      return;
    }
    process.send?.({ id: msg.id, result });
  })();
});

server.listen(0, "127.0.0.1", () => {
  process.send?.({ id: 0, result: { port: (server.address() as AddressInfo).port, pid: process.pid } });
});

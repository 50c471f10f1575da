// Bench server child: serves one framework's app (FRAMEWORK, bench/frameworks.ts) in one variant
// (VARIANT, bench/variants.ts) on a loopback port, and answers the parent over IPC: `sample` (CPU
// time of every thread, served count, RSS, delivery counters), `flush` (the same, once the variant
// delivered what it captured) and `close`. Started by bench/run.ts and bench/soak.ts, maybe under
// taskset, on the Node binary under test.
import { FRAMEWORKS } from "./frameworks.js";
import { VARIANTS } from "./variants.js";
import { answer, type MemoryAtPeak, type Sample } from "./lib.js";
import { Session } from "node:inspector/promises";
import { writeFileSync } from "node:fs";
import v8 from "node:v8";

const framework = FRAMEWORKS.find((f) => f.key === (process.env.FRAMEWORK ?? "express5"));
const variant = VARIANTS.find((v) => v.key === (process.env.VARIANT ?? "bare"));
if (!framework || !variant) throw new Error(`unknown FRAMEWORK ${process.env.FRAMEWORK} or VARIANT ${process.env.VARIANT}`);

const instance = await variant.setup({
  framework,
  sdkDir: process.env.BENCH_SDK_DIR ?? "",
  apiKey: process.env.BENCH_KEY ?? "",
  rootURL: process.env.BENCH_ROOT_URL ?? "",
  referenceDir: process.env.BENCH_REFERENCE_DIR ?? "",
  queueBytes: process.env.BENCH_QUEUE_BYTES ? Number(process.env.BENCH_QUEUE_BYTES) : undefined,
  otlpURL: process.env.BENCH_OTLP_URL ?? "",
  moesifURL: process.env.BENCH_MOESIF_URL ?? "",
  peersDir: process.env.BENCH_PEERS_DIR ?? "",
});
const served = await framework.serve(instance.mount);
let requests = 0;
served.server.on("request", () => {
  requests++;
});
served.server.keepAliveTimeout = 60_000;

// Where the memory is at the RSS peak: RSS read every 50 ms, and at each new high (by 1 MB) the
// process's and V8's breakdown taken with it (bench/report.ts prints it beside the peak RSS).
let memPeak: MemoryAtPeak | undefined;
function memoryAtPeak(): MemoryAtPeak {
  const m = process.memoryUsage();
  const spaces: Record<string, number> = {};
  for (const sp of v8.getHeapSpaceStatistics()) spaces[sp.space_name] = sp.space_size;
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, spaces, queueBytes: instance.stats()?.queueBytes };
}
setInterval(() => {
  if (process.memoryUsage.rss() > (memPeak?.rss ?? 0) + 1048576) memPeak = memoryAtPeak();
}, 50).unref();

function sample(): Sample {
  const cpu = process.cpuUsage(); // getrusage(RUSAGE_SELF): every thread of the process
  const mem = process.memoryUsage();
  return {
    served: requests,
    cpuUs: cpu.user + cpu.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    stats: instance.stats(),
    memPeak,
  };
}

// BENCH_STEADY_PROFILE=<file>: a CPU profile of the measured part only (from the first `sample`,
// after the warm-up, to `close`), for attribution runs by hand.
const steadyProfile = process.env.BENCH_STEADY_PROFILE;
let profiler: Session | undefined;

answer(async (op) => {
  if (op === "sample") {
    if (steadyProfile && !profiler) {
      profiler = new Session();
      profiler.connect();
      await profiler.post("Profiler.enable");
      await profiler.post("Profiler.start");
    }
    return sample();
  }
  if (op === "flush") {
    const flushed = await instance.flush();
    return { ...sample(), flushed };
  }
  if (op === "close") {
    if (profiler) {
      const { profile } = await profiler.post("Profiler.stop");
      writeFileSync(steadyProfile!, JSON.stringify(profile));
    }
    await served.close();
    await instance.close();
    const last = sample();
    // The process must now exit on its own: no timers or handles left.
    setImmediate(() => process.disconnect?.());
    return last;
  }
  throw new Error(`unknown op ${op}`);
});

process.send?.({ id: 0, result: { port: (served.server.address() as { port: number }).port, pid: process.pid, node: process.version } });

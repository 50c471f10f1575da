// Renders docs/benchmarks.md from a bench run (bench/run.ts): conditions, the targets at a glance,
// one section per Node version x framework (pinned CPU table, free requests/s table, delivery,
// peak RSS), then the micro-benchmarks, bench/notes.md and bench/results/soak.md.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { FRAMEWORKS } from "./frameworks.js";
import { ROUTES, RSS_BUDGET_BYTES, type Route } from "./routes.js";
import { BODY_RULES, REDACTION } from "./app.js";
import { REFERENCE_PACKAGE, REFERENCE_VERSION, ROOT, median, type MemoryAtPeak } from "./lib.js";
import { issueTargets } from "./targets.js";

export type Mode = "pinned" | "free";

/** One measured run of one variant on one route. */
export interface Run {
  reqPerSec: number;
  p50: number;
  p99: number;
  /** Server child CPU (user + system, every thread) per request served, until its captures were delivered. */
  cpuUsPerReq: number;
  /** Server child CPU during the load over wall time (100 = one core busy). */
  serverCpuPct: number;
  served: number;
  dropped: number;
  errors: number;
  non2xx: number;
}

/** What one capturing child did on one route (warm-up included): served vs messages. */
export interface RouteDelivery {
  served: number;
  /** Messages the route should produce: one per request, two on GET /outgoing when the fetch is captured. */
  expected: number;
  captured: number;
  published: number;
  /** Unique msg_ids that arrived at its subscription (undefined: the variant does not publish). */
  arrived: number | undefined;
  duplicates: number;
  dropped: Record<string, number>;
}

export interface GcSummary { scavenges: number; scavengeMs: number; majors: number; majorMs: number; served?: number }

/** One framework on one Node binary in one mode: every variant's child, every route. */
export interface FrameworkRun {
  mode: Mode;
  node: string;
  framework: string;
  variants: string[];
  routes: Record<string, Record<string, Run[]>>;
  delivery: Record<string, Record<string, RouteDelivery>>;
  peakRssBytes: Record<string, number>;
  /** Peak RSS so far at the end of each route, by variant (maxRSS only grows: shows which route raised it). */
  peakRssAfterRoute: Record<string, Record<string, number>>;
  /** The SDK's stats().queuePeakBytes at the end, by variant (the RSS budget adds it); absent in older results. */
  queuePeakBytes?: Record<string, number>;
  /** The same at the end of each route, by variant. */
  queuePeakAfterRoute?: Record<string, Record<string, number>>;
  /** process.memoryUsage() and V8's heap spaces when RSS was highest, by variant. */
  memPeak?: Record<string, MemoryAtPeak>;
  exitedOnItsOwn: Record<string, boolean>;
  gc: Record<string, GcSummary>;
  /** Set when the measurement failed part-way (e.g. a server child crashed); what was measured before is kept. */
  error?: string;
}

export interface Conditions {
  started: string;
  finished: string;
  quick: boolean;
  nodes: string[];
  harnessNode: string;
  os: string;
  cpu: string;
  cores: number;
  memBytes: number;
  loadavg: { before: number[]; after: number[] };
  connections: number;
  rounds: number;
  durationS: number;
  warmupS: number;
  modes: Mode[];
  pinAvailable: boolean;
  profile: boolean;
  /** Where autocannon ran: "inproc" (in the bench process) or "process" (its CLI, a process of its own); absent in older results: inproc. */
  loadgen?: string;
  /** --rate: every variant driven at this many requests/s (absent: as fast as each answers). */
  rate?: number;
  /** `judged`: its ratios to bare are held to the targets, as sdk's (absent in older results: sdk only). */
  variants: Array<{ key: string; description: string; frameworks?: string[]; judged?: boolean }>;
}

export interface BenchResult { conditions: Conditions; runs: FrameworkRun[]; micro: string }

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "-");
const mb = (b: number | undefined) => (b === undefined ? "-" : `${fmt(b / 1024 / 1024, 0)} MB`);
const med = (runs: Run[] | undefined, k: keyof Run) => median((runs ?? []).map((r) => r[k]));
const verdict = (ok: boolean | undefined) => (ok === undefined ? "-" : ok ? "met" : "**missed**");
/** A target verdict: "-" with no target, "not judged" when the ratio is not comparable (errors). */
const judged = (c: { target?: number; met: boolean | undefined }) => (c.met === undefined && c.target !== undefined ? "not judged (errors)" : verdict(c.met));
const frameworkOf = (key: string) => FRAMEWORKS.find((f) => f.key === key)!;

/** Load-generator errors + non-2xx answers of a variant's runs on a route. */
function failuresOf(runs: Run[] | undefined): number {
  return (runs ?? []).reduce((n, r) => n + r.errors + r.non2xx, 0);
}
/** A ratio is not comparable when either side answered more than 1% of its requests with errors. */
function comparable(bare: Run[], other: Run[]): boolean {
  const share = (rs: Run[]) => failuresOf(rs) / Math.max(1, rs.reduce((n, r) => n + r.served, 0));
  return share(bare) <= 0.01 && share(other) <= 0.01;
}

/** SDK/bare server CPU per request (pinned) for a route, and whether it meets the route's target (undefined: not comparable). */
function cpuRatio(fr: FrameworkRun, route: Route, variant = "sdk"): { ratio: number; target: number; met: boolean | undefined } | undefined {
  const runs = fr.routes[route.key];
  if (!runs?.bare?.length || !runs[variant]?.length) return undefined;
  const ratio = med(runs[variant], "cpuUsPerReq") / med(runs.bare, "cpuUsPerReq");
  const target = route.cpuTarget[frameworkOf(fr.framework).column];
  return { ratio, target, met: comparable(runs.bare, runs[variant]) ? ratio <= target : undefined };
}

/** SDK/bare requests/s (free) for a route, and whether it meets the route's target (undefined: none, or not comparable). */
function rpsRatio(fr: FrameworkRun, route: Route, variant = "sdk"): { ratio: number; target: number | undefined; met: boolean | undefined } | undefined {
  const runs = fr.routes[route.key];
  if (!runs?.bare?.length || !runs[variant]?.length) return undefined;
  const ratio = med(runs[variant], "reqPerSec") / med(runs.bare, "reqPerSec");
  const met = route.freeTarget === undefined || !comparable(runs.bare, runs[variant]) ? undefined : ratio >= route.freeTarget;
  return { ratio, target: route.freeTarget, met };
}

/** The route's label, flagged when some variant's requests failed (its ratios are then not judged). */
function labelOf(fr: FrameworkRun, route: Route): string {
  const bad = fr.variants.filter((v) => failuresOf(fr.routes[route.key]?.[v]) > 0).map((v) => `${v} ${fmt(failuresOf(fr.routes[route.key]?.[v]))}`);
  return bad.length ? `${route.label} (**errors / non-2xx: ${bad.join(", ")}**)` : route.label;
}

/** Delivery rule: tiny and 1 KB routes deliver everything; the others count every drop (queue budget). */
function deliveryMet(route: Route, d: RouteDelivery | undefined, failures = 0): boolean | undefined {
  if (!d || d.arrived === undefined || failures > 0) return undefined; // failed requests make fewer messages: not judged
  const drops = Object.values(d.dropped).reduce((a, b) => a + b, 0);
  if (route.deliverAll) return drops === 0 && d.arrived === d.expected;
  const onlyBudget = Object.keys(d.dropped).every((k) => k === "queue_full" || k === "too_large");
  return onlyBudget && d.arrived + drops === d.expected;
}

/** The RSS target of a variant: bare's peak + RSS_BUDGET_BYTES + the peak of its queue in the run (stats().queuePeakBytes). */
function rssLimit(fr: FrameworkRun, variant: string): number | undefined {
  const bare = fr.peakRssBytes.bare;
  return bare === undefined ? undefined : bare + RSS_BUDGET_BYTES + (fr.queuePeakBytes?.[variant] ?? 0);
}

function rssMet(fr: FrameworkRun, variant = "sdk"): boolean | undefined {
  const limit = rssLimit(fr, variant), peak = fr.peakRssBytes[variant];
  return limit === undefined || peak === undefined ? undefined : peak <= limit;
}

/** Variants held to the targets besides sdk (sdk has target columns of its own in each table), from the run's conditions. */
type Judged = ReadonlySet<string>;
/** A variant/bare cell: the ratio, with met / missed when the variant is judged. */
const ratioCell = (also: Judged, v: string, c: { ratio: number; target?: number; met: boolean | undefined } | undefined) =>
  !c ? "-" : also.has(v) ? `${fmt(c.ratio, 2)} ${judged(c)}` : fmt(c.ratio, 2);

function conditions(c: Conditions, runs: FrameworkRun[]): string[] {
  const minutes = (Date.parse(c.finished) - Date.parse(c.started)) / 60_000;
  const la = (l: number[]) => l.map((x) => x.toFixed(1)).join(" / ");
  const measured = [...new Set(runs.map((fr) => frameworkOf(fr.framework).label))];
  const partial = measured.length < FRAMEWORKS.length ? ` (**partial run**: ${FRAMEWORKS.length - measured.length} of ${FRAMEWORKS.length} frameworks not measured)` : "";
  const routesIn = (m: Mode) => ROUTES.filter((r) => runs.some((fr) => fr.mode === m && fr.routes[r.key])).map((r) => r.key).join(", ");
  return [
    "## Conditions", "",
    `- Date: ${c.started} (took ${fmt(minutes, 0)} min)${c.quick ? ". **--quick run**: short, indicative only" : ""}`,
    `- Measured: ${measured.join(", ")}${partial}; ${c.modes.map((m) => `${m}: ${routesIn(m)}`).join("; ")}`,
    `- Server children on ${c.nodes.map((n) => `Node ${n}`).join(" and ")}; the harness (load generator, counter, upstream) on Node ${c.harnessNode}`,
    `- ${c.os}, ${c.cores} cores (${c.cpu}), ${mb(c.memBytes)} RAM; load average (1 / 5 / 15 min) ${la(c.loadavg.before)} before, ${la(c.loadavg.after)} after`,
    "- **Machine noise**: this machine is shared (other test runs use the cores while the bench runs); ratios of the same run (variants alternated round by round) are what to read, not absolute numbers",
    `- Load: autocannon ${c.loadgen === "process" ? "as a process of its own (its CLI, as a user's load test runs it)" : "in the bench process"}, ${c.connections} connections, ${c.rate ? `every variant at ${fmt(c.rate)} requests/s,` : "as fast as the server answers,"} keep-alive, loopback only; per route and variant ${c.warmupS} s warm-up, then ${c.rounds} round(s) x ${c.durationS} s, variants alternated (bare, sdk-null, sdk, ... then reversed); medians over rounds; ratios are median / median`,
    `- **pinned**: each server child alone on core 1 (\`taskset -c 1\`); load generator, Pub/Sub emulator, delivery counter, OTLP receiver (when sdk-otlp runs), client_metadata stand-in and the upstream of GET /outgoing on core 0. **free**: no pinning${c.pinAvailable ? "" : ". Pinned mode was skipped: it needs `taskset` and two cores"}`,
    "- **Server CPU per request** (primary figure): the server child's `process.cpuUsage()` (user + system, every thread) from before the load to after the variant flushed what the run captured (so deferred redaction, encoding and publishing count), over the requests it served. Server CPU %: its CPU during the load over wall time (100% = one core)",
    `- SDK options (every SDK variant): \`redactHeaders: ${JSON.stringify(REDACTION.redactHeaders)}\`, \`redactRequestBody\` and \`redactResponseBody: ${JSON.stringify(BODY_RULES)}\`; defaults otherwise (64 KiB body limit, 32 MiB queue, 200 ms batching, outgoing capture on: GET /outgoing gives two messages per request). The SDK is compiled by tsc (.tmp/bench-sdk), as users get it; the integration is mounted as its docs say (first)`,
    ...c.variants.map((v) => `- Variant **${v.key}**${v.frameworks ? ` (${v.frameworks.join(", ")} only)` : ""}: ${v.description}`),
    "- Routes (the same in every framework): GET /health `{\"ok\":true}`; POST /echo 1 KB JSON echoed; GET /items 20 KB JSON array; GET /stream 1 MiB in 16 x 64 KiB writes; GET /outgoing: one `fetch` to a local node:http upstream, its JSON answered",
    "- Delivery: each publishing child has its own topic on an emulator the bench starts; a subscriber counts unique `msg_id`s (paused during measured runs, it catches up between them). Delivered = arrived at the subscription. sdk-otlp exports to a path of its own on an OTLP/HTTP receiver the bench starts, which answers at once and decodes what it kept between runs, counting unique span ids (one span per message, its id derived from the `msg_id`)",
    `- Targets (the issue's): pinned SDK/bare CPU per request <= the route's figure for the framework; free SDK/bare requests/s >= 0.95 / 0.90 / 0.85 (health / echo / items); SDK peak RSS <= bare + ${mb(RSS_BUDGET_BYTES)} + the peak of its queue in the run (\`stats().queuePeakBytes\`); every message delivered on health and echo, drops elsewhere only beyond the queue budget and counted (arrived + dropped = expected). ${judgedNote(c)}`,
    "",
  ];
}

function judgedNote(c: Conditions): string {
  const others = c.variants.filter((v) => v.judged && v.key !== "sdk").map((v) => `**${v.key}**`);
  return others.length ? `The same targets judge ${others.join(" and ")} (each framework's tables and delivery lines); the targets at a glance are sdk's` : "The targets at a glance are sdk's";
}

function glance(runs: FrameworkRun[], nodes: string[]): string[] {
  const pinnedRoutes = ROUTES.filter((r) => runs.some((fr) => fr.mode === "pinned" && fr.routes[r.key]));
  const freeRoutes = ROUTES.filter((r) => r.freeTarget !== undefined && runs.some((fr) => fr.mode === "free" && fr.routes[r.key]));
  const head = ["Node", "framework", ...pinnedRoutes.map((r) => `${r.key} CPU`), ...freeRoutes.map((r) => `${r.key} req/s (free)`), "peak RSS", "delivery"];
  const out = ["## The earlier targets at a glance (issue 9, superseded by issue 17 above)", "",
    "SDK/bare, the target after the slash. CPU: pinned server CPU per request (lower is better); req/s: free mode (higher is better).", "",
    `| ${head.join(" | ")} |`, `|${head.map((_, i) => (i < 2 ? "---" : ":-:")).join("|")}|`];
  for (const node of nodes) {
    for (const fw of FRAMEWORKS) {
      const pinned = runs.find((fr) => fr.node === node && fr.framework === fw.key && fr.mode === "pinned");
      const free = runs.find((fr) => fr.node === node && fr.framework === fw.key && fr.mode === "free");
      if (!pinned && !free) continue;
      const failed = [pinned, free].some((fr) => fr?.error);
      const cells = [node, failed ? `${fw.label} (**failed part-way**)` : fw.label];
      for (const r of pinnedRoutes) {
        const c = pinned && cpuRatio(pinned, r);
        cells.push(c ? `${fmt(c.ratio, 2)} / ${fmt(c.target, 2)} ${judged(c)}` : "-");
      }
      for (const r of freeRoutes) {
        const c = free && rpsRatio(free, r);
        cells.push(c ? `${fmt(c.ratio, 2)} / ${fmt(c.target ?? NaN, 2)} ${judged(c)}` : "-");
      }
      const both = [pinned, free].filter((x): x is FrameworkRun => !!x);
      const rss = both.map((fr) => rssMet(fr)).filter((x) => x !== undefined);
      cells.push(rss.length ? verdict(rss.every(Boolean)) : "-");
      const del = both.flatMap((fr) => ROUTES.filter((r) => fr.delivery[r.key]).map((r) => deliveryMet(r, fr.delivery[r.key]?.sdk, failuresOf(fr.routes[r.key]?.sdk)))).filter((x) => x !== undefined);
      cells.push(del.length ? verdict(del.every(Boolean)) : "-");
      out.push(`| ${cells.join(" | ")} |`);
    }
  }
  return [...out, ""];
}

/** The issue's table: per Node and route, bare's CPU per request and every variant's ratio to it (pinned), when the run has peers. */
function peersTable(runs: FrameworkRun[]): string[] {
  const order = ["floor", "floor-publish", "floor-wire", "sdk-null", "sdk", "sdk-standin", "sdk-otlp", "moesif", "otel", "reference"];
  const pinned = runs.filter((fr) => fr.mode === "pinned" && fr.variants.some((v) => ["floor", "otel", "moesif", "sdk-standin"].includes(v)));
  if (!pinned.length) return [];
  const out = ["## Side by side with the floor and the peers (pinned)", "",
    "Server CPU per request over bare's, medians of the run's alternated rounds (bare in us/req). `sdk` publishes to the emulator, `sdk-standin` to the publish stand-in that answers at once (nothing dropped), `sdk-otlp` to the OTLP receiver; drops are the SDK's `queue_full` in that run (a dropped exchange is never serialized: that ratio is then a lower bound).", ""];
  for (const fr of pinned) {
    const cols = order.filter((v) => fr.variants.includes(v));
    const head = ["route", "bare us/req", ...cols, ...(cols.includes("floor") && cols.includes("sdk") ? ["sdk / floor"] : []), "sdk dropped", "sdk-standin dropped"];
    out.push(`${frameworkOf(fr.framework).label} on Node ${fr.node}:`, "", `| ${head.join(" | ")} |`, `|---|${head.slice(1).map(() => "---:").join("|")}|`);
    for (const route of ROUTES) {
      const r = fr.routes[route.key];
      if (!r?.bare?.length) continue;
      const bare = med(r.bare, "cpuUsPerReq");
      const ratio = (v: string) => (r[v]?.length ? fmt(med(r[v], "cpuUsPerReq") / bare, 2) : "-");
      const drops = (v: string) => (r[v]?.length ? fmt(r[v]!.reduce((a, x) => a + x.dropped, 0)) : "-");
      const floorCell = cols.includes("floor") && cols.includes("sdk") ? [r.floor?.length && r.sdk?.length ? fmt(med(r.sdk, "cpuUsPerReq") / med(r.floor, "cpuUsPerReq"), 2) : "-"] : [];
      out.push(`| ${[labelOf(fr, route), fmt(bare), ...cols.map(ratio), ...floorCell, drops("sdk"), drops("sdk-standin")].join(" | ")} |`);
    }
    out.push("");
  }
  return out;
}

function pinnedTable(fr: FrameworkRun, also: Judged): string[] {
  const others = fr.variants.filter((v) => v !== "bare" && v !== "sdk");
  const head = ["route", ...fr.variants.map((v) => `CPU us/req ${v}`), "sdk/bare", "target", "met", ...others.map((v) => `${v}/bare`),
    "req/s bare / sdk", "p50 ms bare / sdk", "p99 ms bare / sdk", "server CPU % bare / sdk"];
  const out = [`| ${head.join(" | ")} |`, `|---|${head.slice(1).map((h) => (h === "met" ? ":-:" : "---:")).join("|")}|`];
  for (const route of ROUTES) {
    const runs = fr.routes[route.key];
    if (!runs) continue;
    const c = cpuRatio(fr, route);
    const pair = (k: keyof Run, d = 0) => `${fmt(med(runs.bare, k), d)} / ${fmt(med(runs.sdk, k), d)}`;
    out.push(`| ${[
      labelOf(fr, route),
      ...fr.variants.map((v) => fmt(med(runs[v], "cpuUsPerReq"))),
      c ? fmt(c.ratio, 2) : "-", `<= ${fmt(route.cpuTarget[frameworkOf(fr.framework).column], 2)}`, c ? judged(c) : "-",
      ...others.map((v) => ratioCell(also, v, cpuRatio(fr, route, v))),
      pair("reqPerSec"), pair("p50", 1), pair("p99", 1), pair("serverCpuPct"),
    ].join(" | ")} |`);
  }
  return out;
}

function freeTable(fr: FrameworkRun, also: Judged): string[] {
  const others = fr.variants.filter((v) => also.has(v));
  const head = ["route", ...fr.variants.map((v) => `req/s ${v}`), "sdk/bare", "target", "met", ...others.map((v) => `${v}/bare`), "p50 ms bare / sdk", "p99 ms bare / sdk", "CPU us/req bare / sdk"];
  const out = [`| ${head.join(" | ")} |`, `|---|${head.slice(1).map((h) => (h === "met" ? ":-:" : "---:")).join("|")}|`];
  for (const route of ROUTES) {
    const runs = fr.routes[route.key];
    if (!runs) continue;
    const c = rpsRatio(fr, route);
    const pair = (k: keyof Run, d = 0) => `${fmt(med(runs.bare, k), d)} / ${fmt(med(runs.sdk, k), d)}`;
    out.push(`| ${[
      labelOf(fr, route), ...fr.variants.map((v) => fmt(med(runs[v], "reqPerSec"))),
      c ? fmt(c.ratio, 2) : "-", route.freeTarget !== undefined ? `>= ${fmt(route.freeTarget, 2)}` : "-", c ? judged(c) : "-",
      ...others.map((v) => ratioCell(also, v, rpsRatio(fr, route, v))),
      pair("p50", 1), pair("p99", 1), pair("cpuUsPerReq"),
    ].join(" | ")} |`);
  }
  return out;
}

function deliveryLines(fr: FrameworkRun, also: Judged): string[] {
  const out: string[] = fr.error ? [`- **The ${fr.mode} measurement FAILED part-way: ${fr.error}** (the server child's stderr is in the bench log; what was measured before is shown).`] : [];
  for (const v of fr.variants) {
    const parts: string[] = [];
    for (const route of ROUTES) {
      const d = fr.delivery[route.key]?.[v];
      if (!d || d.arrived === undefined) continue;
      const drops = Object.entries(d.dropped).map(([k, n]) => `${k} ${fmt(n)}`).join(", ") || "no drops";
      const failures = failuresOf(fr.routes[route.key]?.[v]);
      const rule = v !== "sdk" && !also.has(v) ? "" : failures ? ": not judged (errors)" : `: ${verdict(deliveryMet(route, d))}`;
      parts.push(`${route.key}: served ${fmt(d.served)}, expected ${fmt(d.expected)}, captured ${fmt(d.captured)}, published ${fmt(d.published)}, arrived ${fmt(d.arrived)}${d.duplicates ? ` (+${d.duplicates} redeliveries)` : ""}, ${drops}${rule}`);
    }
    if (parts.length) out.push(`- Delivery, ${v} (${fr.mode}, warm-up included): ${parts.join("; ")}.`);
  }
  const rss = fr.variants.map((v) => `${v} ${mb(fr.peakRssBytes[v])}`).join(", ");
  const exited = fr.variants.every((v) => fr.exitedOnItsOwn[v]) ? "every child exited on its own after close()" : `did NOT exit on its own after close(): ${fr.variants.filter((v) => !fr.exitedOnItsOwn[v]).join(", ")}`;
  const queuePeak = (v: string) => (fr.queuePeakBytes?.[v] !== undefined ? ` + queue peak ${mb(fr.queuePeakBytes[v])}` : "");
  const rssRules = ["sdk", ...fr.variants.filter((v) => also.has(v))].filter((v) => fr.variants.includes(v))
    .map((v) => `${v} <= bare + ${mb(RSS_BUDGET_BYTES)}${queuePeak(v)} = ${mb(rssLimit(fr, v))}: ${verdict(rssMet(fr, v))}`);
  out.push(`- Peak RSS (${fr.mode}): ${rss}; ${rssRules.join("; ") || "no variant judged"}. ${exited[0]!.toUpperCase()}${exited.slice(1)}.`);
  const routesRun = ROUTES.filter((r) => fr.routes[r.key]).map((r) => r.key);
  if (routesRun.length > 1 && fr.peakRssAfterRoute) {
    const steps = fr.variants.map((v) => `${v} ${routesRun.map((r) => fmt((fr.peakRssAfterRoute[v]?.[r] ?? NaN) / 1048576)).join(" / ")}`);
    out.push(`- Peak RSS so far after each route (MB, ${routesRun.join(" / ")}): ${steps.join("; ")}.`);
    const queues = fr.variants.filter((v) => fr.queuePeakAfterRoute?.[v]).map((v) => `${v} ${routesRun.map((r) => fmt((fr.queuePeakAfterRoute![v]![r] ?? NaN) / 1048576, 1)).join(" / ")}`);
    if (queues.length) out.push(`- Queue peak so far after each route (stats().queuePeakBytes, MB): ${queues.join("; ")}.`);
  }
  const peaks = Object.entries(fr.memPeak ?? {});
  if (peaks.length) {
    const m = (b: number | undefined) => fmt((b ?? NaN) / 1048576, 0);
    const one = ([v, p]: [string, MemoryAtPeak]) => {
      const sp = p.spaces;
      const young = (sp.new_space ?? 0) + (sp.new_large_object_space ?? 0);
      const large = sp.large_object_space ?? 0;
      const rest = p.rss - p.heapTotal - p.external;
      return `${v} rss ${m(p.rss)} = V8 heap ${m(p.heapTotal)} (young ${m(young)}, old ${m(sp.old_space)}, large objects ${m(large)}; used ${m(p.heapUsed)}) + external ${m(p.external)} (ArrayBuffers ${m(p.arrayBuffers)}) + the rest ${m(rest)}${p.queueBytes !== undefined ? `; queue then ${m(p.queueBytes)}` : ""}`;
    };
    out.push(`- Memory when RSS was highest (MB, sampled every 50 ms): ${peaks.map(one).join("; ")}.`);
  }
  const gc = Object.entries(fr.gc);
  if (gc.length) {
    out.push(`- GC (${fr.mode}, --trace-gc, the child's whole life): ${gc.map(([v, g]) => `${v} ${fmt(g.scavenges)} scavenges ${fmt(g.scavengeMs, 0)} ms + ${fmt(g.majors)} mark-compacts ${fmt(g.majorMs, 0)} ms${g.served ? ` (${fmt((1000 * (g.scavengeMs + g.majorMs)) / g.served, 1)} us/req)` : ""}`).join("; ")}.`);
  }
  const errs = Object.values(fr.routes).flatMap((r) => Object.values(r)).reduce((n, runs) => n + failuresOf(runs), 0);
  if (errs) out.push(`- **Load-generator errors or non-2xx answers (${fr.mode}): ${fmt(errs)}**; the server child logged the first cause to the bench log; ratios with more than 1% failures are not judged.`);
  return out;
}

function referenceNote(runs: FrameworkRun[]): string[] {
  if (!runs.some((fr) => fr.variants.includes("reference"))) return [];
  return [
    `The **reference** column is \`${REFERENCE_PACKAGE}@${REFERENCE_VERSION}\` on the same Express 4 app, mounted after \`express.json()\` as its README says, with the same header and body rules, bootstrapped through the same client_metadata stand-in and publishing to the same emulator (its delivery is counted by wrapping its Pub/Sub client's \`Topic.publishMessage\`: it keeps no counters of its own). It captures what \`res.send\` is given (no streamed body on GET /stream) and observes axios only, so GET /outgoing gives one message per request with it.`,
    "",
  ];
}

export function report(result: BenchResult): string {
  const { conditions: c, runs, micro } = result;
  const also: Judged = new Set(c.variants.filter((v) => v.judged && v.key !== "sdk").map((v) => v.key));
  const nodes = [...new Set(runs.map((fr) => fr.node))];
  const lines: string[] = ["# Benchmarks", "",
    "Generated by `npm run bench` (bench/run.ts); do not edit by hand. How to run it and what it measures: bench/README.md. Raw figures of the run: .tmp/bench/results.json.", ""];
  lines.push(...conditions(c, runs), ...issueTargets(runs), ...glance(runs, nodes), ...peersTable(runs), ...referenceNote(runs));
  for (const node of nodes) {
    lines.push(`## Node ${node}`, "");
    for (const fw of FRAMEWORKS) {
      const mine = runs.filter((fr) => fr.node === node && fr.framework === fw.key);
      if (!mine.length) continue;
      lines.push(`### ${fw.label} on Node ${node}`, "");
      const pinned = mine.find((fr) => fr.mode === "pinned");
      const free = mine.find((fr) => fr.mode === "free");
      if (pinned) lines.push("Pinned (server alone on core 1): server CPU per request, SDK/bare target, throughput and latency beside it.", "", ...pinnedTable(pinned, also), "");
      if (free) lines.push("Free (no pinning): requests/s.", "", ...freeTable(free, also), "");
      for (const fr of mine) lines.push(...deliveryLines(fr, also));
      lines.push("");
    }
  }
  lines.push("## Micro-benchmarks (bench/micro.ts)", "", micro.trim(), "");
  for (const file of ["bench/notes.md", "bench/results/soak.md"]) {
    const p = path.join(ROOT, file);
    if (existsSync(p)) lines.push(readFileSync(p, "utf8").trim(), "");
  }
  return lines.join("\n");
}

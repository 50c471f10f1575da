// The targets of issue 17 ("bodies at memory speed"), judged from one bench run: each figure is a
// ratio of variants measured in the same run (pinned mode, medians of alternated rounds).
//   tiny GET           sdk / floor                         <= 1.25
//   1 KB echo          sdk / bare                          <= 1.50
//   20 KB array        sdk-standin / bare, nothing dropped <= 1.80 and <= otel / bare
//   1 MiB stream       sdk-standin / bare, nothing dropped <= 1.15 (sdk beside it: it drops)
//   OTLP vs Pub/Sub    sdk-otlp / sdk-standin, each route  <= 1.10
//   peak RSS           each SDK variant <= bare + 40 MB + the peak of its queue in the run
// The body pipeline's own target (<= 2 ns per body byte) is `npm run bench:body`'s, not this run's.
import { median } from "./lib.js";
import { RSS_BUDGET_BYTES } from "./routes.js";
import type { FrameworkRun, Run } from "./report.js";

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "-");
const cpu = (runs: Run[] | undefined) => (runs?.length ? median(runs.map((r) => r.cpuUsPerReq)) : NaN);
const drops = (runs: Run[] | undefined) => (runs ?? []).reduce((n, r) => n + r.dropped, 0);
const mark = (ok: boolean | undefined) => (ok === undefined ? "-" : ok ? "met" : "**missed**");

/** `a / b` of two variants on a route (NaN when either was not run). */
function ratio(fr: FrameworkRun, route: string, a: string, b: string): number {
  const r = fr.routes[route];
  return r ? cpu(r[a]) / cpu(r[b]) : NaN;
}

/** One row per figure: what, the value(s), the target, met. */
function rows(fr: FrameworkRun): string[][] {
  const out: string[][] = [];
  const judge = (v: number, max: number) => (Number.isFinite(v) ? v <= max : undefined);
  const h = ratio(fr, "health", "sdk", "floor");
  const fp = ratio(fr, "health", "floor-publish", "floor");
  const fw = ratio(fr, "health", "floor-wire", "floor");
  const cal = [Number.isFinite(fp) ? `floor-publish / floor ${fmt(fp)}` : "", Number.isFinite(fw) ? `floor-wire / floor ${fmt(fw)}` : ""].filter(Boolean).join(", ");
  out.push(["tiny GET, sdk / floor", `${fmt(h)} (sdk-standin ${fmt(ratio(fr, "health", "sdk-standin", "floor"))}${cal ? `; calibration ${cal}` : ""})`, "<= 1.25", mark(judge(h, 1.25))]);
  const e = ratio(fr, "echo", "sdk", "bare");
  const ew = ratio(fr, "echo", "floor-wire", "bare");
  out.push(["1 KB echo, sdk / bare", `${fmt(e)} (sdk-standin ${fmt(ratio(fr, "echo", "sdk-standin", "bare"))}${Number.isFinite(ew) ? `; calibration floor-wire / bare ${fmt(ew)}` : ""})`, "<= 1.50", mark(judge(e, 1.5))]);
  const i = ratio(fr, "items", "sdk-standin", "bare");
  const otel = ratio(fr, "items", "otel", "bare");
  const iDrops = drops(fr.routes.items?.["sdk-standin"]);
  const iMet = Number.isFinite(i) ? i <= 1.8 && (!Number.isFinite(otel) || i <= otel) && iDrops === 0 : undefined;
  out.push(["20 KB array, sdk-standin / bare (nothing dropped)", `${fmt(i)} (otel ${fmt(otel)}, sdk ${fmt(ratio(fr, "items", "sdk", "bare"))}; standin drops ${iDrops})`, "<= 1.80 and <= otel", mark(iMet)]);
  const s = ratio(fr, "stream", "sdk-standin", "bare");
  const sDrops = drops(fr.routes.stream?.["sdk-standin"]);
  out.push(["1 MiB stream, sdk-standin / bare (nothing dropped)", `${fmt(s)} (sdk ${fmt(ratio(fr, "stream", "sdk", "bare"))} with ${drops(fr.routes.stream?.sdk)} dropped; standin drops ${sDrops})`, "<= 1.15", mark(Number.isFinite(s) ? s <= 1.15 && sDrops === 0 : undefined)]);
  const routes = ["health", "echo", "items", "stream"].filter((r) => fr.routes[r]);
  const o = routes.map((r) => ratio(fr, r, "sdk-otlp", "sdk-standin"));
  const oMet = o.some(Number.isFinite) ? o.every((x) => !Number.isFinite(x) || x <= 1.1) : undefined;
  out.push([`OTLP / Pub/Sub stand-in, ${routes.join(" / ")}`, o.map((x) => fmt(x)).join(" / "), "<= 1.10 each", mark(oMet)]);
  const bare = fr.peakRssBytes.bare;
  for (const v of ["sdk", "sdk-standin", "sdk-otlp"]) {
    const peak = fr.peakRssBytes[v];
    if (bare === undefined || peak === undefined) continue;
    const queue = fr.queuePeakBytes?.[v];
    const budget = bare + RSS_BUDGET_BYTES + (queue ?? 0);
    const mb = (b: number) => `${fmt(b / 1048576, 0)} MB`;
    out.push([`peak RSS, ${v}`, `${mb(peak)} (bare ${mb(bare)}, queue peak ${queue === undefined ? "not recorded" : mb(queue)})`, `<= ${mb(budget)}`, mark(queue === undefined ? undefined : peak <= budget)]);
  }
  return out;
}

/** "## Issue 17's targets": one table per Node, from the pinned Express 4 run. */
export function issueTargets(runs: FrameworkRun[]): string[] {
  const pinned = runs.filter((fr) => fr.mode === "pinned" && fr.framework === "express4");
  if (!pinned.length) return [];
  const out = ["## Issue 17's targets (Express 4, pinned)", "",
    "Ratios of server CPU per request of the same run (medians of alternated rounds). `sdk` publishes to the emulator; `sdk-standin` publishes the same way to a stand-in that answers at once, so nothing is dropped; `floor` is the 10-line capture that sends nothing; `floor-publish` delivers the floor's records as the SDK delivers its messages (Pub/Sub publish batches to the same stand-in), what delivering anything adds; `floor-wire` delivers, the same way, the wire format's whole message filled the plain way (no body rules, no detectors). The body pipeline's target (<= 2 ns per body byte) is measured by `npm run bench:body` (bench/notes.md).", ""];
  for (const fr of pinned) {
    out.push(`Node ${fr.node}:`, "", "| figure | value | target | met |", "|---|---|---|:-:|");
    for (const row of rows(fr)) out.push(`| ${row.join(" | ")} |`);
    out.push("");
  }
  return out;
}

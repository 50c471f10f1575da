/**
 * What the identity API (setUser, setTenant, setSession, setAttributes) costs, and that it costs
 * nothing when the app does not use it. Not part of `npm test`.
 *
 *   node --import tsx bench/identity.ts [--rounds=15] [--base=<commit>]
 *
 * A/B, alternated round by round, medians of the rounds:
 *   - serializeExchange as it was before the identity API (`--base`, default the commit before it)
 *     against today's (`--head`, default HEAD), each extracted with `git archive` into .tmp/ and
 *     loaded as its own copy, on the same exchanges without identity: the "unused" cost
 *     (`--base=HEAD` gives the A/A noise floor);
 *   - today's serializeExchange on the same exchanges with an identity (user, tenant, session and
 *     three attributes), Pub/Sub and OTLP shapes: the "used" cost;
 *   - the four setters called once each inside a request context.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Exchange } from "../src/capture/exchange.js";
import { resolveOptions } from "../src/config/options.js";
import { serializeExchange } from "../src/wire/serialize.js";
import { runInRequest, type RequestContext } from "../src/capture/context.js";
import { setAttributes, setSession, setTenant, setUser } from "../src/index.js";
import { BENCH_EXCHANGES } from "./exchanges.js";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")) as Array<[string, string]>);
const ROUNDS = Number(args.rounds ?? 15);
const BASE = args.base ?? "0c66dd9";
const HEAD = args.head ?? "HEAD";
const ROOT = path.resolve(import.meta.dirname, "..");

interface Side {
  serializeExchange: typeof serializeExchange;
  resolveOptions: typeof resolveOptions;
}

/** src/ of `commit`, extracted with git archive and imported as its own copy: both sides of the A/B
 *  load the same way (each its own modules, its own compiled options), so neither is favoured. */
async function sideAt(commit: string): Promise<Side> {
  const sha = execFileSync("git", ["rev-parse", "--short", commit], { cwd: ROOT, encoding: "utf8" }).trim();
  const dir = path.join(ROOT, ".tmp", `bench-identity-${sha}`);
  if (!existsSync(path.join(dir, "src/wire/serialize.ts"))) {
    mkdirSync(dir, { recursive: true });
    execFileSync("sh", ["-c", `git archive ${sha} src | tar -x -C ${JSON.stringify(dir)}`], { cwd: ROOT });
  }
  const wire = (await import(pathToFileURL(path.join(dir, "src/wire/serialize.ts")).href)) as Side;
  const config = (await import(pathToFileURL(path.join(dir, "src/config/options.ts")).href)) as Side;
  return { serializeExchange: wire.serializeExchange, resolveOptions: config.resolveOptions };
}

/** ns per call of `fn` over `n` calls (after the caller's warm-up). */
function nsPerOp(n: number, fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const OPTIONS = { apiKey: "k", redactRequestBody: ["$.password"], redactResponseBody: ["$[*].secret", "$..token"], tags: ["env:bench"] };
const cfg = resolveOptions(OPTIONS);
const otlpCfg = { ...cfg, delivery: "otlp" as const };
const IDENTITY = { user: { id: "u_42", email: "ann@example.com", full_name: "Ann Lee" }, tenant: { id: "t_7", name: "Acme" }, session: "s_9f8e", attributes: { plan: "pro", "cart.items": 3, beta: true } };

const before = await sideAt(BASE);
const today = await sideAt(HEAD);
const baseCfg = before.resolveOptions(OPTIONS);
const todayCfg = today.resolveOptions(OPTIONS);
const base = before.serializeExchange;
const now = today.serializeExchange;
const cases = BENCH_EXCHANGES.filter(([name]) => !name.startsWith("GET /stream")).slice(0, 3);
const rows: string[] = [];
rows.push("| exchange | before the API (ns) | today, no identity (ns) | difference | today, with identity: Pub/Sub (ns) | OTLP (ns) |");
rows.push("| --- | ---: | ---: | ---: | ---: | ---: |");
const sizes = (name: string) => (name.startsWith("GET /health") ? 50_000 : name.startsWith("POST") ? 10_000 : 1_000);
// Phase 1: before vs today with no identity anywhere in the process yet (as in an app that never
// calls a setter: the serializer never sees an exchange of another shape).
const unused = new Map<string, { base: number; now: number }>();
for (const [name, ex] of cases) {
  const n = sizes(name);
  const runs = { base: [] as number[], now: [] as number[] };
  for (let w = 0; w < 3; w++) {
    nsPerOp(n, () => base(ex, baseCfg, baseCfg.redaction));
    nsPerOp(n, () => now(ex, todayCfg, todayCfg.redaction));
  }
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order each round so neither side always runs first.
    const order = r % 2 === 0 ? ["base", "now"] as const : ["now", "base"] as const;
    for (const which of order) runs[which].push(which === "base" ? nsPerOp(n, () => base(ex, baseCfg, baseCfg.redaction)) : nsPerOp(n, () => now(ex, todayCfg, todayCfg.redaction)));
  }
  unused.set(name, { base: median(runs.base), now: median(runs.now) });
}
// Phase 2: the same exchanges with an identity (what an app that calls the setters pays).
for (const [name, ex] of cases) {
  const withId: Exchange = { ...ex, identity: IDENTITY };
  const n = sizes(name);
  const runs = { id: [] as number[], otlp: [] as number[] };
  for (let w = 0; w < 3; w++) {
    nsPerOp(n, () => serializeExchange(withId, cfg, cfg.redaction));
    nsPerOp(n, () => serializeExchange(withId, otlpCfg, cfg.redaction));
  }
  for (let r = 0; r < ROUNDS; r++) {
    runs.id.push(nsPerOp(n, () => serializeExchange(withId, cfg, cfg.redaction)));
    runs.otlp.push(nsPerOp(n, () => serializeExchange(withId, otlpCfg, cfg.redaction)));
  }
  const { base: b, now } = unused.get(name)!;
  rows.push(`| ${name} | ${b.toFixed(0)} | ${now.toFixed(0)} | ${(((now - b) / b) * 100).toFixed(1)} % | ${median(runs.id).toFixed(0)} | ${median(runs.otlp).toFixed(0)} |`);
}

// The setters themselves, inside a request context (a fresh one each time, as each request has).
const setterRuns: number[] = [];
const call = () => {
  const ctx: RequestContext = { msgId: "m", errors: [], owner: {} };
  runInRequest(ctx, () => {
    setUser({ id: "u_42", email: "ann@example.com", name: "Ann Lee" });
    setTenant({ id: "t_7", name: "Acme" });
    setSession("s_9f8e");
    setAttributes({ plan: "pro", "cart.items": 3, beta: true });
  });
};
const bare = () => runInRequest({ msgId: "m", errors: [], owner: {} }, () => undefined);
const bareRuns: number[] = [];
for (let w = 0; w < 3; w++) {
  nsPerOp(20_000, call);
  nsPerOp(20_000, bare);
}
for (let r = 0; r < ROUNDS; r++) {
  bareRuns.push(nsPerOp(20_000, bare));
  setterRuns.push(nsPerOp(20_000, call));
}

console.log(`Node ${process.version}, ${ROUNDS} rounds alternated, medians; before = ${BASE}, today = ${HEAD}\n`);
console.log(rows.join("\n"));
console.log(`\nThe four setters once each in a request context: ${(median(setterRuns) - median(bareRuns)).toFixed(0)} ns per request (context alone ${median(bareRuns).toFixed(0)} ns, with the calls ${median(setterRuns).toFixed(0)} ns).`);

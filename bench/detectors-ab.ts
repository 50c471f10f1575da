/**
 * What the value detectors and the default query-name list cost per exchange: `serializeExchange`
 * on the bench's exchanges with the defaults, with `redactValues: []`, with both off, and with every
 * detector on; the four alternated in one process, medians of 15 rounds (docs/redaction.md, Cost).
 *
 *   node --import tsx bench/detectors-ab.ts
 */
import { resolveOptions, type APIToolkitOptions } from "../src/config/options.js";
import { serializeExchange } from "../src/wire/serialize.js";
import { REDACTION } from "./app.js";
import { BENCH_EXCHANGES } from "./exchanges.js";

const variants: Record<string, Partial<APIToolkitOptions>> = {
  defaults: {},
  "values off": { redactValues: [] },
  "values and query names off": { redactValues: [], redactDefaultQueryParams: false },
  "every detector": { redactValues: ["creditCard", "jwt", "bearerToken", "awsAccessKey", "privateKey", "email", "iban"] },
};
const configs = Object.entries(variants).map(([name, o]) => ({ name, cfg: resolveOptions({ apiKey: "k", ...REDACTION, ...o }) }));
const BASE = "values and query names off";

/** Microseconds per call of `f`, over about `ms` milliseconds. */
function trial(f: () => void, ms: number): number {
  const start = process.hrtime.bigint();
  let n = 0;
  while (Number(process.hrtime.bigint() - start) < ms * 1e6) {
    for (let i = 0; i < 10; i++) f();
    n += 10;
  }
  return Number(process.hrtime.bigint() - start) / n / 1000;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

console.log(`Node ${process.version}: serializeExchange, us per exchange (added over "${BASE}")`);
for (const [name, ex] of BENCH_EXCHANGES) {
  const runs = new Map(configs.map((c) => [c.name, [] as number[]]));
  for (const c of configs) trial(() => serializeExchange(ex, c.cfg, c.cfg.redaction), 100); // warm-up
  for (let round = 0; round < 15; round++) {
    for (const c of round % 2 ? [...configs].reverse() : configs) runs.get(c.name)!.push(trial(() => serializeExchange(ex, c.cfg, c.cfg.redaction), 40));
  }
  const base = median(runs.get(BASE)!);
  const cells = configs.map((c) => {
    const m = median(runs.get(c.name)!);
    return `${c.name} ${m.toFixed(1)} (${m - base >= 0 ? "+" : ""}${(m - base).toFixed(1)})`;
  });
  console.log(`${name.padEnd(36)} ${cells.join(" | ")}`);
}

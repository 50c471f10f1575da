// Micro-benchmarks: the per-exchange work the SDK does when a response finishes (serializeExchange:
// header conversion, body redaction, base64, the wire JSON bytes) for the bench routes' bodies,
// outside any server. `--markdown` prints a table; `--quick` is short.
import { resolveOptions } from "../src/config/options.js";
import { serializeExchange } from "../src/wire/serialize.js";
import { type RuleSet } from "../src/redact/rules.js";
import { renderBody } from "../src/redact/body.js";
import { REDACTION } from "./app.js";
import { BENCH_EXCHANGES } from "./exchanges.js";

const quick = process.argv.includes("--quick");
const cfg = resolveOptions({ apiKey: "k", ...REDACTION });
// The rules the client uses (header names, body paths, the default value detectors), counted into a
// tally as the client counts stats().redactions.
const rules: RuleSet = cfg.redaction;
const counts = new Map<string, number>();
const tally = (rule: string, n: number): void => void counts.set(rule, (counts.get(rule) ?? 0) + n);
const bodyRules = { values: rules.values, tally };

/** Best of several short trials (the minimum is the estimate least disturbed by other load). */
function time(fn: () => unknown): { nsPerOp: number; ops: number } {
  const trials = quick ? 5 : 10;
  const trialMs = quick ? 60 : 120;
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let best = Infinity;
  for (let t = 0; t < trials; t++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const until = start + BigInt(trialMs * 1e6);
    let now = start;
    while (now < until) {
      for (let i = 0; i < 20; i++) fn();
      n += 20;
      now = process.hrtime.bigint();
    }
    best = Math.min(best, Number(now - start) / n);
  }
  return { nsPerOp: best, ops: 1e9 / best };
}

const rows: string[] = [];
for (const [name, ex] of BENCH_EXCHANGES) {
  const reqCt = "application/json";
  const resCt = String((ex.responseHeaders as Record<string, string>)["content-type"]);
  const full = time(() => serializeExchange(ex, cfg, rules, tally));
  const redactReq = ex.requestBody.keptBytes ? time(() => renderBody(ex.requestBody, reqCt, undefined, rules.request, cfg.maxBodyBytes, { ...bodyRules, named: rules.named?.request })) : undefined;
  const redactRes = time(() => renderBody(ex.responseBody, resCt, undefined, rules.response, cfg.maxBodyBytes, { ...bodyRules, named: rules.named?.response }));
  const bytes = serializeExchange(ex, cfg, rules, tally).length;
  const us = (t: { nsPerOp: number } | undefined) => (t ? (t.nsPerOp / 1000).toFixed(1) : "-");
  rows.push(`| ${name} | ${us(full)} | ${Math.round(full.ops).toLocaleString("en-US")} | ${us(redactReq)} | ${us(redactRes)} | ${bytes.toLocaleString("en-US")} |`);
}

const header = [
  `Per exchange, one thread, Node ${process.version}, best of ${quick ? 5 : 10} trials. "serialize" is what the SDK does per exchange when its response`,
  "finishes (`serializeExchange`: header conversion, body redaction, base64, the message bytes) with the bench's rules and the default value detectors, counted as the client counts them; redaction columns are `renderBody` alone.",
  "",
  "| exchange | serialize (us) | per second | redact request body (us) | redact response body (us) | message bytes |",
  "|---|---:|---:|---:|---:|---:|",
];
process.stdout.write([...header, ...rows].join("\n") + "\n");

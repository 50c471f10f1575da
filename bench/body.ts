/**
 * The body pipeline, stage by stage, in ns per body byte (`npm run bench:body`).
 *
 *   node --expose-gc --import tsx bench/body.ts [--quick] [--markdown] [--stages=a,b] [--base=DIR]
 *
 * Rules as the issue measures them: `$.password` on requests, `$.password` and `$[*].secret` on
 * responses, the default value detectors, counted into a tally as the client counts them. Bodies:
 * a 20 KB JSON array (every element has a `secret`), a 64 KiB JSON array (the default
 * maxBodyBytes, kept whole), and the 1 KB echo (`$.password` both ways). Bodies are captured as
 * 16 KiB chunks, as a socket delivers them.
 *
 * Stages (each timed alone on that body; "render" and "serialize" are what the SDK does):
 *   copy       the captured chunks into one buffer (bodyBytes, in reused scratch memory as when
 *              serializing); "copy (fresh)" into a new Buffer (Buffer.concat, as before)
 *   scan       JSON validation alone (isJsonBytes: what a body no rule can match costs); "scan (wasm)"
 *              the same in WebAssembly (splice.c's validate, the body copied into its memory)
 *   redact     the JSONPath redaction over the bytes (scan + splice; paths.redactBytes, the spans
 *              handed over at once as render asks for them)
 *   splice     the splice alone (WebAssembly), and "splice (JS)" the JavaScript one it replaced
 *   detectors  the value detectors' check of the redacted body: the byte prefilter (WebAssembly; a call
 *              of its own here, with the body copied in: render runs it on the redaction's output
 *              while that is still in the module's memory);
 *              "detectors (text)" the decoded text's scan it spares (what ran before)
 *   render     renderBody: copy + redact + detectors + counting
 *   base64     the rendered body as base64 (toString)
 *   frame      a new message buffer: head + base64 text copied in
 *   serialize  serializeExchange, whole (headers, URL, both bodies), per body byte, into a new Buffer;
 *              "serialize (pages)" written into reused 1 MiB pages through `alloc`, as delivery's queue
 *              has it written (src/delivery/arena.ts; the Pub/Sub and OTLP transports)
 * Calibrations, on the same bytes in the same run:
 *   memcpy     one Buffer.copy of the body into a reused buffer
 *   new Buffer a fresh Buffer of the body's size, filled (what any new copy of it costs)
 *   indexOf    one native search for a byte that is absent (a full pass over the body)
 *   b64 only   Buffer#toString("base64") of the body
 *   JSON.parse the body decoded and parsed by V8 (what a parse-based redaction would start with)
 *
 * Variants (stages x bodies) alternate within each round; figures are medians of rounds.
 */
import path from "node:path";
import type { CapturedBody, Exchange } from "../src/capture/exchange.js";
import { bodyBytes } from "../src/capture/body.js";
import { resolveOptions } from "../src/config/options.js";
import { isJsonBytes, spliceJs } from "../src/jsonpath/stream.js";
import { isJsonWasm, mayMatchDetectors, spliceWasm } from "../src/jsonpath/wasm/module.js";
import { withScratch } from "../src/jsonpath/scratch.js";
import { renderBody } from "../src/redact/body.js";
import type { RuleSet } from "../src/redact/rules.js";
import { serializeExchange } from "../src/wire/serialize.js";
import { jsonArray, jsonObject } from "./app.js";

const quick = process.argv.includes("--quick");
/** `--base=DIR`: another checkout of the project (e.g. `git worktree add DIR <commit>`, its node_modules linked) whose serializeExchange and renderBody run beside ours, alternated, as "(base)" rows. */
const baseDir = process.argv.find((a) => a.startsWith("--base="))?.slice(7);
const markdown = process.argv.includes("--markdown");
const ROUNDS = quick ? 5 : 11;
const ROUND_MS = quick ? 40 : 80;

const OPTIONS = {
  apiKey: "k",
  redactHeaders: ["Authorization"],
  redactRequestBody: ["$.password"],
  redactResponseBody: ["$.password", "$[*].secret"],
};
const cfg = resolveOptions(OPTIONS);
const rules: RuleSet = cfg.redaction;
const counts = new Map<string, number>();
const tally = (rule: string, n: number): void => void counts.set(rule, (counts.get(rule) ?? 0) + n);

/** A JSON array of at most `bytes` bytes (jsonArray's items, cut to fit). */
function arrayOf(bytes: number): Buffer {
  const items = jsonArray(bytes);
  while (Buffer.byteLength(JSON.stringify(items)) > bytes) items.pop();
  return Buffer.from(JSON.stringify(items));
}

function captured(buf: Buffer, chunkBytes = 16 * 1024): CapturedBody {
  const b: CapturedBody = { chunks: [], keptBytes: 0, totalBytes: buf.length };
  for (let i = 0; i < buf.length; i += chunkBytes) {
    const c = buf.subarray(i, Math.min(i + chunkBytes, buf.length));
    b.chunks.push(c);
    b.keptBytes += c.length;
  }
  return b;
}

function exchange(method: string, reqBody: Buffer | undefined, resBody: Buffer, contentType = "application/json; charset=utf-8", totalBytes = resBody.length): Exchange {
  return {
    sdkType: "JsExpress", msgId: "7d3c4a5e-0b1f-4e2a-9c6d-1a2b3c4d5e6f", startEpochMs: Date.now(), durationNs: 123456, method, host: "127.0.0.1:3000",
    rawUrl: "/items", urlPath: "/items", pathParams: {}, protoMajor: 1, protoMinor: 1, statusCode: 200,
    requestHeaders: ["Host", "127.0.0.1:3000", "Authorization", "Bearer abc", "User-Agent", "autocannon", ...(reqBody ? ["Content-Type", "application/json"] : [])],
    responseHeaders: { "content-type": contentType, "content-length": String(totalBytes) },
    requestBody: reqBody ? captured(reqBody) : { chunks: [], keptBytes: 0, totalBytes: 0 }, responseBody: { ...captured(resBody), totalBytes }, errors: [],
  };
}

interface Case {
  readonly name: string;
  readonly ex: Exchange;
  /** The bodies with their side's rules: [bytes, paths, named]. */
  readonly bodies: ReadonlyArray<{ body: CapturedBody; side: "request" | "response" }>;
  readonly bytes: number;
}

function makeCase(name: string, ex: Exchange): Case {
  const bodies: Array<{ body: CapturedBody; side: "request" | "response" }> = [];
  if (ex.requestBody.keptBytes > 0) bodies.push({ body: ex.requestBody, side: "request" });
  bodies.push({ body: ex.responseBody, side: "response" });
  return { name, ex, bodies, bytes: bodies.reduce((n, b) => n + b.body.keptBytes, 0) };
}

const echo = Buffer.from(JSON.stringify(jsonObject(1024)));
const CASES: Case[] = [
  makeCase("20 KB array `$[*].secret`", exchange("GET", undefined, arrayOf(20 * 1024))),
  makeCase("64 KiB array", exchange("GET", undefined, arrayOf(64 * 1024))),
  makeCase("1 KB echo `$.password`", exchange("POST", echo, echo)),
  // GET /stream: 1 MiB of text/plain, the first 64 KiB kept (cut at maxBodyBytes), 64 KiB chunks.
  makeCase("64 KiB of a 1 MiB text stream", exchange("GET", undefined, Buffer.alloc(64 * 1024, "streamed-bytes;"), "text/plain; charset=utf-8", 1024 * 1024)),
];
/** The response's content type (set by exchange() as an object of headers). */
function resType(c: Case): string {
  return String((c.ex.responseHeaders as Record<string, unknown>)["content-type"]);
}
/** The JSON cases (the text stream has no JSON stage). */
const isJson = (c: Case): boolean => resType(c).includes("json");

type Stage = (c: Case) => unknown;
type Serialize = typeof serializeExchange;
type Render = typeof renderBody;
const base = baseDir === undefined ? undefined : {
  serialize: (await import(path.resolve(baseDir, "src/wire/serialize.ts"))).serializeExchange as Serialize,
  render: (await import(path.resolve(baseDir, "src/redact/body.ts"))).renderBody as Render,
  cfg: ((await import(path.resolve(baseDir, "src/config/options.ts"))).resolveOptions as typeof resolveOptions)(OPTIONS),
};
const typeOf = (c: Case, side: "request" | "response"): string => (side === "request" ? "application/json" : resType(c));
const paths = (side: "request" | "response") => rules[side];
const bodyRules = (side: "request" | "response") => ({ values: rules.values, named: rules.named?.[side], tally });

// Precomputed inputs of each stage (what the stage before it would hand over).
const flat = new Map<Case, Buffer[]>(CASES.map((c) => [c, c.bodies.map((b) => bodyBytes(b.body))]));
const redacted = new Map<Case, Buffer[]>(CASES.map((c) => [c, c.bodies.map((b, k) => (isJson(c) ? paths(b.side).redactBytes!(flat.get(c)![k]!) : flat.get(c)![k]!) ?? Buffer.alloc(0))]));
/** The spans the redaction replaces in each body, and the spliced bodies. */
const cuts = new Map<Case, number[][]>(CASES.map((c) => [c, c.bodies.map((b, k) => {
  const spans: number[] = [];
  if (isJson(c)) paths(b.side).redactBytes!(flat.get(c)![k]!, spans);
  return spans;
})]));
const MARKER = Buffer.from('"[CLIENT_REDACTED]"');
const spliced = redacted;
const rendered = new Map<Case, Buffer[]>(CASES.map((c) => [c, c.bodies.map((b) => renderBody(b.body, typeOf(c, b.side), undefined, paths(b.side), cfg.maxBodyBytes, bodyRules(b.side)))]));
const b64 = new Map<Case, string[]>(CASES.map((c) => [c, rendered.get(c)!.map((r) => r.toString("base64"))]));
const scratchBuf = Buffer.allocUnsafe(256 * 1024);
/** serializeExchange's `alloc` as delivery hands it over (src/delivery/arena.ts: messages written into reused 1 MiB pages). */
const page = Buffer.allocUnsafeSlow(1024 * 1024);
let pageUsed = 0;
const pageAlloc = (n: number): Buffer => {
  if (pageUsed + n > page.length) pageUsed = 0;
  const out = page.subarray(pageUsed, pageUsed + n);
  pageUsed += n;
  return out;
};
const HEAD = '{"project_id":"00000000-0000-0000-0000-000000000000","msg_id":"7d3c4a5e-0b1f-4e2a-9c6d-1a2b3c4d5e6f","timestamp":"2026-12-07T17:00:00.000Z","duration":123456,"sdk_type":"JsExpress","method":"GET","host":"127.0.0.1:3000","raw_url":"/items","request_body":"';

/** Stages that only a JSON body has. */
const JSON_ONLY = new Set(["scan", "scan (wasm)", "redact", "splice", "splice (JS)", "JSON.parse"]);
const STAGES: Array<[string, Stage]> = [
  ["copy", (c) => withScratch(() => c.bodies.map((b) => bodyBytes(b.body).length))],
  ["copy (fresh)", (c) => c.bodies.map((b) => Buffer.concat(b.body.chunks, b.body.keptBytes))],
  ["scan", (c) => flat.get(c)!.map((b) => isJsonBytes(b))],
  ["scan (wasm)", (c) => flat.get(c)!.map((b) => isJsonWasm(b))],
  ["redact", (c) => c.bodies.map((b, k) => paths(b.side).redactBytes!(flat.get(c)![k]!, { offsets: [] }))],
  ["splice", (c) => c.bodies.map((_, k) => spliceWasm(flat.get(c)![k]!, cuts.get(c)![k]!, MARKER, spliced.get(c)![k]!.length))],
  ["splice (JS)", (c) => c.bodies.map((_, k) => spliceJs(flat.get(c)![k]!, cuts.get(c)![k]!, spliced.get(c)![k]!.length))],
  ["detectors", (c) => redacted.get(c)!.map((r) => mayMatchDetectors(r, rules.values!.prefilter) ?? rules.values!.mayMatch(r.toString("utf8")))],
  ["detectors (text)", (c) => redacted.get(c)!.map((r) => rules.values!.mayMatch(r.toString("utf8")))],
  ["render", (c) => c.bodies.map((b) => renderBody(b.body, typeOf(c, b.side), undefined, paths(b.side), cfg.maxBodyBytes, bodyRules(b.side)))],
  ...(base === undefined ? [] : [["render (base)", (c: Case) => c.bodies.map((b) => base.render(b.body, typeOf(c, b.side), undefined, base.cfg.redaction[b.side], cfg.maxBodyBytes, { values: base.cfg.redaction.values, named: base.cfg.redaction.named?.[b.side], tally }))]] as Array<[string, Stage]>),
  ["base64", (c) => rendered.get(c)!.map((r) => r.toString("base64"))],
  ["frame", (c) => {
    const parts = b64.get(c)!;
    const out = Buffer.allocUnsafe(HEAD.length + parts.reduce((n, p) => n + p.length + 20, 0));
    let at = out.write(HEAD, 0, "utf8");
    for (const p of parts) at += out.write(p, at, "latin1");
    return out;
  }],
  ["serialize", (c) => serializeExchange(c.ex, cfg, rules, tally)],
  ["serialize (pages)", (c) => serializeExchange(c.ex, cfg, rules, tally, undefined, pageAlloc)],
  ...(base === undefined ? [] : [["serialize (base)", (c: Case) => base.serialize(c.ex, base.cfg, base.cfg.redaction, tally)]] as Array<[string, Stage]>),
  ["memcpy", (c) => flat.get(c)!.map((b) => b.copy(scratchBuf, 0))],
  ["new Buffer", (c) => flat.get(c)!.map((b) => Buffer.allocUnsafe(b.length).fill(1).length)],
  ["indexOf", (c) => flat.get(c)!.map((b) => b.indexOf(0))],
  ["b64 only", (c) => flat.get(c)!.map((b) => b.toString("base64"))],
  ["JSON.parse", (c) => flat.get(c)!.map((b) => JSON.parse(b.toString("utf8")) as unknown)],
];

/** `--stages=serialize,render`: only these stages (all by default). */
const only = process.argv.find((a) => a.startsWith("--stages="))?.slice(9).split(",");
if (only !== undefined) STAGES.splice(0, STAGES.length, ...STAGES.filter(([name]) => only.some((o) => name === o || name.startsWith(`${o} (`))));

const gc = (globalThis as { gc?: () => void }).gc;
let sink = 0;
/**
 * CPU ns per call of `fn` over about `ms` milliseconds of wall time. CPU time (process.cpuUsage,
 * garbage collection included), not wall time: the machine is shared, and time spent descheduled
 * is no cost of the code.
 */
function time(fn: () => unknown, ms: number): number {
  // Start each window with a clean heap: the garbage of the stage before (its concurrent marking and
  // sweeping run on other threads) is not charged to this one. (`--expose-gc`; npm run bench:body.)
  gc?.();
  let n = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(ms * 1e6));
  let now = start;
  while (now < until) {
    for (let i = 0; i < 10; i++) if (fn() !== undefined) sink++;
    n += 10;
    now = process.hrtime.bigint();
  }
  const used = process.cpuUsage(cpu);
  return ((used.user + used.system) * 1000) / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

// Check what is measured: the redaction does something, nothing fails closed.
for (const c of CASES) {
  for (const r of rendered.get(c)!) {
    if (isJson(c) && (r.length < 10 || r.toString().includes('"[CLIENT_REDACTED]"') === false)) throw new Error(`${c.name}: body not redacted as expected`);
  }
}

// Warm-up, then rounds with every variant alternated.
const runs = (c: Case, stage: string): boolean => isJson(c) || !JSON_ONLY.has(stage);
for (const c of CASES) for (const [stage, fn] of STAGES) if (runs(c, stage)) time(() => fn(c), 30);
const samples = new Map<string, number[]>();
for (let r = 0; r < ROUNDS; r++) {
  for (const c of CASES) {
    for (const [stage, fn] of STAGES) {
      if (!runs(c, stage)) continue;
      const key = `${c.name}\0${stage}`;
      const ns = time(() => fn(c), ROUND_MS / CASES.length);
      (samples.get(key) ?? samples.set(key, []).get(key)!).push(ns / c.bytes);
    }
  }
}

const heads = ["stage", ...CASES.map((c) => `${c.name} (${c.bytes.toLocaleString("en-US")} B)`)];
const rows = STAGES.map(([stage]) => [stage, ...CASES.map((c) => (runs(c, stage) ? median(samples.get(`${c.name}\0${stage}`)!).toFixed(2) : "-"))]);
const title = `Body pipeline, CPU ns per body byte, Node ${process.version}, median of ${ROUNDS} rounds (${process.arch}; sink ${sink % 7})`;
if (markdown) {
  process.stdout.write([title, "", `| ${heads.join(" | ")} |`, `|---|${CASES.map(() => "---:").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n") + "\n");
} else {
  const w = heads.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (cells: string[]): string => cells.map((s, k) => (k === 0 ? s.padEnd(w[k]!) : s.padStart(w[k]!))).join("  ");
  process.stdout.write([title, line(heads), ...rows.map(line)].join("\n") + "\n");
}

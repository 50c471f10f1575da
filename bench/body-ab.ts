/**
 * serializeExchange (into a new Buffer, and into reused pages through `alloc` as delivery has it
 * written: "pages") and renderBody of this checkout against another one's, in one process,
 * alternated round by round (A B B A ...), medians of rounds, CPU ns per body byte: the same-run A/B
 * that `npm run bench:body -- --base=DIR` also gives, with longer windows and no forced collection
 * between them (steadier on a loaded machine for a before/after of the body pipeline).
 *
 *   ROUNDS=21 node --import tsx bench/body-ab.ts DIR_A DIR_B     # e.g. a `git worktree add` of the base, node_modules linked
 */
import path from "node:path";
import { jsonArray, jsonObject } from "./app.js";
const dirs = process.argv.slice(2).map((d) => path.resolve(d));
const OPT = { apiKey: "k", redactHeaders: ["Authorization"], redactRequestBody: ["$.password"], redactResponseBody: ["$.password", "$[*].secret"] };
const mods = await Promise.all(dirs.map(async (d) => { const cfg = (await import(d + "/src/config/options.ts")).resolveOptions(OPT); return { d: d.split("/").pop(), ser: (await import(d + "/src/wire/serialize.ts")).serializeExchange, render: (await import(d + "/src/redact/body.ts")).renderBody, cfg }; }));
function arrayOf(bytes: number): Buffer { const items = jsonArray(bytes); while (Buffer.byteLength(JSON.stringify(items)) > bytes) items.pop(); return Buffer.from(JSON.stringify(items)); }
const cap = (b: Buffer) => { const chunks = []; for (let i = 0; i < b.length; i += 16384) chunks.push(b.subarray(i, i + 16384)); return { chunks, keptBytes: b.length, totalBytes: b.length }; };
const ex = (req: Buffer | undefined, res: Buffer) => ({ sdkType: "JsExpress", msgId: "7d3c4a5e-0b1f-4e2a-9c6d-1a2b3c4d5e6f", startEpochMs: Date.now(), durationNs: 123456, method: req ? "POST" : "GET", host: "127.0.0.1:3000",
  rawUrl: "/items", urlPath: "/items", pathParams: {}, protoMajor: 1, protoMinor: 1, statusCode: 200,
  requestHeaders: ["Host", "127.0.0.1:3000", "Authorization", "Bearer abc", "User-Agent", "autocannon", ...(req ? ["Content-Type", "application/json"] : [])],
  responseHeaders: { "content-type": "application/json; charset=utf-8", "content-length": String(res.length) },
  requestBody: req ? cap(req) : { chunks: [], keptBytes: 0, totalBytes: 0 }, responseBody: cap(res), errors: [] });
const echo = Buffer.from(JSON.stringify(jsonObject(1024)));
const cases = { "20 KB": ex(undefined, arrayOf(20480)), "64 KiB": ex(undefined, arrayOf(65536)), "1 KB echo": ex(echo, echo) };
const tally = (_r: string, _n: number): void => {};
/** serializeExchange's `alloc` as delivery hands it over: reused 1 MiB pages (src/delivery/arena.ts). */
const page = Buffer.allocUnsafeSlow(1024 * 1024);
let pageUsed = 0;
const alloc = (n: number): Buffer => { if (pageUsed + n > page.length) pageUsed = 0; const o = page.subarray(pageUsed, pageUsed + n); pageUsed += n; return o; };
const STAGES = ["serialize", "pages", "render"];
const res = new Map<string, number[]>();
const ROUNDS = Number(process.env.ROUNDS ?? 11);
for (let r = 0; r < ROUNDS; r++) for (const [name, e] of Object.entries(cases)) {
  const bytes = e.requestBody.keptBytes + e.responseBody.keptBytes;
  for (const m of (r % 2 ? mods : [...mods].reverse())) for (const stage of STAGES) {
    const N = Math.ceil(3e6 / bytes) * 4;
    const f = stage === "serialize" ? () => m.ser(e, m.cfg, m.cfg.redaction, tally) : stage === "pages" ? () => m.ser(e, m.cfg, m.cfg.redaction, tally, undefined, alloc) : () => m.render(e.responseBody, "application/json; charset=utf-8", undefined, m.cfg.redaction.response, m.cfg.maxBodyBytes, { values: m.cfg.redaction.values, named: m.cfg.redaction.named?.response, tally });
    const t = process.cpuUsage(); for (let i = 0; i < N; i++) f(); const u = process.cpuUsage(t);
    const k = `${name}\t${stage}\t${m.d}`; (res.get(k) ?? res.set(k, []).get(k)!).push((u.user + u.system) * 1000 / N / (stage === "render" ? e.responseBody.keptBytes : bytes));
  }
}
const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
console.log(`Node ${process.version}, ${ROUNDS} rounds alternated, CPU ns per body byte (medians); ratio = ${mods[1]?.d} / ${mods[0]?.d}`);
for (const name of Object.keys(cases)) for (const stage of STAGES) {
  const a = med(res.get(`${name}\t${stage}\t${mods[0]!.d}`)!), b = mods[1] ? med(res.get(`${name}\t${stage}\t${mods[1].d}`)!) : NaN;
  console.log(`${name.padEnd(10)} ${stage.padEnd(10)} ${mods[0]!.d} ${a.toFixed(2)}  ${mods[1]?.d} ${b.toFixed(2)}  ratio ${(b / a).toFixed(2)}`);
}

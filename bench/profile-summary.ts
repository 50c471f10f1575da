// Summarize a .cpuprofile (from `npm run bench -- --profile`): self time by function and by file.
// Usage: node --import tsx bench/profile-summary.ts .tmp/prof/pinned/node24/express4/sdk.cpuprofile [top=25] [filter]
import { readFileSync } from "node:fs";

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const file = process.argv[2]!;
const top = Number(process.argv[3] ?? 25);
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const short = n.callFrame.url.replace(/^.*node_modules\//, "nm:").replace(/^file:\/\/.*\/(src|bench)\//, "$1/");
  const key = `${n.callFrame.functionName || "(anon)"} ${short}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const f = short.startsWith("nm:") ? short.split("/").slice(0, short.startsWith("nm:@") ? 2 : 1).join("/") : short || n.callFrame.functionName;
  files.set(f, (files.get(f) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`total sampled ${(total / 1e6).toFixed(2)} s`);
console.log("\n-- self time by function --");
for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
console.log("\n-- self time by file/package --");
for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);

// Inclusive time: samples whose stack contains the function (counted once per sample).
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyOf = (n: Node) => {
  const short = n.callFrame.url.replace(/^.*node_modules\//, "nm:").replace(/^file:\/\/.*\/(src|bench)\//, "$1/");
  return `${n.callFrame.functionName || "(anon)"} ${short}:${n.callFrame.lineNumber + 1}`;
};
const incl = new Map<string, number>();
for (const [id, us] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = keyOf(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + us);
  }
}
const filter = process.argv[4];
console.log(`\n-- inclusive time${filter ? ` (matching ${filter})` : ""} --`);
for (const [k, us] of [...incl].filter(([k]) => !filter || k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);

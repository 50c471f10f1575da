/**
 * Micro-benchmark: JSON body redaction by parse + walk + stringify (the document path) against the
 * byte-level redactor (`src/jsonpath/stream.ts`: one validating scan of the text, unchanged spans
 * copied), each as `redactJsonText` in src/redact/body.ts runs it (including `mayMatch` and the
 * final `Buffer.from`).
 *
 *   npx tsc bench/redact-stream.ts --outDir .tmp/stream-bench --rootDir . --module nodenext \
 *     --moduleResolution nodenext --target es2022 --skipLibCheck --types node
 *   node .tmp/stream-bench/bench/redact-stream.js [--rounds=41] [--trial-ms=25]
 *
 * (or `node --import tsx bench/redact-stream.ts`, which adds tsx's overhead to both sides.)
 *
 * CPU time per operation from process.cpuUsage (user + system), so time the process spends
 * descheduled on a busy machine is not counted. The variants alternate trial by trial (their
 * order flips every round); the figures are medians over the rounds, and the ratio is the median
 * of the per-round ratios.
 */
import { compilePaths, type CompiledPaths } from "../src/jsonpath/index.js";

interface Case {
  readonly label: string;
  readonly paths: readonly string[];
  readonly text: string;
}

/** 100 records, ~20 KB: `$[*].secret`. */
function arrayOfRecords(): string {
  const items: unknown[] = [];
  for (let i = 0; i < 100; i++) {
    items.push({
      id: i,
      name: `user ${i}`,
      email: `user${i}@example.com`,
      secret: `s3cr3t-${i}-${"x".repeat(8)}`,
      card: { number: "4111111111111111", expiry: "12/30" },
      tags: ["alpha", "beta", `t${i % 7}`],
      active: i % 2 === 0,
      score: i * 1.5,
      created: "2026-12-01T10:00:00.000Z",
    });
  }
  return JSON.stringify(items);
}

/** A ~1 KB login-like object: `$.password`. */
function smallObject(): string {
  return JSON.stringify({
    username: "ann@example.com",
    password: "hunter2hunter2",
    remember: true,
    device: { id: "d-1234567890", os: "linux", version: "24.04", agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" },
    scopes: ["read", "write", "admin", "billing", "reports"],
    profile: { first: "Ann", last: "Example", locale: "en-GB", timezone: "Europe/London", phone: "+44 20 7946 0000" },
    meta: { requestId: "6f1c2a9e-3b7d-4e8f-9a0b-1c2d3e4f5a6b", ts: 1764583200000, retries: 0, note: "x".repeat(500) },
  });
}

/** A ~64 KB nested document (objects in arrays in objects, `token` members at several depths): `$..token`. */
function nestedDocument(): string {
  const org = (o: number): unknown => ({
    id: `org-${o}`,
    token: `org-token-${o}`,
    teams: Array.from({ length: 4 }, (_, t) => ({
      name: `team ${o}.${t}`,
      settings: { visibility: "private", token: `team-token-${o}-${t}`, limits: { seats: 10 + t, storage: 1024 * t } },
      members: Array.from({ length: 5 }, (_, m) => ({
        id: o * 100 + t * 10 + m,
        email: `m${m}@team${t}.example.com`,
        roles: ["member", m === 0 ? "owner" : "viewer"],
        session: { token: `sess-${o}-${t}-${m}`, expires: "2026-12-31T00:00:00Z", ip: "10.0.0.1" },
      })),
    })),
  });
  const orgs: unknown[] = [];
  while (JSON.stringify({ orgs }).length < 64 * 1024) orgs.push(org(orgs.length));
  return JSON.stringify({ page: 1, orgs });
}

/** What body.ts does today: parse, then (when a path may match) walk + stringify, then the bytes. */
function documentPath(paths: CompiledPaths, text: string): Buffer | undefined {
  const doc: unknown = JSON.parse(text);
  if (!paths.mayMatch(text)) return undefined;
  return Buffer.from(JSON.stringify(paths.redact(doc)));
}

/** The byte-level redactor, as body.ts runs it (on the body's bytes: `text` is their decoding). */
function bytePath(paths: CompiledPaths, bytes: Buffer): Buffer | undefined {
  const out = paths.redactBytes!(bytes);
  if (out === null) throw new Error("invalid");
  return out === bytes ? undefined : out;
}

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : Number(hit.slice(name.length + 3));
}

const ROUNDS = arg("rounds", 41);
const TRIAL_MS = arg("trial-ms", 25);

/** CPU microseconds per call of `fn`, over a trial of about TRIAL_MS of CPU. */
function trial(fn: () => unknown, iterations: number): number {
  const start = process.cpuUsage();
  for (let k = 0; k < iterations; k++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function run(c: Case): void {
  const paths = compilePaths(c.paths);
  if (paths.redactBytes === undefined) throw new Error(`${c.label}: no byte-level redactor for these paths`);
  const bytes = Buffer.from(c.text);
  // Same document out (sanity check).
  const a = documentPath(paths, c.text)?.toString() ?? c.text;
  const b = bytePath(paths, bytes)?.toString() ?? c.text;
  if (JSON.stringify(JSON.parse(a)) !== JSON.stringify(JSON.parse(b))) throw new Error(`${c.label}: the two paths disagree`);
  const variants: Array<[string, () => unknown]> = [
    ["parse only", () => JSON.parse(c.text)],
    ["parse+walk+stringify", () => documentPath(paths, c.text)],
    ["byte-level", () => bytePath(paths, bytes)],
  ];
  // Warm up, and size the trials.
  const iterations = variants.map(([, fn]) => {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 300) {
      fn();
      n++;
    }
    return Math.max(1, Math.round((n / 300) * TRIAL_MS));
  });
  const times: number[][] = variants.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
    for (const v of order) times[v]!.push(trial(variants[v]![1], iterations[v]!));
  }
  const ratios = times[2]!.map((t, r) => t / times[1]![r]!);
  console.log(`\n${c.label}: ${c.paths.join(", ")} on ${c.text.length} bytes (${ROUNDS} rounds, ~${TRIAL_MS} ms each)`);
  for (let v = 0; v < variants.length; v++) {
    const sorted = [...times[v]!].sort((x, y) => x - y);
    const q1 = sorted[Math.floor(sorted.length / 4)]!;
    const q3 = sorted[Math.floor((sorted.length * 3) / 4)]!;
    console.log(`  ${variants[v]![0].padEnd(22)} ${median(times[v]!).toFixed(1).padStart(8)} us   (quartiles ${q1.toFixed(1)}-${q3.toFixed(1)})`);
  }
  console.log(`  byte-level / parse+walk+stringify: ${median(ratios).toFixed(2)} (median of per-round ratios)`);
}

console.log(`node ${process.version}, ${process.arch}`);
run({ label: "20 KB array of 100 records", paths: ["$[*].secret"], text: arrayOfRecords() });
run({ label: "1 KB object", paths: ["$.password"], text: smallObject() });
run({ label: "64 KB nested document", paths: ["$..token"], text: nestedDocument() });
// Also (not in the brief's three): the same records pretty-printed, and a body no rule can match
// (today: JSON.parse only, as mayMatch clears it; bytes: the validating scan only).
run({ label: "20 KB array, pretty-printed", paths: ["$[*].secret"], text: JSON.stringify(JSON.parse(arrayOfRecords()), null, 2) });
run({ label: "20 KB array, no rule can match", paths: ["$.password"], text: arrayOfRecords() });

/**
 * Micro-benchmark: the compiled JSONPath redaction matcher vs json-p3 query + replace.
 *
 *   node --import tsx bench/redact-micro.ts
 *
 * Both sides get a freshly JSON.parse'd ~20 KB array each iteration (redaction is in place), so
 * the parse cost is measured separately and subtracted to show the matching + replacing cost.
 */
import { JSONPathEnvironment, type JSONPathQuery, type JSONValue } from "json-p3";
import { REDACTED } from "../src/registry/marker.js";
import { compilePaths } from "../src/jsonpath/index.js";

const PATHS = ["$[*].secret", "$.password", "$..cvv"];

/** A JSON array of realistic-looking records, about `bytes` long. */
function makeBody(bytes: number): string {
  const items: unknown[] = [];
  for (let i = 0; JSON.stringify(items).length < bytes; i++) {
    items.push({
      id: i,
      name: `user ${i}`,
      email: `user${i}@example.com`,
      secret: `s3cr3t-${i}`,
      card: { number: "4111111111111111", cvv: String(100 + (i % 900)), expiry: "12/30" },
      tags: ["a", "b", `t${i % 7}`],
      address: { street: `${i} Main St`, city: "Springfield", zip: "12345" },
    });
  }
  return JSON.stringify(items);
}

/** The json-p3 way: run each query, then replace every node it found through its location. */
function json3Redactor(paths: readonly string[]): (doc: unknown) => unknown {
  const env = new JSONPathEnvironment({ maxRecursionDepth: 256 });
  const queries: JSONPathQuery[] = paths.map((p) => env.compile(p));
  return (doc) => {
    const locations = queries.flatMap((q) => q.query(doc as JSONValue).locations());
    for (const location of locations) {
      if (location.length === 0) return REDACTED;
      let parent = doc as Record<string | number, unknown>;
      for (const key of location.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
      parent[location[location.length - 1]!] = REDACTED;
    }
    return doc;
  };
}

/** Operations per second of `fn`, after a warm-up, over about `ms` milliseconds. */
function opsPerSecond(fn: () => unknown, ms = 1500): number {
  for (let i = 0; i < 200; i++) fn();
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 50; i++) fn();
    ops += 50;
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

function fmt(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 0 }).padStart(9);
}

function run(label: string, paths: readonly string[], body: string): void {
  const ours = compilePaths(paths);
  const theirs = json3Redactor(paths);
  // Same output on this body (sanity check).
  if (JSON.stringify(ours.redact(JSON.parse(body))) !== JSON.stringify(theirs(JSON.parse(body)))) {
    throw new Error("the two redactors disagree");
  }
  const parse = opsPerSecond(() => JSON.parse(body));
  const a = opsPerSecond(() => ours.redact(JSON.parse(body)));
  const b = opsPerSecond(() => theirs(JSON.parse(body)));
  const netUs = (ops: number): number => 1e6 / ops - 1e6 / parse;
  console.log(`\n${label} (${paths.length} paths, body ${body.length} bytes)`);
  console.log(`  JSON.parse only              ${fmt(parse)} ops/s`);
  console.log(`  parse + compiled matcher     ${fmt(a)} ops/s   (${netUs(a).toFixed(1)} µs net of parse)`);
  console.log(`  parse + json-p3 query+replace${fmt(b)} ops/s   (${netUs(b).toFixed(1)} µs net of parse)`);
  console.log(`  ratio: ${(a / b).toFixed(2)}x end to end, ${(netUs(b) / netUs(a)).toFixed(1)}x on matching + replacing`);
}

const body = makeBody(20 * 1024);
console.log(`node ${process.version}`);
run("paths $[*].secret, $.password, $..cvv", PATHS, body);
const many = [...PATHS, ...Array.from({ length: 17 }, (_, i) => (i % 2 === 0 ? `$..field${i}` : `$[*].other${i}`))];
run("same plus 17 more paths (cost should not multiply)", many, body);

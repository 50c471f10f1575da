// The README is the first thing a user runs code from: its tables must render and its examples
// must say what the code does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

const readme = readFileSync(path.resolve(import.meta.dirname, "../../README.md"), "utf8");
const lines = readme.split("\n");

test("every README table is one block: a header row, its separator, then rows", () => {
  for (let i = 0; i < lines.length; i++) {
    const starts = lines[i]!.startsWith("|") && !lines[i - 1]?.startsWith("|");
    if (!starts) continue;
    assert.match(lines[i + 1] ?? "", /^\|(\s*:?-+:?\s*\|)+\s*$/, `README line ${i + 1} starts a table without a separator row below it (a blank line split a table?): ${lines[i]}`);
    const cols = lines[i]!.split("|").length;
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith("|"); j++) {
      assert.equal(lines[j]!.replace(/\\\|/g, "").replace(/`[^`]*`/g, "").split("|").length, cols, `README line ${j + 1} has a different number of cells than its header`);
    }
  }
});

test("the App Router example's route option names the file it sits in", () => {
  const at = lines.findIndex((l) => /App Router: app\/.*\/route\.ts/.test(l));
  assert.ok(at >= 0, "the README shows an App Router example");
  const file = /App Router: app(\/.*)\/route\.ts/.exec(lines[at]!)![1]!;
  const option = lines.slice(at, at + 6).join("\n").match(/route: "([^"]+)"/);
  assert.ok(option, "the example passes a route option");
  assert.equal(option[1], file);
});

// Every option and every stats() field is in the README, as the source declares them today: the
// lists are read from the source (the option interfaces, parsed; the stats object newStats() makes),
// so an option or a counter added without documentation fails here.
const source = (file: string) => readFileSync(path.resolve(import.meta.dirname, "../../src", file), "utf8");

/** The member names of `export interface <name> { ... }` in a source file (its top-level members only). */
function membersOf(file: string, name: string): string[] {
  const text = source(file);
  const start = text.indexOf(`export interface ${name} {`);
  assert.ok(start >= 0, `src/${file} declares ${name}`);
  const body = text.slice(start, text.indexOf("\n}", start));
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!);
}

test("every option of APIToolkitOptions has a row in the README's options table", () => {
  const options = membersOf("config/options.ts", "APIToolkitOptions");
  assert.ok(options.length >= 25 && options.includes("apiKey") && options.includes("otlp"), `parsed ${options.join(", ")}`);
  const rows = new Set(lines.filter((l) => l.startsWith("| `")).map((l) => /^\| `([^`]+)`/.exec(l)![1]));
  const missing = options.filter((o) => !rows.has(o));
  assert.deepEqual(missing, [], `options without a README row: ${missing.join(", ")}`);
});

test("every nested option (otlp, viewer, outgoing) is named in the README (outgoing: or docs/outgoing.md)", async () => {
  const { OTLP_OPTION_KEYS } = await import("../../src/transport/otlp/options.js");
  const otlp = membersOf("transport/otlp/options.ts", "OtlpOptions");
  assert.deepEqual([...otlp].sort(), [...OTLP_OPTION_KEYS].sort(), "the interface and the keys the validation accepts agree");
  const missing = otlp.filter((k) => !readme.includes(`\`otlp.${k}\``));
  assert.deepEqual(missing, [], `otlp options not in the README: ${missing.join(", ")}`);
  const viewer = membersOf("config/viewer.ts", "ViewerOptions");
  assert.ok(viewer.length >= 3);
  const viewerRow = lines.find((l) => l.startsWith("| `viewer` |"))!;
  assert.deepEqual(viewer.filter((k) => !viewerRow.includes(k)), [], "viewer options in the viewer row");
  const outgoingDoc = readFileSync(path.resolve(import.meta.dirname, "../../docs/outgoing.md"), "utf8");
  const outgoing = membersOf("config/outgoing.ts", "OutgoingOptions");
  assert.ok(outgoing.length >= 5);
  assert.deepEqual(outgoing.filter((k) => !outgoingDoc.includes(k)), [], "outgoing options in docs/outgoing.md, which the README links");
});

test("every stats() field, and every drop reason, is in the README and docs/delivery.md", async () => {
  const { newStats } = await import("../../src/delivery/stats.js");
  const stats = newStats();
  const fields = Object.keys(stats);
  assert.ok(fields.length >= 11 && fields.includes("redactions"));
  const delivery = readFileSync(path.resolve(import.meta.dirname, "../../docs/delivery.md"), "utf8");
  for (const [name, text] of [["README", readme], ["docs/delivery.md", delivery]] as const) {
    assert.deepEqual(fields.filter((f) => !text.includes(`\`${f}\``) && !new RegExp(`[{ ,]${f}[,} ]`).test(text)), [], `stats() fields missing from ${name}`);
    assert.deepEqual(Object.keys(stats.dropped).filter((r) => !text.includes(`\`${r}\``) && !new RegExp(`[{ ,]${r}[,} ]`).test(text)), [], `drop reasons missing from ${name}`);
  }
});

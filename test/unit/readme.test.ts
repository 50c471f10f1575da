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

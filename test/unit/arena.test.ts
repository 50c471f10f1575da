// The queue's reused message memory (src/delivery/arena.ts): a held message keeps its bytes until
// released, whatever is held and released around it; released pages are written again.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Arena } from "../../src/delivery/arena.js";

test("a held message keeps its bytes until released, over any sequence of holds and releases", () => {
  fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: 1, max: 300_000 }), fc.constant(-1)), { maxLength: 200 }), (ops) => {
    const arena = new Arena();
    const live: Array<{ copy: Buffer; fill: number }> = [];
    let n = 0;
    for (const op of ops) {
      if (op < 0) {
        const m = live.splice(n++ % Math.max(1, live.length), 1)[0];
        if (m) arena.release(m.copy);
      } else {
        const fill = n++ & 255;
        const copy = arena.hold(Buffer.alloc(op, fill));
        assert.equal(copy.length, op);
        live.push({ copy, fill });
      }
      for (const m of live) assert.ok(m.copy.every((b) => b === m.fill), "a live message was written over");
    }
  }), { numRuns: 60 });
});

test("released memory is reused: a steady queue stays in the same pages", () => {
  const arena = new Arena();
  const first = arena.hold(Buffer.alloc(28_000, 1));
  const pageMemory = first.buffer;
  arena.release(first);
  for (let i = 0; i < 1000; i++) {
    const m = arena.hold(Buffer.alloc(28_000, i & 255));
    assert.equal(m.buffer, pageMemory, `message ${i} in the same page`);
    assert.ok(m.every((b) => b === (i & 255)));
    arena.release(m);
  }
  const big = Buffer.alloc(600_000, 9);
  assert.equal(arena.hold(big), big, "too large to copy: kept as it is");
});

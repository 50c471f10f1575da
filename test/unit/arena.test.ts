// The queue's reused message memory (src/delivery/arena.ts) and its index (src/delivery/queue.ts):
// a held message keeps its bytes until released, whatever is held and released around it; released
// pages are written again; the queue gives back every message, intact and in order, over any
// sequence of pushes, batches taken, batches put back (retries) and batches settled.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Arena, MAX_COPIED } from "../../src/delivery/arena.js";
import { MessageQueue, type Batch } from "../../src/delivery/queue.js";

test("a held (or reserved and written) message keeps its bytes until released, over any sequence of holds, reservations and releases", () => {
  fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: 1, max: 300_000 }), fc.constant(-1)), { maxLength: 200 }), (ops) => {
    const arena = new Arena();
    const live: Array<{ loc: number; length: number; fill: number; own?: Buffer }> = [];
    let n = 0;
    for (const op of ops) {
      if (op < 0) {
        const m = live.splice(n++ % Math.max(1, live.length), 1)[0];
        if (m) arena.release(m.loc);
      } else {
        const fill = n++ & 255;
        if (fill % 3 === 0 && op <= MAX_COPIED) { // written in place, as delivery's alloc for serializeExchange does
          const loc = arena.reserve(op);
          arena.view(loc, op).fill(fill);
          live.push({ loc, length: op, fill });
          continue;
        }
        const data = Buffer.alloc(op, fill);
        const loc = arena.hold(data);
        assert.equal(loc < 0, op > MAX_COPIED, "copied unless too large");
        live.push({ loc, length: op, fill, own: loc < 0 ? data : undefined });
      }
      for (const m of live) {
        const bytes = m.own ?? arena.view(m.loc, m.length);
        assert.equal(bytes.length, m.length);
        assert.ok(bytes.every((b) => b === m.fill), "a live message was written over");
      }
    }
    arena.clear();
  }), { numRuns: 60 });
});

test("released memory is reused: a steady queue stays in the same pages", () => {
  const arena = new Arena();
  const first = arena.hold(Buffer.alloc(28_000, 1));
  const pageMemory = arena.view(first, 28_000).buffer;
  arena.release(first);
  for (let i = 0; i < 1000; i++) {
    const loc = arena.hold(Buffer.alloc(28_000, i & 255));
    const m = arena.view(loc, 28_000);
    assert.equal(m.buffer, pageMemory, `message ${i} in the same page`);
    assert.ok(m.every((b) => b === (i & 255)));
    arena.release(loc);
  }
  assert.equal(arena.pageCount(), 1);
  assert.equal(arena.hold(Buffer.alloc(600_000, 9)), -1, "too large to copy: the caller keeps it");
  arena.clear();
});

test("the queue hands every message out intact and in order, across retries, and never writes over a queued one", () => {
  // Ops: push a message of n bytes; take a batch of up to k; put the oldest taken batch back in
  // front (a transient failure); settle the oldest taken batch (published).
  const op = fc.oneof(
    fc.record({ push: fc.integer({ min: 1, max: 400_000 }) }),
    fc.record({ take: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ back: fc.constant(true) }),
    fc.record({ settle: fc.constant(true) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
    const arena = new Arena();
    const queue = new MessageQueue();
    const fillOf = (id: number) => (id * 7 + 3) & 255;
    const lengthOf = new Map<number, number>();
    const bytesOf = (loc: number, len: number, own: Buffer | undefined) => own ?? arena.view(loc, len);
    const check = (loc: number, len: number, id: number, own: Buffer | undefined) => {
      assert.equal(len, lengthOf.get(id));
      const b = bytesOf(loc, len, own);
      assert.equal(b.length, len);
      assert.ok(b.every((x) => x === fillOf(id)), `message ${id} was written over`);
    };
    const taken: Batch[] = [];
    let nextId = 0;
    let delivered = 0;
    for (const o of ops) {
      if ("push" in o) {
        const id = nextId++;
        const data = Buffer.alloc(o.push, fillOf(id));
        const loc = arena.hold(data);
        lengthOf.set(id, o.push);
        queue.push(loc, o.push, id, loc < 0 ? data : undefined);
      } else if ("take" in o) {
        if (!queue.size) continue;
        const b = queue.take(Math.min(o.take, queue.size));
        for (let i = 1; i < b.size; i++) assert.ok(b.id[i]! > b.id[i - 1]!, "in order");
        taken.push(b);
      } else if ("back" in o) {
        const b = taken.shift();
        if (b) queue.unshift(b);
      } else {
        const b = taken.shift();
        if (!b) continue;
        for (let i = 0; i < b.size; i++) {
          check(b.loc[i]!, b.len[i]!, b.id[i]!, b.own[i]);
          lengthOf.delete(b.id[i]!);
          arena.release(b.loc[i]!);
          delivered++;
        }
      }
      // Every message still queued or in flight is intact.
      for (let i = 0; i < queue.size; i++) check(queue.locAt(i), queue.lengthAt(i), queue.idAt(i), queue.ownAt(i));
      for (const b of taken) for (let i = 0; i < b.size; i++) check(b.loc[i]!, b.len[i]!, b.id[i]!, b.own[i]);
    }
    // Drain: everything pushed is delivered exactly once.
    for (const b of taken) queue.unshift(b);
    const rest = queue.clear();
    const ids = new Set<number>();
    for (let i = 0; i < rest.size; i++) {
      check(rest.loc[i]!, rest.len[i]!, rest.id[i]!, rest.own[i]);
      ids.add(rest.id[i]!);
    }
    assert.equal(ids.size, rest.size, "no message twice");
    assert.equal(delivered + rest.size, nextId, "every message arrives");
    arena.clear();
  }), { numRuns: 80 });
});

// Delivery counter child: pulls the subscriptions it is told to `watch`, acks everything, and
// counts unique msg_ids per subscription (redeliveries are not counted twice). Paused while the
// bench measures (so it takes no CPU from the load generator); what arrived meanwhile is pulled
// and counted when it resumes, between runs.
import { PubSub, type Subscription } from "@google-cloud/pubsub";
import { answer } from "./lib.js";

const pubsub = new PubSub({ projectId: process.env.BENCH_PROJECT! });
const KEY = Buffer.from('"msg_id":"');

interface Watched { sub: Subscription; ids: Set<string>; duplicates: number }
const watched = new Map<string, Watched>();
let paused = true;

function watch(name: string): void {
  const sub = pubsub.subscription(name, { flowControl: { maxMessages: 20_000, allowExcessMessages: true }, batching: { maxMessages: 5000, maxMilliseconds: 50 } });
  const w: Watched = { sub, ids: new Set(), duplicates: 0 };
  sub.on("message", (m: { data: Buffer; ack(): void }) => {
    m.ack();
    const at = m.data.lastIndexOf(KEY);
    const id = at < 0 ? `?${w.ids.size}` : m.data.subarray(at + KEY.length, at + KEY.length + 36).toString("latin1");
    if (w.ids.has(id)) w.duplicates++;
    else w.ids.add(id);
  });
  sub.on("error", (err: Error) => process.stderr.write(`counter ${name}: ${err.message}\n`));
  if (paused) void sub.close();
  watched.set(name, w);
}

const counts = () => Object.fromEntries([...watched].map(([name, w]) => [name, { count: w.ids.size, duplicates: w.duplicates }]));

answer(async (op, arg) => {
  if (op === "watch") watch(String(arg));
  else if (op === "unwatch") {
    await watched.get(String(arg))?.sub.close();
    watched.delete(String(arg));
  } else if (op === "pause") {
    paused = true;
    await Promise.all([...watched.values()].map((w) => w.sub.close()));
  } else if (op === "resume") {
    paused = false;
    for (const w of watched.values()) w.sub.open();
  } else if (op === "close") {
    await Promise.all([...watched.values()].map((w) => w.sub.close()));
    await pubsub.close();
    setImmediate(() => process.disconnect?.());
  }
  return counts();
});
process.send?.({ id: 0, result: { ready: true } });

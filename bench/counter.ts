// Delivery counter child: pulls the bench topic's subscription, acks everything, and counts unique
// msg_ids (so redeliveries are not counted twice). Answers { count, duplicates } over IPC.
// Opens paused: the bench resumes it between measured runs.
import { PubSub } from "@google-cloud/pubsub";

const [project, subName] = [process.env.BENCH_PROJECT!, process.env.BENCH_SUB!];
const pubsub = new PubSub({ projectId: project });
const sub = pubsub.subscription(subName, { flowControl: { maxMessages: 20_000, allowExcessMessages: true }, batching: { maxMessages: 5000, maxMilliseconds: 50 } });
const ids = new Set<string>();
void sub.close();
let duplicates = 0;
const KEY = Buffer.from('"msg_id":"');

sub.on("message", (m: { data: Buffer; ack(): void }) => {
  m.ack();
  const at = m.data.lastIndexOf(KEY);
  const id = at < 0 ? `?${ids.size}` : m.data.subarray(at + KEY.length, at + KEY.length + 36).toString("latin1");
  if (ids.has(id)) duplicates++;
  else ids.add(id);
});
sub.on("error", (err: Error) => process.stderr.write(`counter: ${err.message}\n`));

process.on("message", (msg: { id: number; op: string }) => {
  // pause/resume: the bench stops pulling while it measures, so the subscriber takes no CPU from
  // the load generator; what arrived meanwhile is pulled (and counted) between runs.
  if (msg.op === "pause") {
    void sub.close().finally(() => process.send?.({ id: msg.id, result: { count: ids.size, duplicates } }));
    return;
  }
  if (msg.op === "resume") {
    sub.open();
    process.send?.({ id: msg.id, result: { count: ids.size, duplicates } });
    return;
  }
  if (msg.op === "close") {
    void sub.close().then(() => pubsub.close()).finally(() => {
      process.send?.({ id: msg.id, result: { count: ids.size, duplicates } });
      process.disconnect?.();
    });
    return;
  }
  process.send?.({ id: msg.id, result: { count: ids.size, duplicates } });
});
process.send?.({ id: 0, result: { ready: true } });

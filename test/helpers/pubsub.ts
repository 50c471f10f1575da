// Test-side Pub/Sub: create a fresh topic + subscription on the emulator and pull what the SDK published.
import { randomUUID } from "node:crypto";
import { PubSub, type Subscription } from "@google-cloud/pubsub";
import type { WireMessage } from "../../src/index.js";

export const TEST_PROJECT = "apitoolkit-test";

export function requireEmulator(): string {
  const host = process.env.PUBSUB_EMULATOR_HOST;
  if (!host) {
    throw new Error("PUBSUB_EMULATOR_HOST is not set: run the tests with `npm test` (it starts the Pub/Sub emulator) or start one yourself.");
  }
  return host;
}

export interface TestTopic {
  topicId: string;
  /** Pull until `count` messages arrived (or timeout), decode each as JSON; acks them. */
  pull(count: number, timeoutMs?: number): Promise<WireMessage[]>;
  /** Pull whatever arrives within `quietMs` (to prove nothing extra was published). */
  drain(quietMs?: number): Promise<WireMessage[]>;
  close(): Promise<void>;
}

export async function createTestTopic(prefix = "t"): Promise<TestTopic> {
  requireEmulator();
  // Placeholder credentials: the emulator ignores them, and they spare a GCE metadata probe.
  const pubsub = new PubSub({ projectId: TEST_PROJECT, credentials: { client_email: "test@example.com", private_key: "unused" } });
  const topicId = `${prefix}-${randomUUID().slice(0, 8)}`;
  const [topic] = await pubsub.createTopic(topicId);
  const [sub] = await topic.createSubscription(`${topicId}-sub`);
  const seen = new Set<string>();
  return {
    topicId,
    pull: (count, timeoutMs = 20_000) => pullFrom(sub, seen, count, timeoutMs),
    drain: (quietMs = 1500) => pullFrom(sub, seen, Number.MAX_SAFE_INTEGER, quietMs),
    close: async () => {
      await sub.close().catch(() => undefined);
      await pubsub.close().catch(() => undefined);
    },
  };
}

/**
 * `seen`: the Pub/Sub message ids already taken from this subscription. Pub/Sub delivers at least
 * once: a message the emulator hands out again (a subscriber stream closed between two pulls with
 * it unacked, an ack that came after its deadline) keeps its Pub/Sub id and is skipped here. A
 * message the SDK published twice gets a new id from each publish, so it still shows as two.
 */
async function pullFrom(sub: Subscription, seen: Set<string>, count: number, timeoutMs: number): Promise<WireMessage[]> {
  const out: WireMessage[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      sub.removeListener("message", onMessage);
      resolve();
    }
    function onMessage(m: { id: string; data: Buffer; ack(): void }) {
      m.ack();
      if (seen.has(m.id)) return; // redelivered by Pub/Sub, not published again
      seen.add(m.id);
      out.push(JSON.parse(m.data.toString("utf8")) as WireMessage);
      if (out.length >= count) done();
    }
    sub.on("message", onMessage);
  });
  return out;
}

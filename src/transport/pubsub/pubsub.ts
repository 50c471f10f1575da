import type { ClientMetadata } from "../../wire/types.js";
import type { Transport } from "../../delivery/transport.js";
import { runSuppressed } from "../../capture/context.js";


/**
 * Google Cloud Pub/Sub through the official client's lowest-cost API: the generated PublisherClient,
 * one `publish` RPC per batch that the delivery queue built (no second batching layer, no per-message
 * promises). Honours PUBSUB_EMULATOR_HOST as the Google client does. Loaded lazily.
 */
export function createPubSubTransport(metadata: ClientMetadata, publishTimeoutMs: number): Promise<Transport> {
  // Everything the Google client does from here on (token exchange included) is the SDK's own I/O.
  return runSuppressed(() => createSuppressed(metadata, publishTimeoutMs));
}

async function createSuppressed(metadata: ClientMetadata, publishTimeoutMs: number): Promise<Transport> {
  const { PubSub, v1 } = await import("@google-cloud/pubsub");
  const sa = metadata.pubsub_push_service_account as { client_email?: string; private_key?: string };
  const pubsub = new PubSub({
    projectId: metadata.pubsub_project_id,
    ...(sa.client_email && sa.private_key ? { credentials: { client_email: sa.client_email, private_key: sa.private_key } } : {}),
  });
  const config = await runSuppressed(() => pubsub.getClientConfig());
  const client = new v1.PublisherClient(config as ConstructorParameters<typeof v1.PublisherClient>[0]);
  const topic = `projects/${metadata.pubsub_project_id}/topics/${metadata.topic_id}`;
  const callOptions = { timeout: publishTimeoutMs, retry: null, isBundling: false };
  return {
    async send(messages: Buffer[]): Promise<void> {
      await runSuppressed(() => client.publish({ topic, messages: messages.map((data) => ({ data })) }, callOptions));
    },
    async close(): Promise<void> {
      try {
        await client.close();
        await pubsub.close();
      } catch {
        /* closing never rejects */
      }
    },
  };
}

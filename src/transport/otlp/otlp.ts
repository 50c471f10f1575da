/**
 * OpenTelemetry delivery: a Transport (so Delivery does the queue bounds, batching, retries, flush
 * and drop accounting, exactly as for Pub/Sub) that turns each queued wire message into one span
 * (./span.ts) and exports a batch as one OTLP ExportTraceServiceRequest, written by ./encode.ts
 * (its bytes are the ones OpenTelemetry's own serializer writes for the same spans).
 */
import type { Transport } from "../../delivery/transport.js";
import type { ResolvedOtlp } from "./options.js";
import { fixedResource, type Attributes, type SpanTemplate } from "./span.js";
import { BufferPool, encodeRequests, estimatedSpanBytes, readPartialSuccess, requestTemplate, type Skipped } from "./encode.js";
import { grpcSender, httpSender, type Sender } from "./senders.js";

/** What the OTLP transport needs of the configuration. */
export interface OtlpTransportOptions {
  otlp: ResolvedOtlp;
  /** Sent as the resource attribute `at-project-key` (how APIToolkit's collector finds the project). */
  apiKey: string | undefined;
  serviceVersion: string | undefined;
  /** The resource's `service.name`, resolved at construction (config/service-name.ts); over the environment's. */
  serviceName?: string;
  debug?: (line: string) => void;
}

/**
 * Bytes of one export request at most: a larger batch is split (gRPC servers, the OpenTelemetry
 * Collector's included, refuse messages over 4 MiB by default). A single span over it goes alone.
 */
export const MAX_EXPORT_BYTES = 4 * 1024 * 1024 - 64 * 1024;

const SCOPE = { name: "apitoolkit-node" };

/** The resource every span carries: the environment's attributes (OTEL_RESOURCE_ATTRIBUTES), the service name, then the SDK's and the key. */
function resourceAttributes(o: OtlpTransportOptions): Attributes {
  const a: Attributes = { ...o.otlp.resource };
  a["service.name"] = o.serviceName ?? o.otlp.resource["service.name"] ?? "node-service";
  if (o.serviceVersion !== undefined) a["service.version"] = o.serviceVersion;
  a["telemetry.sdk.name"] = "apitoolkit-node";
  a["telemetry.sdk.language"] = "nodejs";
  if (o.apiKey !== undefined) a["at-project-key"] = o.apiKey;
  return a;
}

/**
 * The OTLP transport: opens the sender (a failure rejects, and the client
 * retries creating it). `send` parses each wire message into a span off the request path, exports
 * them (split when large), and remembers what went out, so that a batch retried after a partial
 * failure does not send those spans twice.
 *
 * @example
 * const transport = await createOtlpTransport({ otlp: config.otlp!, apiKey, serviceVersion });
 * await transport.send([wireMessageBytes]);
 */
export async function createOtlpTransport(o: OtlpTransportOptions): Promise<Transport> {
  const sender: Sender = o.otlp.protocol === "grpc"
    ? await grpcSender(o.otlp)
    : httpSender(o.otlp);
  const span: SpanTemplate = { spanName: o.otlp.spanName, resource: fixedResource(resourceAttributes(o)), scope: SCOPE };
  const template = requestTemplate(span);
  /**
   * Messages already exported from a batch whose send then failed: Delivery retries a batch with
   * the same Buffers. Only then is anything remembered (a WeakSet entry per message costs its add
   * and the GC's ephemeron work; a batch that succeeds is never sent again).
   */
  const exported = new WeakSet<Buffer>();
  let anyExported = false;
  const pool = new BufferPool();
  return {
    async send(messages: Buffer[]): Promise<void> {
      const fresh = anyExported ? messages.filter((m) => !exported.has(m)) : messages;
      const skipped: Skipped[] = [];
      const parts = encodeRequests(fresh, template, MAX_EXPORT_BYTES, skipped, pool);
      for (const { message, error } of skipped) {
        exported.add(message); // not a wire message (cannot happen with the SDK's own bytes): skipped, never retried
        anyExported = true;
        o.debug?.(`OTLP: skipped a message that is not a wire message (${error.message})`);
      }
      let sent = 0;
      try {
        for (const part of parts) {
          const response = await sender.export(part.bytes);
          // Sent and answered: its memory is free again. (After a failure it is left to the GC: a
          // timed-out request's bytes may still be referenced by the socket or stream.)
          pool.give(part.memory);
          sent++;
          if (response.byteLength > 0 && o.debug) {
            try {
              const partial = readPartialSuccess(response);
              if (partial && partial.rejectedSpans > 0) {
                o.debug(`OTLP: the collector rejected ${partial.rejectedSpans} span(s): ${partial.errorMessage}`);
              }
            } catch {
              /* an unreadable answer to a successful export */
            }
          }
        }
      } catch (err) {
        // Delivery will retry this batch: what went out already is not sent again.
        for (let i = 0; i < sent; i++) for (const b of parts[i]!.sources) exported.add(b);
        if (sent > 0) anyExported = true;
        throw err;
      }
    },
    // One export per batch, as far as an estimate can tell before encoding (a span is its wire
    // message's size plus a few hundred bytes); encodeRequests() still splits a request that turns out larger.
    fits: (messages, max) => {
      let size = 0;
      const n = Math.min(max, messages.length);
      for (let i = 0; i < n; i++) {
        size += estimatedSpanBytes(messages[i]!);
        if (i > 0 && size > MAX_EXPORT_BYTES) return i;
      }
      return n;
    },
    close: () => sender.close(),
  };
}

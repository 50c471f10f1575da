/**
 * OpenTelemetry delivery: a Transport (so Delivery does the queue bounds, batching, retries, flush
 * and drop accounting, exactly as for Pub/Sub) that turns each queued wire message into one span
 * (./span.ts) and exports a batch as one OTLP ExportTraceServiceRequest, written by ./encode.ts
 * (its bytes are the ones OpenTelemetry's own serializer writes for the same spans).
 */
import type { ReleasingTransport } from "../../delivery/transport.js";
import type { ResolvedOtlp } from "./options.js";
import { fixedResource, type Attributes, type SpanTemplate } from "./span.js";
import { BufferPool, encodeRequests, estimatedSpanBytes, readPartialSuccess, requestTemplate, type EncodedPart, type Skipped } from "./encode.js";
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
export async function createOtlpTransport(o: OtlpTransportOptions): Promise<ReleasingTransport> {
  const sender: Sender = o.otlp.protocol === "grpc"
    ? await grpcSender(o.otlp)
    : httpSender(o.otlp);
  const span: SpanTemplate = { spanName: o.otlp.spanName, resource: fixedResource(resourceAttributes(o)), scope: SCOPE };
  const template = requestTemplate(span);
  /**
   * Messages already exported from a batch whose send then failed: Delivery retries a batch with
   * the same messages (the same ids; the same Buffers for a caller that gives no ids). Only then
   * is anything remembered, and an id is forgotten once its batch went out.
   */
  const exportedIds = new Set<number>();
  const exportedBuffers = new WeakSet<Buffer>();
  let anyExported = false;
  const pool = new BufferPool();
  const isExported = (m: Buffer, id: number | undefined): boolean => (id !== undefined ? exportedIds.has(id) : exportedBuffers.has(m));
  const remember = (m: Buffer | undefined, id: number | undefined): void => {
    if (id !== undefined) exportedIds.add(id);
    else if (m !== undefined) exportedBuffers.add(m);
    anyExported = true;
  };

  /**
   * Export the encoded requests one after the other. Holds no message (with ids): after a failure,
   * what went out is the fresh messages before the first one of the first request not sent.
   */
  async function exportAll(parts: Array<{ bytes: Buffer; memory: Buffer }>, starts: number[], fresh: Buffer[] | undefined, freshIds: Float64Array | undefined, ids: Float64Array | undefined): Promise<void> {
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
      if (sent > 0) {
        const end = sent < starts.length ? starts[sent]! : (freshIds?.length ?? fresh!.length);
        for (let i = 0; i < end; i++) remember(fresh?.[i], freshIds?.[i]);
      }
      throw err;
    }
    // The whole batch went out: it is never sent again, its ids need not be remembered.
    if (anyExported && ids !== undefined) for (const id of ids) exportedIds.delete(id);
  }

  return {
    // Each message is encoded into the request before `send` returns; no reference to it is kept
    // (with ids), so Delivery may hand views of reused memory (src/delivery/arena.ts).
    releasesMessages: true,
    send(messages: Buffer[], ids?: Float64Array): Promise<void> {
      let fresh = messages;
      let freshIds = ids;
      if (anyExported) {
        const keep: number[] = [];
        for (let i = 0; i < messages.length; i++) if (!isExported(messages[i]!, ids?.[i])) keep.push(i);
        if (keep.length < messages.length) {
          fresh = keep.map((i) => messages[i]!);
          freshIds = ids && Float64Array.from(keep, (i) => ids[i]!);
        }
      }
      const skipped: Skipped[] = [];
      let parts: EncodedPart[];
      try {
        parts = encodeRequests(fresh, template, MAX_EXPORT_BYTES, skipped, pool);
      } catch (err) {
        return Promise.reject(err);
      }
      for (const { message, error } of skipped) {
        // not a wire message (cannot happen with the SDK's own bytes): skipped, never retried
        remember(message, freshIds?.[fresh.indexOf(message)]);
        o.debug?.(`OTLP: skipped a message that is not a wire message (${error.message})`);
      }
      // Where each request's messages start among `fresh` (requests hold runs of it, in order).
      const starts: number[] = [];
      let j = 0;
      for (const part of parts) {
        const first = part.sources[0];
        while (j < fresh.length && fresh[j] !== first) j++;
        starts.push(j);
      }
      const requests = parts.map((p) => ({ bytes: p.bytes, memory: p.memory }));
      return exportAll(requests, starts, freshIds === undefined ? fresh : undefined, freshIds, ids);
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

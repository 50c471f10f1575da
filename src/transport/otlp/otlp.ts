/**
 * OpenTelemetry delivery: a Transport (so Delivery does the queue bounds, batching, retries, flush
 * and drop accounting, exactly as for Pub/Sub) that turns each queued wire message into one span
 * (./span.ts) and exports a batch as one OTLP ExportTraceServiceRequest, encoded by OpenTelemetry's
 * own serializer (@opentelemetry/otlp-transformer, an optional dependency loaded only here).
 */
import type { Transport } from "../../delivery/transport.js";
import type { ResolvedOtlp } from "./options.js";
import { fixedResource, spanOf, type Attributes, type OtlpSpan, type OtlpWireMessage, type SpanTemplate } from "./span.js";
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

/** The part of @opentelemetry/otlp-transformer used: its protobuf trace serializer. */
interface TraceSerializer {
  serializeRequest(spans: OtlpSpan[]): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): { partialSuccess?: { rejectedSpans?: number | string; errorMessage?: string } };
}

/**
 * Bytes of one export request at most: a larger batch is split (gRPC servers, the OpenTelemetry
 * Collector's included, refuse messages over 4 MiB by default). A single span over it goes alone.
 */
export const MAX_EXPORT_BYTES = 4 * 1024 * 1024 - 64 * 1024;

const SCOPE = { name: "apitoolkit-node" };
const TRANSFORMER = "@opentelemetry/otlp-transformer";

async function loadSerializer(): Promise<TraceSerializer> {
  let mod: { ProtobufTraceSerializer?: TraceSerializer; default?: { ProtobufTraceSerializer?: TraceSerializer } };
  try {
    mod = (await import(TRANSFORMER)) as typeof mod;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error(`delivery "otlp" needs the optional package ${TRANSFORMER}: npm install ${TRANSFORMER}`);
    }
    throw err;
  }
  const serializer = mod.ProtobufTraceSerializer ?? mod.default?.ProtobufTraceSerializer;
  if (!serializer || typeof serializer.serializeRequest !== "function") throw new Error(`${TRANSFORMER} has no ProtobufTraceSerializer`);
  return serializer;
}

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

/** A span's encoded size, over-estimated from its wire message (bench: +290 bytes to +340, x1.0 to x1.44 on /health). */
function estimatedSpanBytes(message: Buffer): number {
  return Math.ceil(message.length * 1.25) + 512;
}

interface Part {
  bytes: Uint8Array;
  sources: Buffer[];
}

/** The batch as export requests of at most MAX_EXPORT_BYTES each (halving until they fit). */
function encode(serializer: TraceSerializer, spans: OtlpSpan[], sources: Buffer[], out: Part[] = []): Part[] {
  const bytes = serializer.serializeRequest(spans);
  if (!bytes) throw Object.assign(new Error("the OTLP serializer could not encode the batch"), { permanent: true });
  if (bytes.byteLength <= MAX_EXPORT_BYTES || spans.length === 1) {
    out.push({ bytes, sources });
    return out;
  }
  const mid = spans.length >> 1;
  encode(serializer, spans.slice(0, mid), sources.slice(0, mid), out);
  encode(serializer, spans.slice(mid), sources.slice(mid), out);
  return out;
}

/**
 * The OTLP transport: loads the serializer and opens the sender (a failure rejects, and the client
 * retries creating it). `send` parses each wire message into a span off the request path, exports
 * them (split when large), and remembers what went out, so that a batch retried after a partial
 * failure does not send those spans twice.
 *
 * @example
 * const transport = await createOtlpTransport({ otlp: config.otlp!, apiKey, serviceVersion });
 * await transport.send([wireMessageBytes]);
 */
export async function createOtlpTransport(o: OtlpTransportOptions): Promise<Transport> {
  const serializer = await loadSerializer();
  const sender: Sender = o.otlp.protocol === "grpc"
    ? await grpcSender(o.otlp)
    : httpSender(o.otlp);
  const template: SpanTemplate = { spanName: o.otlp.spanName, resource: fixedResource(resourceAttributes(o)), scope: SCOPE };
  /** Messages already exported: Delivery retries a batch with the same Buffers. */
  const exported = new WeakSet<Buffer>();
  return {
    async send(messages: Buffer[]): Promise<void> {
      const spans: OtlpSpan[] = [];
      const sources: Buffer[] = [];
      for (const m of messages) {
        if (exported.has(m)) continue;
        try {
          spans.push(spanOf(JSON.parse(m.toString("utf8")) as OtlpWireMessage, template));
          sources.push(m);
        } catch (err) {
          exported.add(m); // not a wire message (cannot happen with the SDK's own bytes): skipped, never retried
          o.debug?.(`OTLP: skipped a message that is not a wire message (${(err as Error).message})`);
        }
      }
      if (spans.length === 0) return;
      for (const part of encode(serializer, spans, sources)) {
        const response = await sender.export(part.bytes);
        for (const b of part.sources) exported.add(b);
        if (response.byteLength > 0 && o.debug) {
          try {
            const partial = serializer.deserializeResponse(response).partialSuccess;
            if (partial && Number(partial.rejectedSpans ?? 0) > 0) {
              o.debug(`OTLP: the collector rejected ${partial.rejectedSpans} span(s): ${partial.errorMessage ?? ""}`);
            }
          } catch {
            /* an unreadable answer to a successful export */
          }
        }
      }
    },
    // One export per batch, as far as an estimate can tell before encoding (a span is its wire
    // message's size plus a few hundred bytes); encode() still halves a request that turns out larger.
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

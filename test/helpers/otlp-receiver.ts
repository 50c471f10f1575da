// A real OTLP trace receiver for the tests, on loopback port 0: OTLP/HTTP (`POST /v1/traces`,
// `application/x-protobuf` only, as APIToolkit's collector) or OTLP/gRPC (TraceService/Export).
// Every request body is decoded with protobufjs from the official opentelemetry-proto definitions
// (shared/opentelemetry-proto, or OTLP_PROTO_DIR), never with the SDK's encoder, so a span that
// does not decode fails the test. Answers can be scripted (503 then 200, gRPC UNAVAILABLE...).
// Bodies sent with `Content-Encoding: gzip` (HTTP) or gRPC message compression are decoded; either
// receiver can listen with TLS, and ask for (and check) a client certificate.
import http from "node:http";
import https from "node:https";
import type { TLSSocket } from "node:tls";
import { gunzipSync } from "node:zlib";
import { existsSync } from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import protobuf from "protobufjs";
import * as grpc from "@grpc/grpc-js";

export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [k: string]: AttributeValue } | Buffer;

export interface DecodedEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Record<string, AttributeValue>;
}

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP enum: 1 INTERNAL, 2 SERVER, 3 CLIENT. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, AttributeValue>;
  events: DecodedEvent[];
  /** OTLP enum: 0 UNSET, 1 OK, 2 ERROR. */
  status: { code: number; message: string };
  resource: Record<string, AttributeValue>;
  scope: { name: string; version: string };
}

export interface ReceivedExport {
  /** Request headers (HTTP) or metadata (gRPC), lower-case names. */
  headers: Record<string, string>;
  /** HTTP path (or the gRPC method path). */
  path: string;
  /** Bytes on the wire (compressed, when it was). */
  bytes: number;
  /** HTTP only: the `Content-Encoding` of the body ("identity" when none). (grpc-js hides a gRPC message's encoding from the
   *  handler: count the bytes on the wire instead, as the compression test does.) */
  encoding?: string;
  /** The subject CN of the client certificate the TLS receiver verified, if one was presented. */
  clientCert?: string;
  spans: DecodedSpan[];
  /** What the receiver answered: an HTTP status, or a gRPC code (0 OK). */
  answered: number;
  at: number;
}

/** A scripted answer: an HTTP status (+ Retry-After) or a gRPC status code (+ details, + a RetryInfo delay). */
export interface Answer {
  status?: number;
  retryAfter?: string;
  grpcCode?: number;
  details?: string;
  /** gRPC: send a google.rpc.Status with a google.rpc.RetryInfo of this delay in `grpc-status-details-bin`. */
  retryDelayMs?: number;
}

/** google.rpc.Status { code, message, details: [Any(google.rpc.RetryInfo { retry_delay })] }, written field by field. */
export function retryInfoStatus(code: number, message: string, delayMs: number): Buffer {
  const duration = protobuf.Writer.create().uint32(8).int64(Math.floor(delayMs / 1000)).uint32(16).int32((delayMs % 1000) * 1e6).finish();
  const retryInfo = protobuf.Writer.create().uint32(10).bytes(duration).finish();
  const any = protobuf.Writer.create().uint32(10).string("type.googleapis.com/google.rpc.RetryInfo").uint32(18).bytes(retryInfo).finish();
  return Buffer.from(protobuf.Writer.create().uint32(8).int32(code).uint32(18).string(message).uint32(26).bytes(any).finish());
}

export interface OtlpReceiver {
  protocol: "http/protobuf" | "grpc";
  /** The endpoint to configure: `http://127.0.0.1:<port>`. */
  url: string;
  /** Every request received, in order, including the ones answered with an error. */
  exports: ReceivedExport[];
  /** Answers to give, in order, before answering success again. */
  answers: Answer[];
  /** The spans of the exports that were answered with success. */
  spans(): DecodedSpan[];
  /** Resolve once at least `count` spans were accepted; fail after `timeoutMs`. */
  waitForSpans(count: number, timeoutMs?: number): Promise<DecodedSpan[]>;
  close(): Promise<void>;
}

/** Where the official .proto files are: OTLP_PROTO_DIR, or shared/ beside the repository. */
export function protoDir(): string {
  const candidates = [
    process.env.OTLP_PROTO_DIR,
    path.resolve(import.meta.dirname, "../../../shared/opentelemetry-proto"),
    "/work/shared/opentelemetry-proto",
  ].filter((d): d is string => !!d);
  const found = candidates.find((d) => existsSync(path.join(d, "opentelemetry/proto/collector/trace/v1/trace_service.proto")));
  if (!found) throw new Error(`opentelemetry-proto not found (looked in ${candidates.join(", ")}); set OTLP_PROTO_DIR`);
  return found;
}

let cached: { request: protobuf.Type; response: protobuf.Type } | undefined;
function types(): { request: protobuf.Type; response: protobuf.Type } {
  if (cached) return cached;
  const dir = protoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(dir, target);
  root.loadSync("opentelemetry/proto/collector/trace/v1/trace_service.proto", { keepCase: false });
  root.resolveAll();
  cached = {
    request: root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"),
    response: root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse"),
  };
  return cached;
}

type Obj = Record<string, unknown>;
const hex = (b64: unknown) => Buffer.from(String(b64 ?? ""), "base64").toString("hex");
const big = (v: unknown) => BigInt(String(v ?? "0"));

function anyValue(v: Obj | undefined): AttributeValue {
  if (!v) return null;
  if ("stringValue" in v) return String(v.stringValue);
  if ("boolValue" in v) return Boolean(v.boolValue);
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v) return (((v.arrayValue as Obj).values as Obj[] | undefined) ?? []).map(anyValue);
  if ("kvlistValue" in v) return attributes((v.kvlistValue as Obj).values as Obj[] | undefined);
  if ("bytesValue" in v) return Buffer.from(String(v.bytesValue), "base64");
  return null;
}

function attributes(kvs: Obj[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of kvs ?? []) out[String(kv.key)] = anyValue(kv.value as Obj | undefined);
  return out;
}

/** Decode one ExportTraceServiceRequest with the official definitions. Throws if it does not decode. */
export function decodeExport(body: Uint8Array): DecodedSpan[] {
  const { request } = types();
  const msg = request.decode(body);
  const err = request.verify(msg);
  if (err) throw new Error(`ExportTraceServiceRequest does not verify: ${err}`);
  const o = request.toObject(msg, { longs: String, bytes: String, enums: Number, defaults: false, oneofs: false }) as Obj;
  const spans: DecodedSpan[] = [];
  for (const rs of (o.resourceSpans as Obj[] | undefined) ?? []) {
    const resource = attributes(((rs.resource as Obj | undefined)?.attributes as Obj[] | undefined));
    for (const ss of (rs.scopeSpans as Obj[] | undefined) ?? []) {
      const scope = (ss.scope as Obj | undefined) ?? {};
      for (const s of (ss.spans as Obj[] | undefined) ?? []) {
        const status = (s.status as Obj | undefined) ?? {};
        spans.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: String(s.name ?? ""),
          kind: Number(s.kind ?? 0),
          startTimeUnixNano: big(s.startTimeUnixNano),
          endTimeUnixNano: big(s.endTimeUnixNano),
          attributes: attributes(s.attributes as Obj[] | undefined),
          events: ((s.events as Obj[] | undefined) ?? []).map((e) => ({ name: String(e.name ?? ""), timeUnixNano: big(e.timeUnixNano), attributes: attributes(e.attributes as Obj[] | undefined) })),
          status: { code: Number(status.code ?? 0), message: String(status.message ?? "") },
          resource,
          scope: { name: String(scope.name ?? ""), version: String(scope.version ?? "") },
        });
      }
    }
  }
  return spans;
}

/** The receiver's state; `url` is set once it listens. */
function base(protocol: OtlpReceiver["protocol"], close: () => Promise<void>): OtlpReceiver {
  const r: OtlpReceiver = {
    protocol,
    url: "",
    exports: [],
    answers: [],
    spans: () => r.exports.filter((e) => e.answered === 200 || (protocol === "grpc" && e.answered === 0)).flatMap((e) => e.spans),
    async waitForSpans(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (r.spans().length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} span(s), got ${r.spans().length} after ${timeoutMs} ms (${r.exports.length} export(s))`);
        await new Promise((res) => setTimeout(res, 20));
      }
      return r.spans();
    },
    close,
  };
  return r;
}

/** TLS for a receiver: its key and certificate; with `clientCa`, a client certificate signed by it is required. */
export interface ReceiverTls {
  key: string | Buffer;
  cert: string | Buffer;
  clientCa?: string | Buffer;
}

/** An OTLP/HTTP receiver (`POST /v1/traces` unless `tracesPath` says otherwise), HTTPS with `tls`. */
export async function startHttpReceiver(options: { tracesPath?: string; tls?: ReceiverTls } = {}): Promise<OtlpReceiver> {
  const tracesPath = options.tracesPath ?? "/v1/traces";
  types();
  const receiver = base("http/protobuf", () => new Promise((r) => {
    server.closeAllConnections?.();
    server.close(() => r());
  }));
  const tls = options.tls;
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const wire = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
      const encoding = headers["content-encoding"] ?? "identity";
      const rec: ReceivedExport = { headers, path: req.url ?? "", bytes: wire.length, encoding, spans: [], answered: 0, at: Date.now() };
      const peer = tls ? (req.socket as TLSSocket).getPeerCertificate?.() : undefined;
      if (peer && peer.subject) rec.clientCert = String(peer.subject.CN);
      receiver.exports.push(rec);
      const answer = (status: number, extra: Record<string, string> = {}, out: Buffer | string = "") => {
        rec.answered = status;
        res.writeHead(status, extra).end(out);
      };
      if (req.method !== "POST" || req.url !== tracesPath) return answer(404);
      if (req.headers["content-type"] !== "application/x-protobuf") return answer(415, {}, "protobuf only");
      if (encoding !== "identity" && encoding !== "gzip") return answer(415, {}, `unsupported content-encoding ${encoding}`);
      try {
        rec.spans = decodeExport(encoding === "gzip" ? gunzipSync(wire) : wire);
      } catch (err) {
        return answer(400, {}, `undecodable: ${(err as Error).message}`);
      }
      const scripted = receiver.answers.shift();
      if (scripted?.status && scripted.status !== 200) {
        return answer(scripted.status, scripted.retryAfter ? { "retry-after": scripted.retryAfter } : {}, "scripted failure");
      }
      const { response } = types();
      answer(200, { "content-type": "application/x-protobuf" }, Buffer.from(response.encode(response.create({})).finish()));
    });
  };
  const server = tls
    ? https.createServer({ key: tls.key, cert: tls.cert, ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
    : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  receiver.url = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

const passThrough = (b: Buffer): Buffer => b;

/** An OTLP/gRPC receiver on loopback: insecure, or TLS with `tls` (mutual when it has `clientCa`). */
export async function startGrpcReceiver(options: { tls?: ReceiverTls } = {}): Promise<OtlpReceiver> {
  const tls = options.tls;
  types();
  const server = new grpc.Server();
  const receiver = base("grpc", async () => server.forceShutdown());
  const method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
  server.addService({
    Export: { path: method, requestStream: false, responseStream: false, requestSerialize: passThrough, requestDeserialize: passThrough, responseSerialize: passThrough, responseDeserialize: passThrough },
  }, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
      // grpc-js has already decompressed the message (`bytes` is its decompressed size).
      const rec: ReceivedExport = { headers, path: method, bytes: call.request.length, spans: [], answered: 0, at: Date.now() };
      const peer = (call as unknown as { getAuthContext?(): { sslPeerCertificate?: { subject?: { CN?: string } } } }).getAuthContext?.()?.sslPeerCertificate;
      if (peer?.subject?.CN) rec.clientCert = String(peer.subject.CN);
      receiver.exports.push(rec);
      try {
        rec.spans = decodeExport(call.request);
      } catch (err) {
        rec.answered = grpc.status.INVALID_ARGUMENT;
        return callback({ code: grpc.status.INVALID_ARGUMENT, details: `undecodable: ${(err as Error).message}` });
      }
      const scripted = receiver.answers.shift();
      if (scripted?.grpcCode) {
        rec.answered = scripted.grpcCode;
        const details = scripted.details ?? "scripted failure";
        const metadata = new grpc.Metadata();
        if (scripted.retryDelayMs !== undefined) metadata.set("grpc-status-details-bin", retryInfoStatus(scripted.grpcCode, details, scripted.retryDelayMs));
        return callback({ code: scripted.grpcCode, details, metadata });
      }
      rec.answered = 0;
      const { response } = types();
      callback(null, Buffer.from(response.encode(response.create({})).finish()));
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const credentials = tls
      ? grpc.ServerCredentials.createSsl(tls.clientCa ? Buffer.from(tls.clientCa) : null, [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }], !!tls.clientCa)
      : grpc.ServerCredentials.createInsecure();
    server.bindAsync("127.0.0.1:0", credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  receiver.url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  return receiver;
}

/** A receiver of either protocol. */
export function startOtlpReceiver(protocol: OtlpReceiver["protocol"]): Promise<OtlpReceiver> {
  return protocol === "grpc" ? startGrpcReceiver() : startHttpReceiver();
}

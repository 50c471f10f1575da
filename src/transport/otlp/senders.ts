/**
 * The two OTLP wire calls, each taking the bytes of one ExportTraceServiceRequest: OTLP/HTTP
 * (`POST .../v1/traces`, `application/x-protobuf`, over node:http(s) with a keep-alive agent) and
 * OTLP/gRPC (`TraceService/Export` through @grpc/grpc-js, an optional peer dependency loaded only
 * here, with pass-through serializers), each with the exporter's compression (gzip: HTTP
 * `Content-Encoding: gzip`, gRPC message compression), timeout and TLS material, and each through
 * the environment's proxy (../proxy.ts). Failures are classified by ./errors.ts; the queue above retries.
 */
import http from "node:http";
import https from "node:https";
import { gzip } from "node:zlib";
import { promisify } from "node:util";
import type { ResolvedOtlp } from "./options.js";
import { grpcStatusError, httpStatusError } from "./errors.js";
import { untraced } from "../untraced.js";
import { agentFor, grpcProxyOptions, proxyRefusal } from "../proxy.js";

/** One OTLP export call. */
export interface Sender {
  /** Send one encoded ExportTraceServiceRequest; resolves with the encoded response. */
  export(request: Uint8Array): Promise<Uint8Array>;
  /** Release sockets and channels (an export still in flight fails). Never rejects. */
  close(): Promise<void>;
}

const USER_AGENT = "apitoolkit-node (OTLP exporter)";
/** Bytes of an error answer kept for the warning. */
const MAX_ERROR_BODY = 4096;
/** Bytes of a success answer read (an ExportTraceServiceResponse is a few bytes). */
const MAX_RESPONSE_BODY = 64 * 1024;

/** What a sender needs of the resolved `otlp` options. */
export type SenderOptions = Pick<ResolvedOtlp, "url" | "headers" | "timeoutMs" | "compression" | "tls">;

const gzipAsync = promisify(gzip);

/** OTLP/HTTP with protobuf bodies to `url`. Throws when the environment's proxy for it is unusable. */
export function httpSender(o: SenderOptions): Sender {
  const { headers, timeoutMs } = o;
  const target = new URL(o.url);
  const client = target.protocol === "https:" ? https : http;
  // Delivery has at most two batches in flight.
  const agent = agentFor(target, { keepAlive: true, maxSockets: 2, ...o.tls });
  const gzipped = o.compression === "gzip";
  return {
    async export(request) {
      // Compressed on libuv's thread pool, not the main thread.
      const body = gzipped ? await gzipAsync(request) : request;
      return untraced(() => new Promise<Uint8Array>((resolve, reject) => {
        let settled = false;
        const done = (err: Error | undefined, value?: Uint8Array): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) reject(err);
          else resolve(value!);
        };
        const req = client.request(target, {
          method: "POST",
          agent,
          headers: {
            "user-agent": USER_AGENT, ...headers, "content-type": "application/x-protobuf", "content-length": String(body.byteLength),
            ...(gzipped ? { "content-encoding": "gzip" } : {}),
          },
        }, (res) => {
          const status = res.statusCode ?? 0;
          const refused = refusal(status);
          if (refused) {
            res.resume();
            done(Object.assign(refused, { message: `OTLP/HTTP export: ${refused.message}` }));
            return;
          }
          const ok = status >= 200 && status < 300;
          const limit = ok ? MAX_RESPONSE_BODY : MAX_ERROR_BODY;
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on("data", (c: Buffer) => {
            if (kept < limit) {
              chunks.push(c);
              kept += c.length;
            }
          });
          res.on("error", (err) => done(err));
          res.on("end", () => {
            const text = Buffer.concat(chunks);
            if (ok) done(undefined, text);
            else done(httpStatusError(status, text.toString("utf8"), res.headers["retry-after"]));
          });
        });
        const refusal = proxyRefusal(req, agent);
        const timer = setTimeout(() => req.destroy(new Error(`OTLP/HTTP export timed out after ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        req.on("error", (err) => done(err));
        req.end(body);
      }));
    },
    async close() {
      agent.destroy();
    },
  };
}

/** The grpc-js surface used here (loaded lazily: only gRPC delivery needs it). */
interface GrpcModule {
  credentials: { createSsl(rootCerts?: Buffer | null, privateKey?: Buffer | null, certChain?: Buffer | null): unknown; createInsecure(): unknown };
  Metadata: new () => { set(key: string, value: string): void };
  Client: new (address: string, credentials: unknown, options?: Record<string, unknown>) => GrpcClient;
}
interface GrpcClient {
  makeUnaryRequest(
    method: string,
    serialize: (value: Buffer) => Buffer,
    deserialize: (value: Buffer) => Buffer,
    argument: Buffer,
    metadata: unknown,
    options: { deadline: number },
    callback: (err: GrpcError | null, value?: Buffer) => void,
  ): unknown;
  close(): void;
}
interface GrpcError {
  code?: number;
  details?: string;
  message?: string;
  metadata?: { get(key: string): Array<string | Buffer> };
}

const EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const passThrough = (b: Buffer): Buffer => b;

/** grpc-js's compression algorithm numbers (`grpc.default_compression_algorithm`). */
const GRPC_GZIP = 2;

const GRPC = "@grpc/grpc-js";

/** grpc-js, or an error naming the package to install (the client warns once and retries). */
async function loadGrpc(): Promise<GrpcModule> {
  try {
    return (await import(GRPC)) as GrpcModule;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error(`OTLP over gRPC needs the optional package ${GRPC}: npm install ${GRPC}`);
    }
    throw err;
  }
}

/** OTLP/gRPC to the host:port of `url` (TLS when it is `https:`), through the environment's proxy for it. */
export async function grpcSender(o: SenderOptions): Promise<Sender> {
  const { headers, timeoutMs } = o;
  const grpc = await loadGrpc();
  const target = new URL(o.url);
  const secure = target.protocol === "https:";
  const port = target.port || (secure ? "443" : "80");
  // URL.hostname keeps an IPv6 address in brackets, as a gRPC target wants it.
  const { address, options } = grpcProxyOptions(target, port);
  const client = untraced(() => new grpc.Client(address,
    secure ? grpc.credentials.createSsl(o.tls.ca ?? null, o.tls.key ?? null, o.tls.cert ?? null) : grpc.credentials.createInsecure(),
    // Every call of this channel compresses its message (grpc-js falls back to none if the server says it cannot).
    { "grpc.primary_user_agent": USER_AGENT, ...options, ...(o.compression === "gzip" ? { "grpc.default_compression_algorithm": GRPC_GZIP } : {}) }));
  return {
    export(body) {
      const metadata = new grpc.Metadata();
      for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
      const request = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      return untraced(() => new Promise<Uint8Array>((resolve, reject) => {
        client.makeUnaryRequest(EXPORT_METHOD, passThrough, passThrough, request, metadata, { deadline: Date.now() + timeoutMs }, (err, value) => {
          if (!err) return resolve(value ?? Buffer.alloc(0));
          const details = err.metadata?.get("grpc-status-details-bin")?.[0];
          reject(grpcStatusError(typeof err.code === "number" ? err.code : 2, err.details ?? err.message ?? "", Buffer.isBuffer(details) ? details : undefined));
        });
      }));
    },
    async close() {
      try {
        client.close();
      } catch {
        /* closing never rejects */
      }
    },
  };
}

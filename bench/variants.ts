// The variants each framework's app is measured in, one row each. `setup` runs in the server child
// (bench/server.ts) and returns what to mount plus how to read, flush and close the capture;
// bench/run.ts reads only the table's metadata (key, label, frameworks, publishes, ...).
//
// To add a variant: add a row whose setup builds the client as that variant needs. If it publishes
// somewhere the harness can count (`publishes`: the emulator, or the OTLP receiver bench/run.ts
// starts next to it), the harness gives it a topic or receiver path of its own and counts what
// arrives; a destination of another kind needs a receiver of its own in bench/run.ts (runMode).
// `judged` holds its ratios to bare to the targets `sdk` is held to; `skipInQuick` keeps it out
// of --quick's default set. Every row runs by default in pinned mode; free mode runs bare and sdk.
import { createRequire } from "node:module";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { APIToolkit as APIToolkitType, APIToolkitOptions } from "../src/index.js";
import { BODY_RULES, REDACTION } from "./app.js";
import type { Framework, Mount } from "./frameworks.js";
import { REFERENCE_PACKAGE, sleep, type DeliveryStats } from "./lib.js";

/** What a variant gives the server child: what to mount, and its capture's counters and lifecycle. */
export interface VariantInstance {
  mount?: Mount;
  stats(): DeliveryStats | undefined;
  /** Resolve once everything captured so far is delivered (or handed to the discarding transport). */
  flush(): Promise<boolean>;
  close(): Promise<void>;
}

export interface VariantEnv {
  framework: Framework;
  /** The SDK compiled by tsc (.tmp/bench-sdk), as users get it. */
  sdkDir: string;
  apiKey: string;
  rootURL: string;
  referenceDir: string;
  /** Override of the SDK's maxQueueBytes (default: the SDK's default). */
  queueBytes: number | undefined;
  /** The OTLP endpoint of this child on the bench's receiver (`publishes: "otlp"`): `http://127.0.0.1:<port>/<key>`. */
  otlpURL: string;
  /** moesif's collector stand-in for this child on the bench's receiver (`publishes: "moesif"`): its `baseUri`. */
  moesifURL: string;
  /** Where the peer variants' packages are installed (bench/package.json, bench/node_modules). */
  peersDir: string;
}

export interface Variant {
  key: string;
  label: string;
  /** Framework keys it runs on (undefined: every framework). */
  frameworks?: string[];
  /**
   * Where it publishes, counted by the harness: "pubsub" (a topic of its own on the emulator, read
   * by bench/counter.ts), "otlp" (a path of its own on bench/otlp-receiver.ts), "standin" (Pub/Sub
   * REST to the publish stand-in of bench/otlp-receiver.ts, which answers at once), "moesif" (the
   * collector stand-in there), false (nowhere).
   */
  publishes: false | "pubsub" | "otlp" | "standin" | "moesif";
  /** What it delivers is not one message per request (OpenTelemetry: several spans): expected = captured. */
  notPerRequest?: boolean;
  /** Its ratios to bare are held to the targets, as `sdk`'s are (the report says met / missed). */
  judged: boolean;
  /** Left out of --quick's default set (still selectable with --variants). */
  skipInQuick?: boolean;
  /** Left out of every default set: runs only when --variants names it. */
  onlyAsked?: boolean;
  /** Captures the handler's outgoing fetch as a message of its own (GET /outgoing: 2 messages per request). */
  capturesFetch: boolean;
  /** One-line description for the report's conditions. */
  description: string;
  setup(env: VariantEnv): Promise<VariantInstance>;
}

const quiet = { info() {}, warn: (m: string) => process.stderr.write(`sdk warning: ${m}\n`), error() {} };

/**
 * The floor plus delivery (`floor-publish`): the floor's record per request, kept as bytes, batched
 * and POSTed as Pub/Sub REST publish bodies to the stand-in (PUBSUB_EMULATOR_HOST, topic = the key
 * the harness registered). Counts captured / published for the harness's delivery check.
 */
async function setupFloorPublish(env: VariantEnv, kind: "record" | "body" | "wire" = "record"): Promise<VariantInstance> {
  const withBody = kind === "body";
  const http = await import("node:http");
  const als = new AsyncLocalStorage<object>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const url = `http://${process.env.PUBSUB_EMULATOR_HOST}/v1/projects/bench/topics/${env.apiKey.slice("key-".length)}:publish`;
  const counts = { captured: 0, published: 0, failed: 0 };
  let batch: Buffer[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  const post = (messages: Buffer[]): void => {
    let body = '{"messages":[';
    for (let i = 0; i < messages.length; i++) body += (i ? ',{"data":"' : '{"data":"') + messages[i]!.toString("base64") + '"}';
    const bytes = Buffer.from(body + "]}");
    inFlight++;
    const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": String(bytes.length) } }, (res) => {
      res.resume();
      res.on("end", () => {
        inFlight--;
        if (res.statusCode === 200) counts.published += messages.length;
        else counts.failed += messages.length;
      });
    });
    req.on("error", () => {
      inFlight--;
      counts.failed += messages.length;
    });
    req.end(bytes);
  };
  const send = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const messages = batch;
    batch = [];
    post(messages);
  };
  const middleware = (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void): void => {
    const start = performance.now();
    // floor-body: the response's first BODY_LIMIT bytes, copied once as they are written.
    const body = withBody ? Buffer.allocUnsafe(BODY_LIMIT) : undefined;
    let kept = 0;
    if (body !== undefined) {
      const keep = (chunk: unknown, encoding: unknown): void => {
        if (kept >= BODY_LIMIT || chunk == null || typeof chunk === "function") return;
        const b = typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8") : (chunk as Uint8Array);
        const n = Math.min(b.length, BODY_LIMIT - kept);
        body.set(n === b.length ? b : b.subarray(0, n), kept);
        kept += n;
      };
      const write = res.write;
      const end = res.end;
      res.write = function (this: ServerResponse, ...args: unknown[]) {
        keep(args[0], args[1]);
        return write.apply(this, args as Parameters<typeof write>);
      } as typeof res.write;
      res.end = function (this: ServerResponse, ...args: unknown[]) {
        keep(args[0], args[1]);
        return end.apply(this, args as Parameters<typeof end>);
      } as typeof res.end;
    }
    if (kind === "wire") {
      wireCapture(req, res, start, (message) => {
        counts.captured++;
        if (batch.push(message) >= 500) send();
        else timer ??= setTimeout(send, 200);
      });
      als.run({ req }, next);
      return;
    }
    res.on("finish", () => {
      const record = { method: req.method, url: req.originalUrl ?? req.url, status: res.statusCode, request: req.headers, response: res.getHeaders(), ms: performance.now() - start };
      counts.captured++;
      const text = body === undefined ? JSON.stringify(record) : JSON.stringify(record).slice(0, -1) + ',"response_body":"' + body.toString("base64", 0, kept) + '"}';
      if (batch.push(Buffer.from(text)) >= 500) send();
      else timer ??= setTimeout(send, 200);
    });
    als.run({ req }, next);
  };
  const stats = (): DeliveryStats => ({ captured: counts.captured, published: counts.published, dropped: { send_failed: counts.failed }, state: "ready" });
  return {
    mount: { kind: "sdk", integration: { expressMiddleware: () => middleware }, client: {} },
    stats,
    flush: async () => {
      send();
      for (let i = 0; i < 600 && (inFlight > 0 || counts.published + counts.failed < counts.captured); i++) await sleep(50);
      return counts.published + counts.failed >= counts.captured;
    },
    close: async () => {
      send();
      agent.destroy();
    },
  };
}

type ExpressRequest = IncomingMessage & { originalUrl?: string; baseUrl?: string; route?: { path?: unknown }; params?: Record<string, string> };

/**
 * floor-wire's capture: the wire format's message (../shared/docs/wire-format.md), every field it
 * asks for filled the plain way and JSON.stringify'd at `finish`: both bodies kept as the chunk
 * references the app wrote (no copy) up to 64 KiB and base64'd (Buffer#toString), headers as arrays
 * with the key header redacted by name, the query parsed into arrays, the route template from
 * Express, a fresh UUID, RFC 3339 start time, the duration in ns. No body rules and no detectors.
 */
function wireCapture(req: ExpressRequest, res: ServerResponse, start: number, deliver: (message: Buffer) => void): void {
  const startedAt = new Date();
  const requestChunks: Buffer[] = [];
  const responseChunks: Buffer[] = [];
  let requestKept = 0;
  let responseKept = 0;
  req.on("data", (chunk: Buffer) => {
    if (requestKept < BODY_LIMIT) {
      requestChunks.push(chunk);
      requestKept += chunk.length;
    }
  });
  const keep = (chunk: unknown, encoding: unknown): void => {
    if (responseKept >= BODY_LIMIT || chunk == null || typeof chunk === "function") return;
    const b = typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8") : Buffer.from(chunk as Uint8Array);
    responseChunks.push(b);
    responseKept += b.length;
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, ...args: unknown[]) {
    keep(args[0], args[1]);
    return write.apply(this, args as Parameters<typeof write>);
  } as typeof res.write;
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    keep(args[0], args[1]);
    return end.apply(this, args as Parameters<typeof end>);
  } as typeof res.end;
  const body = (chunks: Buffer[], n: number): string => (n === 0 ? "" : Buffer.concat(chunks).toString("base64", 0, Math.min(n, BODY_LIMIT)));
  res.on("finish", () => {
    const rawURL = req.originalUrl ?? req.url ?? "/";
    const q = rawURL.indexOf("?");
    const query: Record<string, string[]> = {};
    if (q >= 0) for (const [k, v] of new URLSearchParams(rawURL.slice(q + 1))) (query[k] ??= []).push(v);
    const requestHeaders: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) requestHeaders[k] = k === "x-api-key" ? ["[CLIENT_REDACTED]"] : Array.isArray(v) ? v : [String(v)];
    const responseHeaders: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(res.getHeaders())) responseHeaders[k] = Array.isArray(v) ? v.map(String) : [String(v)];
    const route = typeof req.route?.path === "string" ? (req.baseUrl ?? "") + req.route.path : "";
    const message = {
      duration: Math.round((performance.now() - start) * 1e6),
      host: req.headers.host ?? "",
      method: req.method,
      path_params: req.params ?? {},
      project_id: "00000000-0000-4000-8000-000000000000",
      proto_major: req.httpVersionMajor,
      proto_minor: req.httpVersionMinor,
      query_params: query,
      raw_url: rawURL,
      referer: req.headers.referer ?? "",
      request_body: body(requestChunks, requestKept),
      request_headers: requestHeaders,
      response_body: body(responseChunks, responseKept),
      response_headers: responseHeaders,
      sdk_type: "JsExpress",
      status_code: res.statusCode,
      timestamp: startedAt.toISOString(),
      url_path: route,
      errors: [],
      tags: [],
      msg_id: randomUUID(),
    };
    deliver(Buffer.from(JSON.stringify(message)));
  });
}

/** floor-body's body limit: the SDK's default maxBodyBytes. */
const BODY_LIMIT = 64 * 1024;

/** The SDK built from another checkout (BENCH_BASE_SDK_DIR, a tsc build like .tmp/bench-sdk): the "-base" variants of an A/B run. */
function baseEnv(env: VariantEnv): VariantEnv {
  const dir = process.env.BENCH_BASE_SDK_DIR;
  if (!dir) throw new Error("the -base variants need BENCH_BASE_SDK_DIR: the directory of another checkout's SDK compiled by tsc (bench/README.md)");
  return { ...env, sdkDir: path.resolve(dir) };
}

/** The SDK's options in every SDK variant: the redaction rules, default options otherwise. */
function sdkOptions(env: VariantEnv): APIToolkitOptions {
  // BENCH_SDK_OPTIONS (JSON): extra options for attribution runs by hand (e.g. {"sampleRate":0}).
  const extra = process.env.BENCH_SDK_OPTIONS ? (JSON.parse(process.env.BENCH_SDK_OPTIONS) as APIToolkitOptions) : {};
  return { logger: quiet, ...REDACTION, ...(env.queueBytes ? { maxQueueBytes: env.queueBytes } : {}), ...extra };
}

async function loadSdk(env: VariantEnv): Promise<{ APIToolkit: typeof APIToolkitType; integration: Record<string, unknown> }> {
  const base = pathToFileURL(`${env.sdkDir}/`).href;
  const { APIToolkit } = (await import(`${base}index.js`)) as { APIToolkit: typeof APIToolkitType };
  const integration = (await import(`${base}integrations/${env.framework.integration}/index.js`)) as Record<string, unknown>;
  return { APIToolkit, integration };
}

function sdkInstance(client: APIToolkitType, integration: Record<string, unknown>): VariantInstance {
  return {
    mount: { kind: "sdk", integration, client },
    stats: () => client.stats(),
    flush: () => client.flush(60_000),
    close: () => client.close(10_000),
  };
}

/** A transport that accepts and discards every batch: the SDK's cost without any wire call. */
const nullTransport = () => ({ send: async () => undefined, close: async () => undefined });

export const VARIANTS: Variant[] = [
  {
    key: "bare",
    label: "bare",
    publishes: false,
    judged: false,
    capturesFetch: false,
    description: "the app without any SDK",
    setup: async () => ({ stats: () => undefined, flush: async () => true, close: async () => undefined }),
  },
  {
    key: "sdk-null",
    label: "sdk-null",
    publishes: false,
    judged: false,
    capturesFetch: true,
    description: "the SDK with a `transport` that discards every batch (capture + redaction + encoding, no wire call: the capture floor)",
    setup: async (env) => {
      const { APIToolkit, integration } = await loadSdk(env);
      return sdkInstance(new APIToolkit({ ...sdkOptions(env), transport: nullTransport }), integration);
    },
  },
  {
    key: "sdk",
    label: "sdk",
    publishes: "pubsub",
    judged: true,
    capturesFetch: true,
    description: "the SDK publishing to the emulator (bootstrapped through the local client_metadata stand-in)",
    setup: async (env) => {
      const { APIToolkit, integration } = await loadSdk(env);
      return sdkInstance(new APIToolkit({ ...sdkOptions(env), apiKey: env.apiKey, rootURL: env.rootURL }), integration);
    },
  },
  {
    key: "sdk-otlp",
    label: "sdk-otlp",
    publishes: "otlp",
    judged: true,
    capturesFetch: true,
    description: "the SDK with `delivery: \"otlp\"`: one span per exchange, exported over OTLP/HTTP (http/protobuf, uncompressed: the default) to a local receiver the bench starts (bench/otlp-receiver.ts: it answers 200 at once and counts unique span ids, decoded with the official opentelemetry-proto definitions); no client_metadata call",
    setup: async (env) => {
      const { APIToolkit, integration } = await loadSdk(env);
      const otlp = { endpoint: env.otlpURL, protocol: "http/protobuf" } as const;
      return sdkInstance(new APIToolkit({ ...sdkOptions(env), delivery: "otlp", otlp }), integration);
    },
  },
  {
    key: "sdk-standin",
    label: "sdk-standin",
    publishes: "standin",
    judged: true,
    onlyAsked: true,
    capturesFetch: true,
    description: "the SDK publishing over Pub/Sub REST, exactly as `sdk`, to a loopback stand-in for the publish endpoint that answers at once (bench/otlp-receiver.ts, pointed at by PUBSUB_EMULATOR_HOST): nothing is dropped for an endpoint slower than the app, the figure beside the emulator's",
    setup: async (env) => {
      const { APIToolkit, integration } = await loadSdk(env);
      return sdkInstance(new APIToolkit({ ...sdkOptions(env), apiKey: env.apiKey, rootURL: env.rootURL }), integration);
    },
  },
  {
    key: "otel",
    label: "otel",
    frameworks: ["express4"],
    publishes: "otlp",
    notPerRequest: true,
    judged: false,
    onlyAsked: true,
    capturesFetch: false,
    description: "a peer, not an SDK of ours: OpenTelemetry's http + express instrumentation (@opentelemetry/sdk-trace-node 2.12, instrumentation-http 0.223, instrumentation-express 0.71; no bodies captured), a BatchSpanProcessor with its defaults exporting over OTLP/HTTP protobuf to the bench's receiver (one server span plus a span per Express middleware and handler per request: delivery counts spans)",
    setup: setupOtel,
  },
  {
    key: "moesif",
    label: "moesif",
    frameworks: ["express4"],
    publishes: "moesif",
    judged: false,
    onlyAsked: true,
    capturesFetch: false,
    description: "a peer, not an SDK of ours: moesif-nodejs 3.11 (bodies captured, its defaults: batches of 200 events or every 2 s, gzipped), mounted first as its README says, `baseUri` pointed at a loopback stand-in for its collector that answers at once (bench/otlp-receiver.ts); no redaction rules (it has none of ours)",
    setup: setupMoesif,
  },
  {
    key: "sdk-viewer",
    label: "sdk-viewer",
    publishes: false,
    judged: true,
    skipInQuick: true,
    capturesFetch: true,
    description: "the SDK with `viewer: true` and the discarding transport of sdk-null: the live viewer's cost when on (it listens on loopback and holds every message in its bounded history, 16 MiB by default; no page is open). With the viewer off (every other SDK variant) nothing of src/viewer is loaded",
    setup: async (env) => {
      const { APIToolkit, integration } = await loadSdk(env);
      return sdkInstance(new APIToolkit({ ...sdkOptions(env), transport: nullTransport, viewer: true }), integration);
    },
  },
  {
    key: "reference",
    label: "reference",
    frameworks: ["express4"],
    publishes: "pubsub",
    judged: false,
    capturesFetch: false, // it observes axios only (monitorAxios), not fetch
    description: "`apitoolkit-express@2.4.6`, the SDK this one replaces, configured equivalently (same key header and body rules, bootstrapped through the same stand-in, publishing to the emulator)",
    setup: setupReference,
  },
  {
    key: "floor",
    label: "floor",
    frameworks: ["express4", "express5"],
    publishes: false,
    judged: false,
    onlyAsked: true,
    capturesFetch: false,
    description: "the issue's calibration, not an SDK: a 10-line capture (a `finish` listener, AsyncLocalStorage.run per request, JSON.stringify of method, URL, status, both header sets and the duration into a preallocated buffer): no bodies, no route, no redaction, nothing sent; what any capture costs at least",
    setup: async () => {
      const als = new AsyncLocalStorage<object>();
      const out = Buffer.allocUnsafe(64 * 1024);
      const middleware = (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void): void => {
        const start = performance.now();
        res.on("finish", () => {
          const record = { method: req.method, url: req.originalUrl ?? req.url, status: res.statusCode, request: req.headers, response: res.getHeaders(), ms: performance.now() - start };
          out.write(JSON.stringify(record), 0);
        });
        als.run({ req }, next);
      };
      return { mount: { kind: "sdk", integration: { expressMiddleware: () => middleware }, client: {} }, stats: () => undefined, flush: async () => true, close: async () => undefined };
    },
  },
  {
    key: "floor-body",
    label: "floor-body",
    frameworks: ["express4", "express5"],
    publishes: "standin",
    judged: false,
    onlyAsked: true,
    capturesFetch: false,
    description: "a calibration, not an SDK: `floor-publish` with the response body: its first 64 KiB (the SDK's default maxBodyBytes) copied once into a buffer of the request as it is written, base64'd (Buffer#toString) into the record's `response_body`, and the record base64'd again into the publish body, as the wire format and Pub/Sub REST require: what capturing and delivering a body costs at least, with no redaction, no headers' work and no detectors",
    setup: (env) => setupFloorPublish(env, "body"),
  },
  {
    key: "floor-publish",
    label: "floor-publish",
    frameworks: ["express4", "express5"],
    publishes: "standin",
    judged: false,
    onlyAsked: true,
    capturesFetch: false,
    description: "a calibration, not an SDK: the floor's capture (the same record, JSON.stringify'd per request), each record's bytes kept as a message and delivered as the SDK delivers: batched (500 messages or 200 ms, the SDK's defaults), one Pub/Sub REST `topics.publish` POST per batch (`{\"messages\":[{\"data\":\"<base64>\"},...]}`) over a keep-alive agent to the publish stand-in `sdk-standin` uses: what capturing and delivering anything costs at least",
    setup: (env) => setupFloorPublish(env),
  },
  {
    key: "floor-wire",
    label: "floor-wire",
    frameworks: ["express4", "express5"],
    publishes: "standin",
    judged: false,
    onlyAsked: true,
    capturesFetch: false,
    description: "a calibration, not an SDK: `floor-publish` with the wire format's whole message instead of the floor's record: every field the ingestion side asks for (msg_id, RFC 3339 start, duration in ns, route template, path and query parameters, protocol, headers as arrays with the key header redacted by name, both bodies up to 64 KiB kept as the app's chunks and base64'd), filled the plain way and JSON.stringify'd at `finish`; no body rules and no detectors: what a message the ingestion side accepts costs at least, done the obvious way",
    setup: (env) => setupFloorPublish(env, "wire"),
  },
];

/**
 * The before side of an A/B run: the variant `key` with the SDK of another checkout
 * (BENCH_BASE_SDK_DIR), alternated with it in the same run; only when --variants names it.
 */
function baseOf(key: string, purpose = "the before side of an A/B run, alternated with the after side in the same run"): Variant {
  const of = VARIANTS.find((v) => v.key === key)!;
  return {
    ...of,
    key: `${key}-base`,
    label: `${key}-base`,
    judged: false,
    onlyAsked: true,
    description: `\`${key}\` with the SDK of another checkout (BENCH_BASE_SDK_DIR): ${purpose}`,
    setup: (env) => of.setup(baseEnv(env)),
  };
}

VARIANTS.push(
  baseOf("sdk-null"),
  baseOf("sdk-standin"),
  baseOf("sdk", "the before side of an A/B run of peak RSS with the queue full (publishing to the emulator)"),
  baseOf("sdk-otlp"),
);

interface PublishCallback { (err: Error | null | undefined, id?: string | null): void }
interface TopicLike { flush(): Promise<void>; publishMessage(message: unknown, cb?: PublishCallback): unknown }
interface ReferenceClient { expressMiddleware: unknown; errorHandler: unknown; close(): Promise<void> }

/**
 * The reference SDK. It has no counters of its own: its Pub/Sub client's `Topic.publishMessage`
 * (the copy it loads) is wrapped to count messages handed over (captured), acknowledged
 * (published) and failed (dropped `send_failed`), and to find its topic for `flush()`.
 */
async function setupReference(env: VariantEnv): Promise<VariantInstance> {
  const fromPrefix = createRequire(path.join(env.referenceDir, "package.json"));
  const fromPackage = createRequire(fromPrefix.resolve(REFERENCE_PACKAGE));
  const { Topic } = fromPackage("@google-cloud/pubsub") as { Topic: { prototype: TopicLike } };
  const counts = { captured: 0, published: 0, failed: 0 };
  const topics = new Set<TopicLike>();
  const original = Topic.prototype.publishMessage;
  Topic.prototype.publishMessage = function countedPublish(this: TopicLike, message: unknown, cb?: PublishCallback) {
    counts.captured++;
    topics.add(this);
    return original.call(this, message, (err, id) => {
      if (err) counts.failed++;
      else counts.published++;
      cb?.(err, id);
    });
  };
  const { APIToolkit } = fromPackage(REFERENCE_PACKAGE) as { APIToolkit: { NewClient(c: object): ReferenceClient } };
  // NewClient fetches client_metadata synchronously (sync-fetch) from the stand-in.
  const client = APIToolkit.NewClient({ apiKey: env.apiKey, rootURL: env.rootURL, redactHeaders: REDACTION.redactHeaders, redactRequestBody: BODY_RULES, redactResponseBody: BODY_RULES });
  const stats = (): DeliveryStats => ({ captured: counts.captured, published: counts.published, dropped: { send_failed: counts.failed }, state: "ready" });
  return {
    mount: { kind: "reference", middleware: client.expressMiddleware, errorHandler: client.errorHandler },
    stats,
    flush: async () => {
      await Promise.all([...topics].map((t) => t.flush().catch(() => undefined)));
      for (let i = 0; i < 600 && counts.published + counts.failed < counts.captured; i++) await sleep(100);
      return counts.published + counts.failed >= counts.captured;
    },
    close: () => client.close(),
  };
}

/** require() from the peers' install (bench/node_modules). */
function peers(env: VariantEnv): NodeJS.Require {
  return createRequire(path.join(env.peersDir, "package.json"));
}

/**
 * OpenTelemetry as its docs set it up for Node: a NodeTracerProvider with a BatchSpanProcessor
 * (defaults: 2,048-span queue, batches of 512, every 5 s) and the OTLP/HTTP protobuf exporter, the
 * http and express instrumentations registered before http and express are loaded. Spans ended
 * (captured), exported (published) and failed are counted around the processor and the exporter.
 */
async function setupOtel(env: VariantEnv): Promise<VariantInstance> {
  const req = peers(env);
  /* eslint-disable @typescript-eslint/no-explicit-any -- the peers are untyped here (installed on demand, outside the SDK's dependencies) */
  const { NodeTracerProvider, BatchSpanProcessor } = req("@opentelemetry/sdk-trace-node") as any;
  const { OTLPTraceExporter } = req("@opentelemetry/exporter-trace-otlp-proto") as any;
  const { registerInstrumentations } = req("@opentelemetry/instrumentation") as any;
  const { HttpInstrumentation } = req("@opentelemetry/instrumentation-http") as any;
  const { ExpressInstrumentation } = req("@opentelemetry/instrumentation-express") as any;
  const counts = { captured: 0, published: 0, failed: 0 };
  const inner = new OTLPTraceExporter({ url: `${env.otlpURL}/v1/traces` });
  const exporter = {
    export(spans: unknown[], done: (r: { code: number }) => void) {
      inner.export(spans, (r: { code: number }) => {
        if (r.code === 0) counts.published += spans.length;
        else counts.failed += spans.length;
        done(r);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.(),
  };
  const counter = { onStart() {}, onEnd() { counts.captured++; }, forceFlush: async () => undefined, shutdown: async () => undefined };
  const provider = new NodeTracerProvider({ spanProcessors: [counter, new BatchSpanProcessor(exporter)] });
  provider.register();
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()] });
  req("http"); // patched now (the server is created by the app with node:http's createServer)
  const express = req("express");
  /* eslint-enable @typescript-eslint/no-explicit-any */
  const stats = (): DeliveryStats => ({ captured: counts.captured, published: counts.published, dropped: counts.failed ? { send_failed: counts.failed } : {}, state: "ready" });
  return {
    mount: { kind: "instrumented", express },
    stats,
    flush: async () => {
      await provider.forceFlush();
      return counts.published + counts.failed >= counts.captured;
    },
    close: () => provider.shutdown(),
  };
}

/**
 * moesif-nodejs as its README mounts it (first), `baseUri` at the collector stand-in. It counts no
 * events itself: requests through its middleware are counted (captured), and its batch callback
 * says what was sent (published) or failed; flush() waits for its 2-second batch timer.
 */
async function setupMoesif(env: VariantEnv): Promise<VariantInstance> {
  const req = peers(env);
  const moesif = req("moesif-nodejs") as (options: object) => (rq: IncomingMessage, rs: ServerResponse, next: () => void) => void;
  const counts = { captured: 0, published: 0, failed: 0 };
  const inner = moesif({
    applicationId: "bench-application-id-".padEnd(64, "x"), // moesif checks only its length (>= 50)
    baseUri: env.moesifURL,
    callback: (err: unknown, events: unknown[]) => {
      if (err) counts.failed += events.length;
      else counts.published += events.length;
    },
  });
  const middleware = (rq: IncomingMessage, rs: ServerResponse, next: () => void): void => {
    counts.captured++;
    inner(rq, rs, next);
  };
  const stats = (): DeliveryStats => ({ captured: counts.captured, published: counts.published, dropped: counts.failed ? { send_failed: counts.failed } : {}, state: "ready" });
  return {
    mount: { kind: "sdk", integration: { expressMiddleware: () => middleware }, client: {} },
    stats,
    flush: async () => {
      for (let i = 0; i < 200 && counts.published + counts.failed < counts.captured; i++) await sleep(50);
      return counts.published + counts.failed >= counts.captured;
    },
    close: async () => undefined,
  };
}

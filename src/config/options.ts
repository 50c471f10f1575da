import { APIToolkitConfigError } from "../registry/codes.js";
import type { CompiledPaths } from "../jsonpath/index.js";
import { bool, compileNamed, fail, int, stringList } from "./validate.js";
import type { TransportFactory } from "../delivery/transport.js";
import { compileOutgoing, type OutgoingOptions, type OutgoingRules } from "./outgoing.js";
import { resolveOtlp, type OtlpOptions, type ResolvedOtlp } from "../transport/otlp/options.js";
import { resolveViewer, type ResolvedViewer, type ViewerOptions } from "./viewer.js";
import { compileValues, type ValueDetector, type ValueRules } from "../redact/values.js";
import { DEFAULT_REDACT_QUERY_PARAMS } from "../redact/query.js";
import { namePaths, type RuleSet } from "../redact/rules.js";
import type { ErrorRecord } from "../wire/types.js";
import { resolveServiceName } from "./service-name.js";


/** Minimal logger; defaults to `console`. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Options of `new APIToolkit(...)`. Every option is validated once, at construction. */
export interface APIToolkitOptions {
  /** API key of the APIToolkit project. Default: env `APITOOLKIT_KEY`. Missing: one warning, SDK disabled. */
  apiKey?: string;
  /** Default `https://app.apitoolkit.io` (or env `APITOOLKIT_ROOT_URL`). */
  rootURL?: string;
  /** Log each step in human-readable form (never unredacted data or the key). Default false. */
  debug?: boolean;
  /** Header names to redact, case-insensitive, added to the defaults. */
  redactHeaders?: string[];
  /** Apply the default header list (authorization, proxy-authorization, cookie, set-cookie). Default true. */
  redactDefaultHeaders?: boolean;
  /** RFC 9535 JSONPaths redacted in request bodies. */
  redactRequestBody?: string[];
  /** RFC 9535 JSONPaths redacted in response bodies. */
  redactResponseBody?: string[];
  /**
   * Query parameter names (case-insensitive) whose values are redacted in `query_params` and in
   * `raw_url` (incoming and outgoing; a route parameter of that name too), added to the defaults.
   * @example redactQueryParams: ["session"]
   */
  redactQueryParams?: string[];
  /** Apply the default query parameter list (`api_key`, `access_token`, `password`, `X-Amz-Signature`...; see the README). Default true. */
  redactDefaultQueryParams?: boolean;
  /**
   * Value detectors applied to every value wherever it is (JSON and form bodies, text bodies, header
   * values, query values, path segments): `creditCard`, `jwt`, `bearerToken`, `awsAccessKey`,
   * `privateKey`, `email`, `iban`, or your own RegExps. Given, it REPLACES the default set
   * (`jwt`, `bearerToken`, `awsAccessKey`, `privateKey`); `[]` turns them all off.
   * @example redactValues: ["creditCard", "jwt", "bearerToken", "awsAccessKey", "privateKey", "email", /acct-\d{6}/]
   */
  redactValues?: ValueDetector[];
  serviceVersion?: string;
  tags?: string[];
  /** Bytes of each body kept (the rest is cut; a cut JSON body with rules becomes a marker). Default 65536. */
  maxBodyBytes?: number;
  /** Bytes the delivery queue may hold (captured + encoded, awaiting publish). Default 33554432 (32 MiB). */
  maxQueueBytes?: number;
  /** Messages per batch (one Pub/Sub publish call or one OTLP export), at most 1000. Default 500. */
  maxBatchMessages?: number;
  /**
   * Bytes of messages per batch, at most 9 MiB (a single larger message goes alone). A batch is also
   * cut where its request would pass the endpoint's limit (Pub/Sub: a 10 MB body, base64 included;
   * OTLP: 4 MiB), so each batch is one call. Default 4194304 (4 MiB).
   */
  maxBatchBytes?: number;
  /** The longest a queued message waits for others to join its batch (a full batch goes at once; messages are encoded when their response finishes, before they are queued). Default 200 ms. */
  publishIntervalMs?: number;
  /** Timeout of one publish call (and of one OTLP export, unless `otlp.timeoutMs` says otherwise). Default 10000 ms. */
  publishTimeoutMs?: number;
  /** Default bound of flush() and close(). Default 5000 ms. */
  flushTimeoutMs?: number;
  /** Timeout of one client_metadata call. Default 10000 ms. */
  bootstrapTimeoutMs?: number;
  /** Share of requests captured, 0..1. Errors (status >= 500 or reported errors) are always kept. Default 1. */
  sampleRate?: number;
  /** Requests whose path (no query) matches are not captured: exact string or RegExp. */
  ignorePaths?: Array<string | RegExp>;
  /** Advanced: replace the Pub/Sub transport (e.g. a local sink in development). Not with `delivery: "otlp"`. */
  transport?: TransportFactory;
  /**
   * Where captured exchanges go: `"pubsub"` (default: APIToolkit's Pub/Sub topic, found through
   * client_metadata) or `"otlp"` (one OpenTelemetry span per exchange, exported over OTLP to
   * APIToolkit's collector or your own; no client_metadata call). See `otlp`.
   */
  delivery?: "pubsub" | "otlp";
  /** OpenTelemetry delivery: endpoint, protocol, headers, span name, timeout, compression, TLS (used with `delivery: "otlp"`). */
  otlp?: OtlpOptions;
  /** Where warnings and debug lines go. Default console. */
  logger?: Logger;
  /** Capture outgoing calls made with fetch/undici and node:http(s). Default true. */
  monitorOutgoing?: boolean;
  /** Outgoing-call rules on top of the top-level ones: per-destination redaction, URL templates, ignores. */
  outgoing?: OutgoingOptions;
  /**
   * A live page of the captured traffic, after redaction, served by the SDK on loopback
   * (`true`: any free port). Without an apiKey, exchanges go to the viewer only. Default off
   * (then its code is not even loaded).
   */
  viewer?: boolean | ViewerOptions;
  /**
   * `false`: a pass-through SDK. Integrations hand every request on untouched, nothing is captured,
   * no socket is opened and no timer started. Also off when env `APITOOLKIT_DISABLED` is `true` or
   * `1` (whatever this option says: a switch for operators). Default true.
   * @example enabled: process.env.NODE_ENV !== "test"
   */
  enabled?: boolean;
  /**
   * Called when a request starts, with `{ method, url, headers }` (`url`: path and query as sent;
   * header names in lower case). `true`: the request is not captured at all. A throw is warned once
   * and the request captured as if the option were absent.
   * @example ignoreRequest: (req) => req.headers["user-agent"]?.startsWith("kube-probe") ?? false
   */
  ignoreRequest?: (request: IgnoreRequestInfo) => boolean;
  /**
   * Called when an exchange finishes, before it is queued: `true` keeps it, `false` drops it
   * (counted in `stats().sampledOut`), `undefined` leaves it to `sampleRate`. Outgoing calls are
   * asked too (`outgoing: true`). A throw is warned once and `sampleRate` decides.
   * @example sample: ({ statusCode, durationMs }) => statusCode >= 400 || durationMs > 500 || undefined
   */
  sample?: (exchange: SampleInfo) => boolean | undefined;
  /**
   * OTLP delivery: the resource attribute `service.name`. Default: env `OTEL_SERVICE_NAME`, else
   * `service.name` in env `OTEL_RESOURCE_ATTRIBUTES`, else the `name` of the app's package.json
   * (the nearest one up from the working directory), else the working directory's name.
   */
  serviceName?: string;
}

/** What `ignoreRequest` is given when a request starts. */
export interface IgnoreRequestInfo {
  /** Upper-case method. */
  readonly method: string;
  /** Path and query string as sent (no scheme or host). */
  readonly url: string;
  /** Request headers, lower-case names; a repeated header's values joined with ", " (as node:http does). */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** What `sample` is given when an exchange finishes. */
export interface SampleInfo {
  readonly method: string;
  /** Route template (`/users/:id`); "" when no route matched or the integration has no router. */
  readonly route: string;
  /** Path without the query string, as sent (not redacted: the app sees its own traffic). */
  readonly path: string;
  /** 499 when the client went away first; 0 for an outgoing call that got no response. */
  readonly statusCode: number;
  readonly durationMs: number;
  /** Errors recorded on the exchange (reportError, framework error hooks). */
  readonly errors: readonly ErrorRecord[];
  /** True for a call the app made (fetch, node:http, axios), false for a request it served. */
  readonly outgoing: boolean;
}

/** Options after validation, with defaults applied and redaction compiled. */
export interface ResolvedConfig {
  apiKey: string | undefined;
  rootURL: string;
  debug: boolean;
  redactHeaders: ReadonlySet<string>;
  requestPaths: CompiledPaths;
  responsePaths: CompiledPaths;
  /** Query (and route) parameter names whose values are redacted, lower case. */
  redactQueryParams: ReadonlySet<string>;
  /** The compiled value detectors. */
  redactValues: ValueRules;
  /** Every top-level redaction rule, as the serializer takes them. */
  redaction: RuleSet;
  serviceVersion: string | undefined;
  tags: string[] | undefined;
  maxBodyBytes: number;
  maxQueueBytes: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  publishIntervalMs: number;
  publishTimeoutMs: number;
  flushTimeoutMs: number;
  bootstrapTimeoutMs: number;
  sampleRate: number;
  ignorePaths: Array<string | RegExp>;
  transport: TransportFactory | undefined;
  logger: Logger;
  /** Capture outgoing fetch/undici and node:http(s) calls. */
  monitorOutgoing: boolean;
  /** Outgoing-call rules, compiled once on top of the top-level ones (axios uses them whatever monitorOutgoing says). */
  outgoing: OutgoingRules;
  delivery: "pubsub" | "otlp";
  /** Where and how spans are exported; set exactly when delivery is "otlp". */
  otlp: ResolvedOtlp | undefined;
  /** Capture the OpenTelemetry trace context at the start of each exchange (OTLP delivery only). */
  traceContext: boolean;
  /** The local traffic viewer, or undefined when it is off. */
  viewer: ResolvedViewer | undefined;
  /** False: option enabled false or env APITOOLKIT_DISABLED; nothing is started. */
  enabled: boolean;
  ignoreRequest: ((request: IgnoreRequestInfo) => boolean) | undefined;
  sample: ((exchange: SampleInfo) => boolean | undefined) | undefined;
  /** OTLP delivery: the resolved `service.name` (config/service-name.ts); otherwise the option as given. */
  serviceName: string | undefined;
}

export const DEFAULT_REDACT_HEADERS = ["authorization", "proxy-authorization", "cookie", "set-cookie"];
export const DEFAULT_ROOT_URL = "https://app.apitoolkit.io";

const KNOWN = new Set<string>([
  "apiKey", "rootURL", "debug", "redactHeaders", "redactDefaultHeaders", "redactRequestBody",
  "redactResponseBody", "redactQueryParams", "redactDefaultQueryParams", "redactValues", "serviceVersion", "tags", "maxBodyBytes", "maxQueueBytes", "maxBatchMessages",
  "maxBatchBytes", "publishIntervalMs", "publishTimeoutMs", "flushTimeoutMs", "bootstrapTimeoutMs",
  "sampleRate", "ignorePaths", "transport", "logger", "delivery", "otlp",
  // consumed by the outgoing-call integration
  "monitorOutgoing", "outgoing",
  "viewer", "enabled", "ignoreRequest", "sample", "serviceName",
]);





/** Validate options once. Throws APIToolkitConfigError naming the bad option; never afterwards. */
export function resolveOptions(input: APIToolkitOptions | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  if (input != null && (typeof input !== "object" || Array.isArray(input))) fail("options must be an object");
  const o = (input ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) fail(`unknown option "${key}"`);
  }
  const apiKeyRaw = o.apiKey ?? env.APITOOLKIT_KEY;
  if (apiKeyRaw !== undefined && typeof apiKeyRaw !== "string") fail("apiKey must be a string");
  const apiKey = typeof apiKeyRaw === "string" && apiKeyRaw.trim() !== "" ? apiKeyRaw.trim() : undefined;

  const rootRaw = o.rootURL ?? env.APITOOLKIT_ROOT_URL ?? DEFAULT_ROOT_URL;
  if (typeof rootRaw !== "string") fail("rootURL must be a string");
  let rootURL: string;
  try {
    const u = new URL(rootRaw);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
    rootURL = rootRaw.replace(/\/+$/, "");
  } catch {
    throw new APIToolkitConfigError("ERR_INVALID_URL", `rootURL must be an http(s) URL, got "${rootRaw}"`);
  }

  const headerNames = stringList("redactHeaders", o.redactHeaders).map((h) => h.trim().toLowerCase());
  const useDefaults = bool("redactDefaultHeaders", o.redactDefaultHeaders, true);
  const redactHeaders = new Set([...(useDefaults ? DEFAULT_REDACT_HEADERS : []), ...headerNames]);

  const tags = o.tags === undefined ? undefined : stringList("tags", o.tags);
  if (o.serviceVersion !== undefined && typeof o.serviceVersion !== "string") fail("serviceVersion must be a string");

  const sampleRate = o.sampleRate === undefined ? 1 : o.sampleRate;
  if (typeof sampleRate !== "number" || !(sampleRate >= 0 && sampleRate <= 1)) fail("sampleRate must be a number in 0..1");

  const ignorePaths = o.ignorePaths === undefined ? [] : o.ignorePaths;
  if (!Array.isArray(ignorePaths) || ignorePaths.some((p) => typeof p !== "string" && !(p instanceof RegExp))) {
    fail("ignorePaths must be an array of strings and RegExps");
  }
  if (o.transport !== undefined && typeof o.transport !== "function") fail("transport must be a function");
  if (o.ignoreRequest !== undefined && typeof o.ignoreRequest !== "function") fail("ignoreRequest must be a function");
  if (o.sample !== undefined && typeof o.sample !== "function") fail("sample must be a function");
  if (o.serviceName !== undefined && (typeof o.serviceName !== "string" || o.serviceName.trim() === "")) fail("serviceName must be a non-empty string");
  const enabled = bool("enabled", o.enabled, true) && !/^(true|1)$/i.test(env.APITOOLKIT_DISABLED?.trim() ?? "");
  const delivery = o.delivery ?? "pubsub";
  if (delivery !== "pubsub" && delivery !== "otlp") fail(`delivery must be "pubsub" or "otlp", got ${JSON.stringify(o.delivery)}`);
  if (delivery === "otlp" && o.transport !== undefined) fail('transport replaces the Pub/Sub transport: it cannot be combined with delivery: "otlp"');
  // Validated whenever given (a typo fails at once), used only with delivery "otlp".
  const publishTimeoutMs = int("publishTimeoutMs", o.publishTimeoutMs, 10_000, 100, 600_000);
  const otlp = o.otlp !== undefined || delivery === "otlp" ? resolveOtlp(o.otlp, env, o.publishTimeoutMs === undefined ? undefined : publishTimeoutMs) : undefined;
  const logger = (o.logger ?? console) as Logger;
  if (typeof logger.warn !== "function" || typeof logger.info !== "function" || typeof logger.error !== "function") {
    fail("logger must have info, warn and error methods");
  }

  const queryNames = stringList("redactQueryParams", o.redactQueryParams).map((q) => q.trim().toLowerCase());
  const useQueryDefaults = bool("redactDefaultQueryParams", o.redactDefaultQueryParams, true);
  const redactQueryParams = new Set([...(useQueryDefaults ? DEFAULT_REDACT_QUERY_PARAMS : []), ...queryNames]);
  const redactValues = compileValues(o.redactValues);
  const requestList = stringList("redactRequestBody", o.redactRequestBody);
  const responseList = stringList("redactResponseBody", o.redactResponseBody);
  const request = compileNamed("redactRequestBody", requestList);
  const response = compileNamed("redactResponseBody", responseList);
  const redaction: RuleSet = {
    headers: redactHeaders,
    request,
    response,
    query: redactQueryParams,
    values: redactValues,
    named: { request: namePaths(requestList, request), response: namePaths(responseList, response) },
  };
  return {
    apiKey,
    rootURL,
    debug: bool("debug", o.debug, false),
    redactHeaders,
    requestPaths: redaction.request,
    responsePaths: redaction.response,
    redactQueryParams,
    redactValues,
    redaction,
    serviceVersion: o.serviceVersion as string | undefined,
    tags,
    maxBodyBytes: int("maxBodyBytes", o.maxBodyBytes, 64 * 1024, 0, 3 * 1024 * 1024),
    maxQueueBytes: int("maxQueueBytes", o.maxQueueBytes, 32 * 1024 * 1024, 64 * 1024, 2 ** 31),
    maxBatchMessages: int("maxBatchMessages", o.maxBatchMessages, 500, 1, 1000),
    maxBatchBytes: int("maxBatchBytes", o.maxBatchBytes, 4 * 1024 * 1024, 64 * 1024, 9 * 1024 * 1024),
    publishIntervalMs: int("publishIntervalMs", o.publishIntervalMs, 200, 1, 60_000),
    publishTimeoutMs,
    flushTimeoutMs: int("flushTimeoutMs", o.flushTimeoutMs, 5_000, 0, 600_000),
    bootstrapTimeoutMs: int("bootstrapTimeoutMs", o.bootstrapTimeoutMs, 10_000, 100, 600_000),
    sampleRate,
    ignorePaths: ignorePaths as Array<string | RegExp>,
    transport: o.transport as TransportFactory | undefined,
    logger,
    monitorOutgoing: bool("monitorOutgoing", o.monitorOutgoing, true),
    outgoing: compileOutgoing(redaction, o.outgoing),
    delivery,
    otlp: delivery === "otlp" ? otlp : undefined,
    traceContext: delivery === "otlp",
    viewer: resolveViewer(o.viewer),
    enabled,
    ignoreRequest: o.ignoreRequest as ResolvedConfig["ignoreRequest"],
    sample: o.sample as ResolvedConfig["sample"],
    // OTLP only: read here, once (the package.json lookup touches the file system).
    serviceName: otlp !== undefined && delivery === "otlp"
      ? resolveServiceName(typeof o.serviceName === "string" ? o.serviceName.trim() : undefined, otlp.resource["service.name"])
      : typeof o.serviceName === "string" ? o.serviceName.trim() : undefined,
  };
}

import { APIToolkitConfigError } from "../registry/codes.js";
import type { CompiledPaths } from "../jsonpath/index.js";
import { bool, compileNamed, fail, int, stringList } from "./validate.js";
import type { TransportFactory } from "../delivery/transport.js";
import { compileOutgoing, type OutgoingOptions, type OutgoingRules } from "./outgoing.js";


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
  serviceVersion?: string;
  tags?: string[];
  /** Bytes of each body kept (the rest is cut; a cut JSON body with rules becomes a marker). Default 65536. */
  maxBodyBytes?: number;
  /** Bytes the delivery queue may hold (captured + encoded, awaiting publish). Default 33554432 (32 MiB). */
  maxQueueBytes?: number;
  /** Messages per Pub/Sub publish call, at most 1000. Default 500. */
  maxBatchMessages?: number;
  /** Bytes per Pub/Sub publish call, at most 9 MiB. Default 4194304 (4 MiB). */
  maxBatchBytes?: number;
  /** How long captured exchanges wait to be batched before encoding and publishing. Default 200 ms. */
  publishIntervalMs?: number;
  /** Timeout of one publish call. Default 10000 ms. */
  publishTimeoutMs?: number;
  /** Default bound of flush() and close(). Default 5000 ms. */
  flushTimeoutMs?: number;
  /** Timeout of one client_metadata call. Default 10000 ms. */
  bootstrapTimeoutMs?: number;
  /** Share of requests captured, 0..1. Errors (status >= 500 or reported errors) are always kept. Default 1. */
  sampleRate?: number;
  /** Requests whose path (no query) matches are not captured: exact string or RegExp. */
  ignorePaths?: Array<string | RegExp>;
  /** Advanced: replace the Pub/Sub transport (e.g. a local sink in development). */
  transport?: TransportFactory;
  /** Where warnings and debug lines go. Default console. */
  logger?: Logger;
  /** Capture outgoing calls made with fetch/undici and node:http(s). Default true. */
  monitorOutgoing?: boolean;
  /** Outgoing-call rules on top of the top-level ones: per-destination redaction, URL templates, ignores. */
  outgoing?: OutgoingOptions;
}

/** Options after validation, with defaults applied and redaction compiled. */
export interface ResolvedConfig {
  apiKey: string | undefined;
  rootURL: string;
  debug: boolean;
  redactHeaders: ReadonlySet<string>;
  requestPaths: CompiledPaths;
  responsePaths: CompiledPaths;
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
}

export const DEFAULT_REDACT_HEADERS = ["authorization", "proxy-authorization", "cookie", "set-cookie"];
export const DEFAULT_ROOT_URL = "https://app.apitoolkit.io";

const KNOWN = new Set<string>([
  "apiKey", "rootURL", "debug", "redactHeaders", "redactDefaultHeaders", "redactRequestBody",
  "redactResponseBody", "serviceVersion", "tags", "maxBodyBytes", "maxQueueBytes", "maxBatchMessages",
  "maxBatchBytes", "publishIntervalMs", "publishTimeoutMs", "flushTimeoutMs", "bootstrapTimeoutMs",
  "sampleRate", "ignorePaths", "transport", "logger",
  // consumed by the outgoing-call integration
  "monitorOutgoing", "outgoing",
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
  const logger = (o.logger ?? console) as Logger;
  if (typeof logger.warn !== "function" || typeof logger.info !== "function" || typeof logger.error !== "function") {
    fail("logger must have info, warn and error methods");
  }

  const redaction = {
    headers: redactHeaders,
    request: compileNamed("redactRequestBody", stringList("redactRequestBody", o.redactRequestBody)),
    response: compileNamed("redactResponseBody", stringList("redactResponseBody", o.redactResponseBody)),
  };
  return {
    apiKey,
    rootURL,
    debug: bool("debug", o.debug, false),
    redactHeaders,
    requestPaths: redaction.request,
    responsePaths: redaction.response,
    serviceVersion: o.serviceVersion as string | undefined,
    tags,
    maxBodyBytes: int("maxBodyBytes", o.maxBodyBytes, 64 * 1024, 0, 3 * 1024 * 1024),
    maxQueueBytes: int("maxQueueBytes", o.maxQueueBytes, 32 * 1024 * 1024, 64 * 1024, 2 ** 31),
    maxBatchMessages: int("maxBatchMessages", o.maxBatchMessages, 500, 1, 1000),
    maxBatchBytes: int("maxBatchBytes", o.maxBatchBytes, 4 * 1024 * 1024, 64 * 1024, 9 * 1024 * 1024),
    publishIntervalMs: int("publishIntervalMs", o.publishIntervalMs, 200, 1, 60_000),
    publishTimeoutMs: int("publishTimeoutMs", o.publishTimeoutMs, 10_000, 100, 600_000),
    flushTimeoutMs: int("flushTimeoutMs", o.flushTimeoutMs, 5_000, 0, 600_000),
    bootstrapTimeoutMs: int("bootstrapTimeoutMs", o.bootstrapTimeoutMs, 10_000, 100, 600_000),
    sampleRate,
    ignorePaths: ignorePaths as Array<string | RegExp>,
    transport: o.transport as TransportFactory | undefined,
    logger,
    monitorOutgoing: bool("monitorOutgoing", o.monitorOutgoing, true),
    outgoing: compileOutgoing(redaction, o.outgoing),
  };
}

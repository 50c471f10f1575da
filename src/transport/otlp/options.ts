/**
 * The `otlp` options and the standard OTEL_EXPORTER_OTLP_* environment variables, resolved once at
 * construction (by resolveOptions) into where and how spans are exported.
 */
import { APIToolkitConfigError } from "../../registry/codes.js";
import { readFileSync } from "node:fs";
import { fail, int } from "../../config/validate.js";
import { parseResourceAttributes } from "./resource.js";

/**
 * How spans travel: OTLP over HTTP with protobuf bodies, or OTLP over gRPC. (`http/json` is not
 * sent: APIToolkit's collector takes protobuf; read from the environment it means `http/protobuf`.)
 */
export type OtlpProtocol = "http/protobuf" | "grpc";

/** Export body compression: gzip (HTTP `Content-Encoding: gzip`, gRPC per-call gzip) or none. */
export type OtlpCompression = "gzip" | "none";

/**
 * Options of OpenTelemetry delivery (`delivery: "otlp"`). Each one left out falls back to the
 * standard OpenTelemetry environment variable (the `OTEL_EXPORTER_OTLP_TRACES_*` one first, then
 * `OTEL_EXPORTER_OTLP_*`), then to the default. An option that is not valid throws at
 * construction; an environment variable that is not valid is ignored with one warning
 * (`W_OTLP_ENV_INVALID`).
 *
 * @example
 * new APIToolkit({
 *   apiKey: process.env.APITOOLKIT_KEY,
 *   delivery: "otlp",
 *   otlp: { endpoint: "http://127.0.0.1:4318", protocol: "http/protobuf", headers: { "x-tenant": "a" }, compression: "gzip" },
 * });
 */
export interface OtlpOptions {
  /**
   * The collector, as a URL. `http/protobuf` POSTs to `{endpoint}/v1/traces`; `grpc` dials its
   * host:port (TLS for `https:`, and for an endpoint without a scheme unless `insecure`). Default:
   * env `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as the full URL), else
   * `OTEL_EXPORTER_OTLP_ENDPOINT`, else APIToolkit's collector
   * (`http://otelcol.apitoolkit.io:4318`, or `:4317` for grpc).
   */
  endpoint?: string;
  /** Default: env `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`, else `"http/protobuf"`. */
  protocol?: OtlpProtocol;
  /** Sent with every export (HTTP headers or gRPC metadata). Default: env `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, percent-decoded). */
  headers?: Record<string, string>;
  /** Name of every span. Default `"monoscope.http"`, the name APIToolkit's server reads. */
  spanName?: string;
  /** Timeout of one export call, in ms. Default: the `publishTimeoutMs` option when given, else env `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`, else 10000. */
  timeoutMs?: number;
  /** `"gzip"` or `"none"`. Default: env `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION` / `OTEL_EXPORTER_OTLP_COMPRESSION`, else `"none"` (chosen by measurement and by what monoscope's OTLP/HTTP endpoint reads: docs/delivery.md). */
  compression?: OtlpCompression;
  /** Certificates to trust for the collector's TLS (PEM text, or a file path), instead of Node's. Default: env `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE` / `OTEL_EXPORTER_OTLP_CERTIFICATE` (a file path). */
  certificate?: string | Buffer;
  /** Client private key for mutual TLS (PEM text, or a file path); needs `clientCertificate`. Default: env `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY` / `OTEL_EXPORTER_OTLP_CLIENT_KEY`. */
  clientKey?: string | Buffer;
  /** Client certificate (chain) for mutual TLS (PEM text, or a file path); needs `clientKey`. Default: env `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE` / `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`. */
  clientCertificate?: string | Buffer;
  /** gRPC only, for an endpoint written without `http://`/`https://`: `true` dials it in plain text. Default: env `OTEL_EXPORTER_OTLP_TRACES_INSECURE` / `OTEL_EXPORTER_OTLP_INSECURE`, else false (TLS). */
  insecure?: boolean;
}

/** The TLS material of the exporter (file contents); each absent means Node's default. */
export interface OtlpTls {
  ca?: Buffer;
  key?: Buffer;
  cert?: Buffer;
}

/** OTLP delivery after validation. */
export interface ResolvedOtlp {
  protocol: OtlpProtocol;
  /** http/protobuf: the URL POSTed to. grpc: the URL whose host:port is dialled (`https:`: TLS). */
  url: string;
  headers: Readonly<Record<string, string>>;
  spanName: string;
  /** Resource attributes from OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (`service.name`). */
  resource: Readonly<Record<string, string>>;
  /** Why OTEL_RESOURCE_ATTRIBUTES was discarded whole (./resource.ts), if it was. */
  resourceError?: string;
  /** True when spans go to a collector the user chose (option or environment), not APIToolkit's:
   *  then an APIToolkit key is not needed to capture. */
  customEndpoint: boolean;
  /** Timeout of one export call (ms). */
  timeoutMs: number;
  compression: OtlpCompression;
  tls: Readonly<OtlpTls>;
  /** Environment variables that were not valid and were ignored: one warning at construction. */
  warnings: readonly string[];
}

/** APIToolkit's documented OpenTelemetry collector (docs: `OTEL_EXPORTER_OTLP_ENDPOINT=http://otelcol.apitoolkit.io:4317`, gRPC; 4318 for OTLP/HTTP). */
export const DEFAULT_OTLP_ENDPOINTS: Readonly<Record<OtlpProtocol, string>> = {
  "http/protobuf": "http://otelcol.apitoolkit.io:4318",
  grpc: "http://otelcol.apitoolkit.io:4317",
};
export const DEFAULT_SPAN_NAME = "monoscope.http";
/** The default compression, chosen by measurement (docs/delivery.md, "OTLP compression"). */
export const DEFAULT_COMPRESSION: OtlpCompression = "none";
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 600_000;
const TRACES_PATH = "/v1/traces";
/** The keys of OtlpOptions (the README test reads this list). */
export const OTLP_OPTION_KEYS = ["endpoint", "protocol", "headers", "spanName", "timeoutMs", "compression", "certificate", "clientKey", "clientCertificate", "insecure"] as const;
const KNOWN = new Set<string>(OTLP_OPTION_KEYS);
/** An HTTP header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what a header value may not hold
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** The environment variable for `name`: the traces-specific one when set, else the generic one. */
function envOf(env: NodeJS.ProcessEnv, name: string): { name: string; value: string } | undefined {
  for (const key of [`OTEL_EXPORTER_OTLP_TRACES_${name}`, `OTEL_EXPORTER_OTLP_${name}`]) {
    const v = env[key];
    if (nonEmpty(v)) return { name: key, value: v!.trim() };
  }
  return undefined;
}

/**
 * Validate the `otlp` option and apply the environment. Throws APIToolkitConfigError for an option
 * (construction only); an environment variable that is not valid is ignored and listed in
 * `warnings`. `publishTimeoutMs` is the top-level option when the user gave it.
 */
export function resolveOtlp(input: unknown, env: NodeJS.ProcessEnv, publishTimeoutMs?: number): ResolvedOtlp {
  if (input !== undefined && (input === null || typeof input !== "object" || Array.isArray(input))) fail("otlp must be an object");
  const o = (input ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) fail(`unknown option "otlp.${key}"`);
  const warnings: string[] = [];

  let protocol: OtlpProtocol;
  if (o.protocol !== undefined) {
    if (o.protocol !== "http/protobuf" && o.protocol !== "grpc") fail(`otlp.protocol must be "http/protobuf" or "grpc", got ${JSON.stringify(o.protocol)}`);
    protocol = o.protocol;
  } else {
    protocol = protocolFromEnv(env, warnings);
  }

  if (o.insecure !== undefined && typeof o.insecure !== "boolean") fail("otlp.insecure must be a boolean");
  let insecure = o.insecure as boolean | undefined;
  if (insecure === undefined) {
    const e = envOf(env, "INSECURE");
    if (e && /^(true|false)$/i.test(e.value)) insecure = e.value.toLowerCase() === "true";
    else if (e) warnings.push(`${e.name}="${e.value}" is not true or false`);
  }

  let url: string | undefined;
  let customEndpoint = true;
  if (o.endpoint !== undefined) {
    if (typeof o.endpoint !== "string") fail("otlp.endpoint must be a URL string");
    url = endpointUrl(o.endpoint, protocol, true, insecure === true);
    if (url === undefined) throw new APIToolkitConfigError("ERR_INVALID_URL", `otlp.endpoint must be an http(s) URL, got "${o.endpoint}"`);
  } else {
    for (const [name, append] of [["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", false], ["OTEL_EXPORTER_OTLP_ENDPOINT", true]] as const) {
      if (url !== undefined || !nonEmpty(env[name])) continue;
      url = endpointUrl(env[name]!, protocol, append, insecure === true);
      if (url === undefined) warnings.push(`${name}="${env[name]}" is not an http(s) URL`);
    }
    if (url === undefined) {
      url = endpointUrl(DEFAULT_OTLP_ENDPOINTS[protocol], protocol, true, false)!;
      customEndpoint = false;
    }
  }

  let headers: Record<string, string>;
  if (o.headers !== undefined) {
    if (o.headers === null || typeof o.headers !== "object" || Array.isArray(o.headers)) fail("otlp.headers must be an object of strings");
    headers = {};
    for (const [name, value] of Object.entries(o.headers as Record<string, unknown>)) {
      if (!TOKEN.test(name)) fail(`otlp.headers: "${name}" is not a valid header name`);
      if (typeof value !== "string" || BAD_VALUE.test(value)) fail(`otlp.headers: the value of "${name}" must be a string without control characters`);
      headers[name.toLowerCase()] = value;
    }
  } else {
    const e = envOf(env, "HEADERS");
    headers = e ? headersFromEnv(e.name, e.value, warnings) : {};
  }

  const spanName = o.spanName ?? DEFAULT_SPAN_NAME;
  if (typeof spanName !== "string" || spanName.trim() === "") fail("otlp.spanName must be a non-empty string");

  let timeoutMs: number;
  if (o.timeoutMs !== undefined) timeoutMs = int("otlp.timeoutMs", o.timeoutMs, DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS);
  else if (publishTimeoutMs !== undefined) timeoutMs = publishTimeoutMs;
  else {
    timeoutMs = DEFAULT_TIMEOUT_MS;
    const e = envOf(env, "TIMEOUT");
    if (e && /^\d+$/.test(e.value) && Number(e.value) >= 1 && Number(e.value) <= MAX_TIMEOUT_MS) timeoutMs = Number(e.value);
    else if (e) warnings.push(`${e.name}="${e.value}" is not a whole number of milliseconds in 1..${MAX_TIMEOUT_MS}`);
  }

  let compression: OtlpCompression = DEFAULT_COMPRESSION;
  if (o.compression !== undefined) {
    if (o.compression !== "gzip" && o.compression !== "none") fail(`otlp.compression must be "gzip" or "none", got ${JSON.stringify(o.compression)}`);
    compression = o.compression;
  } else {
    const e = envOf(env, "COMPRESSION");
    if (e && (e.value.toLowerCase() === "gzip" || e.value.toLowerCase() === "none")) compression = e.value.toLowerCase() as OtlpCompression;
    else if (e) warnings.push(`${e.name}="${e.value}" is not gzip or none`);
  }

  const tls: OtlpTls = {};
  const ca = pem("certificate", o.certificate, env, "CERTIFICATE", warnings);
  if (ca) tls.ca = ca;
  const key = pem("clientKey", o.clientKey, env, "CLIENT_KEY", warnings);
  const cert = pem("clientCertificate", o.clientCertificate, env, "CLIENT_CERTIFICATE", warnings);
  if ((key === undefined) !== (cert === undefined)) {
    // Mutual TLS needs both halves.
    if (o.clientKey !== undefined || o.clientCertificate !== undefined) fail("otlp.clientKey and otlp.clientCertificate go together: give both or neither");
    warnings.push("a client key without a client certificate (or the reverse) is not usable: mutual TLS is off");
  } else if (key && cert) {
    tls.key = key;
    tls.cert = cert;
  }

  const { attributes: resource, error: resourceError } = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  if (nonEmpty(env.OTEL_SERVICE_NAME)) resource["service.name"] = env.OTEL_SERVICE_NAME!.trim();
  return {
    protocol, url, headers, spanName, resource, customEndpoint, timeoutMs, compression, tls, warnings,
    ...(resourceError !== undefined ? { resourceError } : {}),
  };
}

/**
 * PEM material from the option (PEM text, a Buffer, or a file path: a failure throws) or else the
 * environment (a file path: a failure is a warning and Node's default).
 */
function pem(option: string, value: unknown, env: NodeJS.ProcessEnv, name: string, warnings: string[]): Buffer | undefined {
  if (value !== undefined) {
    if (Buffer.isBuffer(value)) return value;
    if (typeof value !== "string" || value.trim() === "") fail(`otlp.${option} must be PEM text, a Buffer or a file path`);
    if (value.includes("-----BEGIN")) return Buffer.from(value);
    let data: Buffer;
    try {
      data = readFileSync(value);
    } catch (err) {
      fail(`otlp.${option}: cannot read "${value}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (!isPem(data)) fail(`otlp.${option}: "${value}" is not PEM`);
    return data;
  }
  const e = envOf(env, name);
  if (!e) return undefined;
  try {
    const data = readFileSync(e.value);
    if (isPem(data)) return data;
    warnings.push(`${e.name}: "${e.value}" is not PEM`);
  } catch (err) {
    warnings.push(`${e.name}: cannot read "${e.value}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return undefined;
}

/** PEM text: at least one `-----BEGIN ...-----` block. */
function isPem(data: Buffer): boolean {
  return data.includes("-----BEGIN ");
}

function nonEmpty(v: string | undefined): boolean {
  return typeof v === "string" && v.trim() !== "";
}

function protocolFromEnv(env: NodeJS.ProcessEnv, warnings: string[]): OtlpProtocol {
  const e = envOf(env, "PROTOCOL");
  if (!e) return "http/protobuf";
  if (e.value === "grpc" || e.value === "http/protobuf") return e.value;
  // APIToolkit's collector takes protobuf only: an SDK-wide http/json setting still means OTLP/HTTP.
  if (e.value === "http/json") return "http/protobuf";
  warnings.push(`${e.name}="${e.value}" is not grpc, http/protobuf or http/json`);
  return "http/protobuf";
}

/**
 * The URL to export to, or undefined when `raw` is not an http(s) URL. A value without a scheme
 * (`collector:4317`, as gRPC endpoints are often written) is taken as `https://` for grpc (as the
 * specification says: TLS unless `insecure`) and `http://` for http/protobuf. For http/protobuf a
 * base endpoint gets `/v1/traces` appended (unless it already ends so); a signal-specific one
 * (`appendPath` false) is used as it is.
 */
function endpointUrl(raw: string, protocol: OtlpProtocol, appendPath: boolean, insecure: boolean): string | undefined {
  const text = raw.trim();
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  const scheme = protocol === "grpc" && !insecure ? "https" : "http";
  let u: URL;
  try {
    u = new URL(hasScheme ? text : `${scheme}://${text}`);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    if (!u.hostname) return undefined;
  } catch {
    return undefined;
  }
  if (protocol === "grpc") return `${u.protocol}//${u.host}`;
  if (appendPath) {
    const path = u.pathname.replace(/\/+$/, "");
    if (!path.endsWith(TRACES_PATH)) u.pathname = path + TRACES_PATH;
  }
  return u.toString();
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: `k=v,k2=v2`, values percent-decoded; entries that are not valid are left out (and warned of). */
function headersFromEnv(name: string, raw: string, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(keyValues(raw, () => warnings.push(`${name} holds an entry that is not key=value (percent-encoded)`)))) {
    if (TOKEN.test(key) && !BAD_VALUE.test(value)) out[key.toLowerCase()] = value;
    else warnings.push(`${name}: "${key}" is not a valid header (name or value)`);
  }
  return out;
}

/** The W3C Baggage-like `k=v,k2=v2` lists of the OTel environment variables; `bad` is told of each entry left out. */
function keyValues(raw: string | undefined, bad?: () => void): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const part of raw.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) {
      bad?.();
      continue;
    }
    try {
      const key = decodeURIComponent(part.slice(0, eq).trim());
      const value = decodeURIComponent(part.slice(eq + 1).trim());
      if (key) out[key] = value;
      else bad?.();
    } catch {
      bad?.(); // a malformed escape: the entry is left out, as the OpenTelemetry SDKs do
    }
  }
  return out;
}

/**
 * The `otlp` options and the standard OTEL_EXPORTER_OTLP_* environment variables, resolved once at
 * construction (by resolveOptions) into where and how spans are exported.
 */
import { APIToolkitConfigError } from "../../registry/codes.js";
import { fail } from "../../config/validate.js";
import { parseResourceAttributes } from "./resource.js";

/** How spans travel: OTLP over HTTP with protobuf bodies, or OTLP over gRPC. */
export type OtlpProtocol = "http/protobuf" | "grpc";

/**
 * Options of OpenTelemetry delivery (`delivery: "otlp"`). Each one left out falls back to the
 * standard OpenTelemetry environment variable, then to APIToolkit's collector.
 *
 * @example
 * new APIToolkit({
 *   apiKey: process.env.APITOOLKIT_KEY,
 *   delivery: "otlp",
 *   otlp: { endpoint: "http://127.0.0.1:4318", protocol: "http/protobuf", headers: { "x-tenant": "a" } },
 * });
 */
export interface OtlpOptions {
  /**
   * The collector, as a URL. `http/protobuf` POSTs to `{endpoint}/v1/traces`; `grpc` dials its
   * host:port (TLS for `https:`). Default: env `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as the
   * full URL), else `OTEL_EXPORTER_OTLP_ENDPOINT`, else APIToolkit's collector
   * (`http://otelcol.apitoolkit.io:4318`, or `:4317` for grpc).
   */
  endpoint?: string;
  /** Default: env `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`, else `"http/protobuf"`. */
  protocol?: OtlpProtocol;
  /** Sent with every export (HTTP headers or gRPC metadata). Default: env `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`). */
  headers?: Record<string, string>;
  /** Name of every span. Default `"monoscope.http"`, the name APIToolkit's server reads. */
  spanName?: string;
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
}

/** APIToolkit's documented OpenTelemetry collector (docs: `OTEL_EXPORTER_OTLP_ENDPOINT=http://otelcol.apitoolkit.io:4317`, gRPC; 4318 for OTLP/HTTP). */
export const DEFAULT_OTLP_ENDPOINTS: Readonly<Record<OtlpProtocol, string>> = {
  "http/protobuf": "http://otelcol.apitoolkit.io:4318",
  grpc: "http://otelcol.apitoolkit.io:4317",
};
export const DEFAULT_SPAN_NAME = "monoscope.http";
const TRACES_PATH = "/v1/traces";
const KNOWN = new Set(["endpoint", "protocol", "headers", "spanName"]);
/** An HTTP header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what a header value may not hold
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Validate the `otlp` option and apply the environment. Throws APIToolkitConfigError (construction only). */
export function resolveOtlp(input: unknown, env: NodeJS.ProcessEnv): ResolvedOtlp {
  if (input !== undefined && (input === null || typeof input !== "object" || Array.isArray(input))) fail("otlp must be an object");
  const o = (input ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) fail(`unknown option "otlp.${key}"`);

  let protocol: OtlpProtocol;
  if (o.protocol !== undefined) {
    if (o.protocol !== "http/protobuf" && o.protocol !== "grpc") fail(`otlp.protocol must be "http/protobuf" or "grpc", got ${JSON.stringify(o.protocol)}`);
    protocol = o.protocol;
  } else {
    protocol = protocolFromEnv(env);
  }

  let url: string;
  let customEndpoint = true;
  if (o.endpoint !== undefined) {
    if (typeof o.endpoint !== "string") fail("otlp.endpoint must be a URL string");
    url = endpointUrl("otlp.endpoint", o.endpoint, protocol, true);
  } else if (nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) {
    url = endpointUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT!, protocol, false);
  } else if (nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT)) {
    url = endpointUrl("OTEL_EXPORTER_OTLP_ENDPOINT", env.OTEL_EXPORTER_OTLP_ENDPOINT!, protocol, true);
  } else {
    url = endpointUrl("the default endpoint", DEFAULT_OTLP_ENDPOINTS[protocol], protocol, true);
    customEndpoint = false;
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
    headers = headersFromEnv(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS);
  }

  const spanName = o.spanName ?? DEFAULT_SPAN_NAME;
  if (typeof spanName !== "string" || spanName.trim() === "") fail("otlp.spanName must be a non-empty string");

  const { attributes: resource, error: resourceError } = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  if (nonEmpty(env.OTEL_SERVICE_NAME)) resource["service.name"] = env.OTEL_SERVICE_NAME!.trim();
  return { protocol, url, headers, spanName, resource, customEndpoint, ...(resourceError !== undefined ? { resourceError } : {}) };
}

function nonEmpty(v: string | undefined): boolean {
  return typeof v === "string" && v.trim() !== "";
}

function protocolFromEnv(env: NodeJS.ProcessEnv): OtlpProtocol {
  const name = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const raw = env[name]?.trim();
  if (!raw) return "http/protobuf";
  if (raw === "grpc" || raw === "http/protobuf") return raw;
  // APIToolkit's collector takes protobuf only: an SDK-wide http/json setting still means OTLP/HTTP.
  if (raw === "http/json") return "http/protobuf";
  fail(`${name} must be "grpc", "http/protobuf" or "http/json", got "${raw}"`);
}

/**
 * The URL to export to. A value without a scheme (`collector:4317`, as gRPC endpoints are often
 * written) is taken as `http://`. For http/protobuf a base endpoint gets `/v1/traces` appended
 * (unless it already ends so); a signal-specific one (`appendPath` false) is used as it is.
 */
function endpointUrl(name: string, raw: string, protocol: OtlpProtocol, appendPath: boolean): string {
  const text = raw.trim();
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
    if (!u.hostname) throw new Error("host");
  } catch {
    throw new APIToolkitConfigError("ERR_INVALID_URL", `${name} must be an http(s) URL, got "${raw}"`);
  }
  if (protocol === "grpc") return `${u.protocol}//${u.host}`;
  if (appendPath) {
    const path = u.pathname.replace(/\/+$/, "");
    if (!path.endsWith(TRACES_PATH)) u.pathname = path + TRACES_PATH;
  }
  return u.toString();
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: `k=v,k2=v2`, values percent-decoded; entries that are not valid are left out. */
function headersFromEnv(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(keyValues(raw))) {
    if (TOKEN.test(name) && !BAD_VALUE.test(value)) out[name.toLowerCase()] = value;
  }
  return out;
}

/** The W3C Baggage-like `k=v,k2=v2` lists of the OTel environment variables. */
function keyValues(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const part of raw.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    try {
      const key = decodeURIComponent(part.slice(0, eq).trim());
      const value = decodeURIComponent(part.slice(eq + 1).trim());
      if (key) out[key] = value;
    } catch {
      /* a malformed escape: the entry is left out, as the OpenTelemetry SDKs do */
    }
  }
  return out;
}

// The readable reference for the wire message: the object-building implementation the SDK used
// before it serialized in one pass (src/wire/serialize.ts). Tests compare the two on random
// exchanges, so the fast path must say exactly what this says.
import type { ResolvedConfig } from "../../src/config/options.js";
import type { Exchange, RawHeaders } from "../../src/capture/exchange.js";
import type { WireMessage } from "../../src/wire/types.js";
import { queryParams } from "../../src/capture/url.js";
import { renderBody } from "../../src/redact/body.js";
import type { RuleSet } from "../../src/redact/rules.js";
import { REDACTED } from "../../src/registry/marker.js";

const REDACTED_VALUE = [REDACTED];

function add(out: Record<string, string[]>, name: string, value: string, redact: ReadonlySet<string>): void {
  const key = name.toLowerCase();
  if (redact.has(key)) {
    out[key] = REDACTED_VALUE.slice();
    return;
  }
  const list = Object.prototype.hasOwnProperty.call(out, key) ? out[key]! : (out[key] = []);
  list.push(value);
}

/**
 * Headers as the wire format wants them (lower-case name -> array of values, repeats kept in order),
 * with every header whose NAME is in `redact` (lower-case) replaced by ["[CLIENT_REDACTED]"].
 * The result has a null prototype, so `__proto__` is just a header name.
 */
export function wireHeaders(raw: RawHeaders | undefined, redact: ReadonlySet<string>): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  if (!raw) return out;
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) add(out, String(raw[i]), String(raw[i + 1]), redact);
    return out;
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) add(out, name, String(v), redact);
    else add(out, name, String(value), redact);
  }
  return out;
}

/** First value of a header (name matched case-insensitively) from captured raw headers, for content-type and the like. */
export function headerValue(raw: RawHeaders | undefined, name: string): string | undefined {
  if (!raw) return undefined;
  name = name.toLowerCase();
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (String(raw[i]).toLowerCase() === name) return String(raw[i + 1]);
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (k.toLowerCase() === name && v !== undefined) return Array.isArray(v) ? String(v[0]) : String(v);
  }
  return undefined;
}

/**
 * Build the wire message for one exchange: headers and bodies redacted by the rules, bodies
 * base64-encoded. Pure apart from reading the exchange; never mutates it.
 */
export function buildMessage(ex: Exchange, cfg: ResolvedConfig, projectId: string, rules: RuleSet): WireMessage {
  const reqCt = headerValue(ex.requestHeaders, "content-type");
  const resCt = headerValue(ex.responseHeaders, "content-type");
  const requestBody = renderBody(ex.requestBody, reqCt, headerValue(ex.requestHeaders, "content-encoding"), rules.request, cfg.maxBodyBytes);
  const responseBody = renderBody(ex.responseBody, resCt, headerValue(ex.responseHeaders, "content-encoding"), rules.response, cfg.maxBodyBytes);
  const msg: WireMessage = {
    duration: Math.max(0, Math.round(ex.durationNs)),
    host: ex.host,
    method: ex.method.toUpperCase(),
    path_params: { ...ex.pathParams },
    project_id: projectId,
    proto_major: ex.protoMajor,
    proto_minor: ex.protoMinor,
    query_params: queryParams(ex.rawUrl),
    raw_url: ex.rawUrl,
    referer: headerValue(ex.requestHeaders, "referer") ?? "",
    request_body: requestBody.toString("base64"),
    request_headers: wireHeaders(ex.requestHeaders, rules.headers),
    response_body: responseBody.toString("base64"),
    response_headers: wireHeaders(ex.responseHeaders, rules.headers),
    sdk_type: ex.sdkType,
    status_code: ex.statusCode,
    timestamp: new Date(ex.startEpochMs).toISOString(),
    msg_id: ex.msgId,
    errors: ex.errors,
  };
  if (ex.urlPath !== undefined) msg.url_path = ex.urlPath;
  if (ex.parentId) msg.parent_id = ex.parentId;
  if (cfg.serviceVersion !== undefined) msg.service_version = cfg.serviceVersion;
  if (cfg.tags !== undefined) msg.tags = cfg.tags;
  return msg;
}

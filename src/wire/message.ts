import type { ResolvedConfig } from "../config/options.js";
import type { Exchange } from "../capture/exchange.js";
import type { WireMessage } from "./types.js";
import { markBase64Bodies } from "./encode.js";
import { headerValue, wireHeaders } from "../redact/headers.js";
import { renderBody } from "../redact/body.js";
import type { RuleSet } from "../redact/rules.js";




/** name -> every value in order, from the query string of a raw URL. */
export function queryParams(rawUrl: string): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  const q = rawUrl.indexOf("?");
  if (q < 0) return out;
  const hash = rawUrl.indexOf("#", q);
  for (const [k, v] of new URLSearchParams(rawUrl.slice(q + 1, hash < 0 ? undefined : hash))) {
    (out[k] ??= []).push(v);
  }
  return out;
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
  markBase64Bodies(msg);
  return msg;
}

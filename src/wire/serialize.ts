/**
 * One exchange -> the bytes of one wire message (UTF-8 JSON), in one pass and without building the
 * message as an object first: headers go from the captured raw list straight to JSON text (redacted
 * by name), bodies are redacted, base64-encoded and copied in, the rest are fixed keys. This runs
 * when the response finishes, so that nothing of the request outlives it but these bytes.
 *
 * `project_id` is the first key, written as a placeholder of the same length (a UUID), so bytes
 * serialized before bootstrap learnt the project can be stamped in place ({@link stampProjectId}).
 */
import type { Exchange, RawHeaders } from "../capture/exchange.js";
import { queryParams } from "../capture/url.js";
import { renderBody } from "../redact/body.js";
import type { RuleSet } from "../redact/rules.js";
import { REDACTED } from "../registry/marker.js";

/** What serialization needs of the configuration. */
export interface SerializeOptions {
  readonly maxBodyBytes: number;
  readonly serviceVersion: string | undefined;
  readonly tags: readonly string[] | undefined;
}

/** A UUID-shaped placeholder for `project_id` until bootstrap has answered. */
export const PROJECT_ID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000";
const HEAD = '{"project_id":"';
/** Byte offset of the project id in every serialized message. */
export const PROJECT_ID_OFFSET = HEAD.length;
const REDACTED_LIST = `[${JSON.stringify(REDACTED)}]`;

/** Write the project id into a serialized message (in place). */
export function stampProjectId(message: Buffer, projectId: string): void {
  message.write(projectId, PROJECT_ID_OFFSET, 36, "latin1");
}

/** Characters a JSON string cannot hold as they are (JSON.stringify escapes lone surrogates too). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;
/** A string as JSON text: most strings need no escape, and the test is cheaper than JSON.stringify. */
function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** Captured headers as two parallel lists: lower-case names and values, repeats in order. */
interface HeaderList {
  readonly names: string[];
  readonly values: string[];
}

/** node's flat rawHeaders, or a name -> value(s) map, as a HeaderList. */
function headerList(raw: RawHeaders | undefined): HeaderList {
  const names: string[] = [];
  const values: string[] = [];
  if (!raw) return { names, values };
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      names.push(String(raw[i]).toLowerCase());
      values.push(String(raw[i + 1]));
    }
    return { names, values };
  }
  for (const name of Object.keys(raw)) {
    const v = (raw as Record<string, unknown>)[name];
    if (v === undefined) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(v)) {
      for (const one of v) {
        names.push(lower);
        values.push(String(one));
      }
    } else {
      names.push(lower);
      values.push(String(v));
    }
  }
  return { names, values };
}

/** The first value of a header (`name` in lower case). */
function first(h: HeaderList, name: string): string | undefined {
  const i = h.names.indexOf(name);
  return i < 0 ? undefined : h.values[i];
}

/** `{"name":["v1","v2"],...}`: repeats grouped in order, names in `redact` as ["[CLIENT_REDACTED]"]. */
function headersJson(h: HeaderList, redact: ReadonlySet<string>): string {
  const { names, values } = h;
  let out = "{";
  const n = names.length;
  for (let i = 0; i < n; i++) {
    const name = names[i]!;
    if (names.indexOf(name) < i) continue; // already written with its first occurrence
    if (out.length > 1) out += ",";
    out += str(name);
    if (redact.has(name)) {
      out += ":" + REDACTED_LIST;
      continue;
    }
    out += ":[" + str(values[i]);
    for (let j = i + 1; j < n; j++) if (names[j] === name) out += "," + str(values[j]);
    out += "]";
  }
  return out + "}";
}

/** The wire JSON of one side's headers (what serializeExchange writes for them). */
export function headersOnWire(raw: RawHeaders | undefined, redact: ReadonlySet<string>): string {
  return headersJson(headerList(raw), redact);
}

function queryJson(rawUrl: string): string {
  if (rawUrl.indexOf("?") < 0) return "{}";
  const q = queryParams(rawUrl);
  let out = "{";
  for (const k of Object.keys(q)) {
    if (out.length > 1) out += ",";
    out += str(k) + ":" + JSON.stringify(q[k]);
  }
  return out + "}";
}

function paramsJson(params: Record<string, string>): string {
  let out = "{";
  for (const k of Object.keys(params)) {
    if (out.length > 1) out += ",";
    out += str(k) + ":" + str(params[k]!);
  }
  return out + "}";
}

/**
 * The wire message of one exchange as UTF-8 JSON bytes, redacted by `rules` (headers by name,
 * bodies by JSONPath, failing closed), with the project id placeholder in front. Throws only on
 * an internal error (the caller counts it as `build_failed`).
 */
export function serializeExchange(ex: Exchange, options: SerializeOptions, rules: RuleSet): Buffer {
  const limit = options.maxBodyBytes;
  const reqH = headerList(ex.requestHeaders);
  const resH = headerList(ex.responseHeaders);
  const reqBody = ex.requestBody.keptBytes === 0 && ex.requestBody.parsed === undefined
    ? ""
    : renderBody(ex.requestBody, first(reqH, "content-type"), first(reqH, "content-encoding"), rules.request, limit).toString("base64");
  const resBody = ex.responseBody.keptBytes === 0 && ex.responseBody.parsed === undefined
    ? ""
    : renderBody(ex.responseBody, first(resH, "content-type"), first(resH, "content-encoding"), rules.response, limit).toString("base64");
  let head = HEAD + PROJECT_ID_PLACEHOLDER +
    '","msg_id":' + str(ex.msgId) +
    ',"timestamp":"' + new Date(ex.startEpochMs).toISOString() +
    '","duration":' + Math.max(0, Math.round(ex.durationNs)) +
    ',"sdk_type":' + str(ex.sdkType) +
    ',"method":' + str(ex.method.toUpperCase()) +
    ',"host":' + str(ex.host) +
    ',"raw_url":' + str(ex.rawUrl) +
    ',"proto_major":' + ex.protoMajor + ',"proto_minor":' + ex.protoMinor +
    ',"status_code":' + ex.statusCode +
    ',"path_params":' + paramsJson(ex.pathParams) +
    ',"query_params":' + queryJson(ex.rawUrl) +
    ',"referer":' + str(first(reqH, "referer") ?? "") +
    ',"request_headers":' + headersJson(reqH, rules.headers) +
    ',"response_headers":' + headersJson(resH, rules.headers) +
    ',"errors":' + (ex.errors.length === 0 ? "[]" : JSON.stringify(ex.errors));
  if (ex.urlPath !== undefined) head += ',"url_path":' + str(ex.urlPath);
  if (ex.parentId) head += ',"parent_id":' + str(ex.parentId);
  if (options.serviceVersion !== undefined) head += ',"service_version":' + str(options.serviceVersion);
  if (options.tags !== undefined) head += ',"tags":' + JSON.stringify(options.tags);
  head += ',"request_body":"';
  const mid = '","response_body":"';
  const headBytes = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headBytes + reqBody.length + mid.length + resBody.length + 2);
  let at = out.write(head, 0, "utf8");
  at += out.write(reqBody, at, "latin1");
  at += out.write(mid, at, "latin1");
  at += out.write(resBody, at, "latin1");
  out.write('"}', at, "latin1");
  return out;
}

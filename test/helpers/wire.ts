// A validator of the wire format (docs/wire-format.md in the shared docs): what the ingestion
// service's decoder accepts. Returns the list of problems ("" path = the message itself).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 3339 date-time with a mandatory offset (Z or +hh:mm). */
const RFC3339 = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const SDK_TYPES = new Set(["JsExpress", "JsNest", "JsFastify", "JsAdonis", "JsNext", "JsOutgoing", "JsAxiosOutgoing"]);
const ERROR_KEYS = ["when", "error_type", "root_error_type", "root_error_message", "message", "stack_trace"];
const REQUIRED: Record<string, "integer" | "string" | "object" | "uuid" | "timestamp" | "b64" | "sdk" | "headers" | "query" | "params" | "errors"> = {
  duration: "integer",
  method: "string",
  path_params: "params",
  project_id: "uuid",
  proto_major: "integer",
  proto_minor: "integer",
  query_params: "query",
  raw_url: "string",
  request_body: "b64",
  request_headers: "headers",
  response_body: "b64",
  response_headers: "headers",
  sdk_type: "sdk",
  status_code: "integer",
  timestamp: "timestamp",
};
const KNOWN = new Set([...Object.keys(REQUIRED), "host", "referer", "url_path", "msg_id", "parent_id", "service_version", "tags", "errors"]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkStringArrays(v: unknown, where: string, out: string[]): void {
  if (!isPlainObject(v)) return void out.push(`${where}: expected an object`);
  for (const [k, list] of Object.entries(v)) {
    if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) out.push(`${where}.${k}: expected an array of strings`);
  }
}

/** Problems with one decoded message (the parsed JSON of a Pub/Sub message's data); [] when valid. */
export function wireProblems(msg: unknown): string[] {
  const out: string[] = [];
  if (!isPlainObject(msg)) return ["message: expected a JSON object"];
  for (const [key, kind] of Object.entries(REQUIRED)) {
    const v = msg[key];
    if (v === undefined) {
      out.push(`${key}: missing`);
      continue;
    }
    switch (kind) {
      case "integer":
        if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) out.push(`${key}: expected a non-negative integer, got ${JSON.stringify(v)}`);
        break;
      case "string":
        if (typeof v !== "string") out.push(`${key}: expected a string`);
        break;
      case "uuid":
        if (typeof v !== "string" || !UUID.test(v)) out.push(`${key}: expected a UUID, got ${JSON.stringify(v)}`);
        break;
      case "timestamp":
        if (typeof v !== "string" || !RFC3339.test(v) || Number.isNaN(Date.parse(v))) out.push(`${key}: expected RFC 3339, got ${JSON.stringify(v)}`);
        break;
      case "b64":
        if (typeof v !== "string" || !BASE64.test(v)) out.push(`${key}: expected standard base64`);
        break;
      case "sdk":
        if (typeof v !== "string" || !SDK_TYPES.has(v)) out.push(`${key}: unknown sdk_type ${JSON.stringify(v)}`);
        break;
      case "headers":
      case "query":
        checkStringArrays(v, key, out);
        break;
      case "params":
        if (!isPlainObject(v) || Object.values(v).some((s) => typeof s !== "string")) out.push(`${key}: expected an object of strings`);
        break;
    }
  }
  if (typeof msg.method === "string" && (msg.method !== msg.method.toUpperCase() || msg.method === "")) out.push("method: expected upper case");
  if (typeof msg.status_code === "number" && (msg.status_code < 100 || msg.status_code > 999)) out.push("status_code: out of range");
  for (const key of ["host", "referer", "url_path", "service_version"]) {
    if (msg[key] !== undefined && typeof msg[key] !== "string") out.push(`${key}: expected a string`);
  }
  if (typeof msg.url_path === "string" && msg.url_path !== "" && !msg.url_path.startsWith("/")) out.push(`url_path: expected a leading slash, got ${JSON.stringify(msg.url_path)}`);
  for (const key of ["msg_id", "parent_id"]) {
    if (msg[key] !== undefined && (typeof msg[key] !== "string" || !UUID.test(msg[key] as string))) out.push(`${key}: expected a UUID`);
  }
  if (msg.tags !== undefined && (!Array.isArray(msg.tags) || msg.tags.some((t) => typeof t !== "string"))) out.push("tags: expected an array of strings");
  if (msg.errors !== undefined) {
    if (!Array.isArray(msg.errors)) out.push("errors: expected an array");
    else {
      msg.errors.forEach((e, i) => {
        if (!isPlainObject(e)) return void out.push(`errors[${i}]: expected an object`);
        for (const k of ERROR_KEYS) if (typeof e[k] !== "string") out.push(`errors[${i}].${k}: expected a string`);
        if (typeof e.when === "string" && !RFC3339.test(e.when)) out.push(`errors[${i}].when: expected RFC 3339`);
      });
    }
  }
  for (const key of Object.keys(msg)) if (!KNOWN.has(key)) out.push(`${key}: unknown key`);
  return out;
}

/** Throw (with every problem listed) unless `msg` is a valid wire message. */
export function assertWireMessage(msg: unknown): void {
  const problems = wireProblems(msg);
  if (problems.length) throw new Error(`invalid wire message:\n  ${problems.join("\n  ")}\n${JSON.stringify(msg).slice(0, 500)}`);
}

/** Validate the raw bytes of a Pub/Sub message: UTF-8 JSON of a wire message. Returns the message. */
export function assertWireBytes(data: Buffer): Record<string, unknown> {
  const text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  const msg = JSON.parse(text) as Record<string, unknown>;
  assertWireMessage(msg);
  return msg;
}

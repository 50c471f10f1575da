/**
 * One wire message (the JSON the queue holds, already redacted) -> one span, shaped as the
 * OpenTelemetry SDK's `ReadableSpan` so that OpenTelemetry's own serializer encodes it. Runs in
 * the transport's send(), off the request path.
 *
 * Ids are derived from the message alone, so the parent/child link holds without any state: the
 * span id is a hash of `msg_id`; the trace id is the OpenTelemetry trace the exchange joined
 * (`traceparent`), else the incoming request's `msg_id` (its own for an incoming request, its
 * `parent_id` for an outgoing call); an outgoing call's parent is the span of `parent_id`.
 */
import * as crypto from "node:crypto";
import type { ErrorRecord, WireMessage } from "../../wire/types.js";

/**
 * What the transport reads of a queued message: `traceparent`, `url_scheme` and `identity` (typed
 * attributes: user.*, tenant.*, session.id, the app's own) exist only in OTLP mode.
 */
export type OtlpWireMessage = Omit<WireMessage, "request_body" | "response_body"> & {
  /** The body's base64 text, or (./encode.ts) where that text lies in the queued message's bytes. */
  request_body: string | ByteRange;
  response_body: string | ByteRange;
  traceparent?: string;
  url_scheme?: string;
  identity?: Record<string, unknown>;
};

/**
 * A string attribute's UTF-8 bytes as they lie in a queued message (a body's base64 text, which
 * JSON writes unescaped): ./encode.ts copies them into the span without making a string of them.
 */
export class ByteRange {
  constructor(readonly source: Buffer, readonly start: number, readonly end: number) {}
}

export type AttributeValue = string | number | boolean | string[] | ByteRange;
export type Attributes = Record<string, AttributeValue>;
/** [seconds, nanoseconds], as OpenTelemetry's HrTime. */
export type HrTime = [number, number];

export interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
}

/** The Resource shape OpenTelemetry's serializer reads. */
export interface SpanResource {
  readonly attributes: Attributes;
  readonly asyncAttributesPending: boolean;
  readonly schemaUrl?: string;
  waitForAsyncAttributes(): Promise<void>;
  getRawAttributes(): Array<[string, AttributeValue]>;
}

export interface SpanScope {
  name: string;
  version?: string;
}

/** The fields of OpenTelemetry's ReadableSpan (sdk-trace 1.x and 2.x) that its OTLP serializers read. */
export interface OtlpSpan {
  name: string;
  kind: number;
  spanContext(): SpanContext;
  parentSpanContext: SpanContext | undefined;
  /** sdk-trace 1.x spelling of the parent. */
  parentSpanId: string | undefined;
  startTime: HrTime;
  endTime: HrTime;
  duration: HrTime;
  status: { code: number; message?: string };
  attributes: Attributes;
  links: never[];
  events: Array<{ name: string; time: HrTime; attributes: Attributes; droppedAttributesCount: number }>;
  ended: true;
  resource: SpanResource;
  instrumentationScope: SpanScope;
  /** sdk-trace 1.x spelling of the scope. */
  instrumentationLibrary: SpanScope;
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
}

/** OpenTelemetry API enums (SpanKind, SpanStatusCode). */
export const SPAN_KIND_SERVER = 1;
export const SPAN_KIND_CLIENT = 2;
export const STATUS_UNSET = 0;
export const STATUS_ERROR = 2;

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ZERO32 = "0".repeat(32);
const ZERO16 = "0".repeat(16);
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** SHA-256 of a string, in hex: the one-shot `crypto.hash` where Node has it (half the cost of a Hash object). */
const sha256Hex: (text: string) => string = typeof (crypto as { hash?: unknown }).hash === "function"
  ? (text) => (crypto as unknown as { hash(alg: string, data: string, enc: "hex"): string }).hash("sha256", text, "hex")
  : (text) => crypto.createHash("sha256").update(text).digest("hex");

/** The span id of the message `msgId`: the first 8 bytes of its SHA-256 (never all zero). */
export function spanIdOf(msgId: string): string {
  const id = sha256Hex(msgId).slice(0, 16);
  return id === ZERO16 ? "0000000000000001" : id;
}

/** The trace id a message that starts a trace gets: its UUID's 16 bytes (a hash if it is not a UUID). */
export function traceIdOf(msgId: string): string {
  if (isLowerUuid(msgId)) {
    const hex = msgId.slice(0, 8) + msgId.slice(9, 13) + msgId.slice(14, 18) + msgId.slice(19, 23) + msgId.slice(24);
    if (hex !== ZERO32) return hex;
  }
  const hex = msgId.replace(/-/g, "").toLowerCase();
  if (HEX32.test(hex) && hex !== ZERO32) return hex;
  return sha256Hex(msgId).slice(0, 32);
}

/** `8-4-4-4-12` lower-case hex digits (every msg_id the SDK makes): the common case of traceIdOf, without a regular expression. */
function isLowerUuid(id: string): boolean {
  if (id.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = id.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** A W3C traceparent, or undefined when it is not a valid one (unknown version 0xff, zero ids). */
export function parseTraceparent(tp: string | undefined): SpanContext | undefined {
  if (typeof tp !== "string") return undefined;
  const m = TRACEPARENT.exec(tp.trim().toLowerCase());
  if (!m || m[1] === "ff" || m[2] === ZERO32 || m[3] === ZERO16 || !HEX32.test(m[2]!) || !HEX16.test(m[3]!)) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16) & 1, isRemote: false };
}

/** `[seconds, nanoseconds]` of epoch milliseconds plus nanoseconds. */
function hrTime(epochMs: number, plusNs = 0): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  const nanos = Math.round((epochMs - seconds * 1000) * 1e6) + plusNs;
  return [seconds + Math.floor(nanos / 1e9), nanos % 1e9];
}

function nsToHrTime(ns: number): HrTime {
  return [Math.floor(ns / 1e9), ns % 1e9];
}

/** Host and port of a Host header value (`example.com:8080`, `[::1]:3000`). */
function splitHost(host: string): { address: string; port: number | undefined } {
  const v6 = /^\[([^\]]*)\](?::(\d+))?$/.exec(host);
  if (v6) return { address: v6[1]!, port: v6[2] ? Number(v6[2]) : undefined };
  const colon = host.lastIndexOf(":");
  if (colon > 0 && host.indexOf(":") === colon && /^\d+$/.test(host.slice(colon + 1))) {
    return { address: host.slice(0, colon), port: Number(host.slice(colon + 1)) };
  }
  return { address: host, port: undefined };
}

/** Attribute keys by header name, per prefix: the same few dozen names recur in every span. */
const headerKeys = new Map<string, Map<string, string>>();
const MAX_CACHED_KEYS = 1024;

function headerKey(prefix: string, name: string): string {
  let keys = headerKeys.get(prefix);
  if (keys === undefined) headerKeys.set(prefix, (keys = new Map()));
  let key = keys.get(name);
  if (key === undefined) {
    key = prefix + name;
    if (keys.size < MAX_CACHED_KEYS) keys.set(name, key);
  }
  return key;
}

/** The message's header values as they are (arrays of strings fresh from JSON.parse); anything else as strings. */
function headerAttributes(put: PutAttribute, prefix: string, headers: Record<string, string[]> | undefined): void {
  if (!headers) return;
  for (const name of Object.keys(headers)) {
    const values = headers[name];
    if (!Array.isArray(values)) continue;
    let strings = true;
    for (let i = 0; i < values.length; i++) if (typeof values[i] !== "string") strings = false;
    put(headerKey(prefix, name), strings ? values : values.map(String));
  }
}

function exceptionEvent(e: ErrorRecord, fallback: HrTime): OtlpSpan["events"][number] {
  const when = Date.parse(e.when);
  return {
    name: "exception",
    time: Number.isFinite(when) ? hrTime(when) : fallback,
    attributes: { "exception.type": text(e.error_type), "exception.message": text(e.message), "exception.stacktrace": text(e.stack_trace) },
    droppedAttributesCount: 0,
  };
}

/**
 * The root cause of an error whose `cause` chain leads elsewhere, as a second `exception` event
 * (the server reads `exception.type` and `exception.message` of every such event); undefined when
 * the root is the error itself.
 */
function rootCauseEvent(e: ErrorRecord, time: HrTime): OtlpSpan["events"][number] | undefined {
  const type = text(e.root_error_type);
  const message = text(e.root_error_message);
  if ((type === "" && message === "") || (type === text(e.error_type) && message === text(e.message))) return undefined;
  return {
    name: "exception",
    time,
    attributes: { "exception.type": type, "exception.message": message, "exception.root_cause": true },
    droppedAttributesCount: 0,
  };
}

/** A wire text field as a string (the message is the SDK's own, but an attribute must never be anything else). */
function text(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}

/** A body attribute: the base64 text (or where it lies in the message), else "". */
function bodyOf(v: unknown): string | ByteRange {
  return typeof v === "string" || v instanceof ByteRange ? v : "";
}

/** The scheme of a message: the one the capture saw (OTLP mode), else X-Forwarded-Proto, else http. */
function schemeOf(m: OtlpWireMessage): string {
  if (m.url_scheme === "https" || m.url_scheme === "http") return m.url_scheme;
  const forwarded = m.request_headers?.["x-forwarded-proto"]?.[0];
  const first = typeof forwarded === "string" ? forwarded.split(",")[0]!.trim().toLowerCase() : "";
  return first === "https" ? "https" : "http";
}

/** The identity attributes of a message (typed values as the app set them; numbers must be finite). */
function identityAttributes(put: PutAttribute, identity: Record<string, unknown> | undefined): void {
  if (identity === null || typeof identity !== "object") return;
  for (const key of Object.keys(identity)) {
    const v = identity[key];
    if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) put(key, v);
  }
}

/** One `exception` event per error, each followed by its root cause's when that is another error. */
function errorEvents(errors: readonly ErrorRecord[], fallback: HrTime): OtlpSpan["events"] {
  const out: OtlpSpan["events"] = [];
  for (const e of errors) {
    if (e === null || typeof e !== "object") continue;
    const ev = exceptionEvent(e, fallback);
    out.push(ev);
    const root = rootCauseEvent(e, ev.time);
    if (root !== undefined) out.push(root);
  }
  return out;
}

/** What every span of one transport shares. */
export interface SpanTemplate {
  spanName: string;
  resource: SpanResource;
  scope: SpanScope;
}

/** Receives a span's attributes one by one, in order. */
export type PutAttribute = (key: string, value: AttributeValue) => void;

/**
 * The span of one wire message: SERVER for an incoming request, CLIENT for an outgoing call
 * (`sdk_type` ending in `Outgoing`); start = the message's timestamp, end = start + duration;
 * status ERROR on a 5xx, a call that got no response, or recorded errors (one `exception` event
 * each). Attributes: the ones APIToolkit's server reads plus OpenTelemetry's stable HTTP ones
 * (spanAttributes). Throws on a message that is not a wire message (the caller skips it).
 */
export function spanOf(m: OtlpWireMessage, t: SpanTemplate): OtlpSpan {
  const span = spanShell(m, t);
  const a = span.attributes;
  spanAttributes(m, (key, value) => {
    a[key] = value;
  });
  return span;
}

/** The span of a message without its attributes (`attributes` is empty). Throws as spanOf does. */
export function spanShell(m: OtlpWireMessage, t: SpanTemplate): OtlpSpan {
  if (typeof m.msg_id !== "string" || typeof m.timestamp !== "string" || typeof m.method !== "string" || typeof m.raw_url !== "string") {
    throw new TypeError("not a wire message");
  }
  const startMs = Date.parse(m.timestamp);
  if (!Number.isFinite(startMs)) throw new TypeError("timestamp is not a date");
  const durationNs = Number.isFinite(m.duration) && m.duration > 0 ? Math.round(m.duration) : 0;
  const startTime = hrTime(startMs);
  const endTime = hrTime(startMs, durationNs);
  const outgoing = typeof m.sdk_type === "string" && m.sdk_type.endsWith("Outgoing");
  const errors = Array.isArray(m.errors) ? m.errors : [];
  const status = typeof m.status_code === "number" ? m.status_code : 0;

  const joined = parseTraceparent(m.traceparent);
  const parentMsgId = typeof m.parent_id === "string" && m.parent_id !== "" ? m.parent_id : undefined;
  const traceId = joined?.traceId ?? traceIdOf(parentMsgId ?? m.msg_id);
  const spanId = spanIdOf(m.msg_id);
  const traceFlags = 1; // exported, so sampled
  const parent: SpanContext | undefined = parentMsgId !== undefined
    ? { traceId, spanId: spanIdOf(parentMsgId), traceFlags, isRemote: false }
    : joined;

  const failed = status >= 500 || (outgoing && status === 0) || errors.length > 0;
  const first = errors[0];
  return {
    name: t.spanName,
    kind: outgoing ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER,
    spanContext: () => ({ traceId, spanId, traceFlags }),
    parentSpanContext: parent,
    parentSpanId: parent?.spanId,
    startTime,
    endTime,
    duration: nsToHrTime(durationNs),
    status: failed
      ? { code: STATUS_ERROR, message: first ? `${text(first.error_type)}: ${text(first.message)}` : status > 0 ? `HTTP ${status}` : "no response" }
      : { code: STATUS_UNSET },
    attributes: {},
    links: [],
    events: errorEvents(errors, endTime),
    ended: true,
    resource: t.resource,
    instrumentationScope: t.scope,
    instrumentationLibrary: t.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/**
 * The span's attributes, in order, each given to `put` (the identity's last: in an attributes
 * object one of its keys equal to an earlier one replaces that value, in place). The message must
 * have passed spanShell.
 */
export function spanAttributes(m: OtlpWireMessage, put: PutAttribute): void {
  const status = typeof m.status_code === "number" ? m.status_code : 0;
  const rawUrl = m.raw_url;
  const q = searchQueryOrHash(rawUrl);
  put("http.request.method", m.method);
  put("url.path", (q < 0 ? rawUrl : rawUrl.slice(0, q)) || "/");
  put("http.target", rawUrl);
  put("http.response.status_code", status);
  put("network.protocol.version", m.proto_major === 2 || m.proto_major === 3 ? String(m.proto_major) : `${m.proto_major ?? 1}.${m.proto_minor ?? 1}`);
  if (q >= 0 && rawUrl.charCodeAt(q) === 0x3f) {
    const hash = rawUrl.indexOf("#", q);
    put("url.query", rawUrl.slice(q + 1, hash < 0 ? undefined : hash));
  }
  const host = typeof m.host === "string" ? m.host : "";
  if (host !== "") {
    // As Pub/Sub's `host` (port included), so an endpoint hashes the same whichever delivery is used.
    put("server.address", host);
    const { port } = splitHost(host);
    if (port !== undefined) put("server.port", port);
  }
  const scheme = schemeOf(m);
  put("url.scheme", scheme);
  put("url.full", scheme + "://" + host + (rawUrl.charCodeAt(0) === 0x2f ? "" : "/") + rawUrl);
  const ua = m.request_headers?.["user-agent"]?.[0];
  if (typeof ua === "string") put("user_agent.original", ua);
  if (typeof m.url_path === "string") put("http.route", m.url_path);
  put("http.request.query_params", jsonOf(m.query_params));
  put("http.request.path_params", jsonOf(m.path_params));
  headerAttributes(put, "http.request.header.", m.request_headers);
  headerAttributes(put, "http.response.header.", m.response_headers);
  put("http.request.body", bodyOf(m.request_body));
  put("http.response.body", bodyOf(m.response_body));
  put("apitoolkit.msg_id", m.msg_id); // the span's link to the same exchange's Pub/Sub msg_id
  put("monoscope.sdk_type", String(m.sdk_type));
  put("monoscope.errors", Array.isArray(m.errors) && m.errors.length > 0 ? JSON.stringify(m.errors) : "[]");
  if (Array.isArray(m.tags)) put("monoscope.tags", m.tags.map(String));
  identityAttributes(put, m.identity);
}

/** The first `?` or `#` of a URL, or -1. */
function searchQueryOrHash(url: string): number {
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x3f || c === 0x23) return i;
  }
  return -1;
}

/** JSON text of a parameters object (`{}` when none). */
function jsonOf(v: unknown): string {
  return v === undefined || v === null ? "{}" : JSON.stringify(v);
}

/** A Resource with fixed attributes, in the shape OpenTelemetry's serializers read. */
export function fixedResource(attributes: Attributes): SpanResource {
  return {
    attributes,
    asyncAttributesPending: false,
    waitForAsyncAttributes: () => Promise.resolve(),
    getRawAttributes: () => Object.entries(attributes),
  };
}

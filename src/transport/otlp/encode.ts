/**
 * The OTLP export request of a batch of queued wire messages, written here as protobuf bytes (the
 * shapes of opentelemetry-proto's trace.proto, common.proto and resource.proto; the tests decode it
 * with the official definitions). The span shape is fixed (./span.ts), so the encoder is a few
 * varints and length-delimited fields; what makes it cheaper than a general serializer:
 *
 * - a body is not parsed out of its message: the base64 text between `"request_body":"` (or
 *   `"response_body":"`) and the closing quote, which JSON writes with no escape, is exactly the
 *   UTF-8 of the attribute's string, so it is copied from the message into the span (one native
 *   copy);
 * - the message's head (everything before the bodies, a few hundred bytes) is read byte by byte
 *   in the key order src/wire/serialize.ts writes, and its text copied into the span's
 *   attributes as it lies (a head without a backslash has no escape, so each string's bytes are
 *   its UTF-8); a head of any other shape (an escape, errors, an identity, a key out of place)
 *   goes through JSON.parse and spanShell/spanAttributes, to the same bytes;
 * - a span's attributes are written as spanAttributes derives them, with no attributes object;
 * - every length is computed before its field is written (strings measured once, natively when
 *   long; short ASCII ones written in one pass), so nothing is shifted afterwards, and long
 *   strings are written by Buffer (natively);
 * - the request's outer messages (ResourceSpans, ScopeSpans, the resource, the scope) are written
 *   last, in front of the spans, once their total is known.
 *
 * The bytes are those OpenTelemetry's own serializer (@opentelemetry/otlp-transformer) writes for
 * the same span (test/unit/otlp-encode.test.ts compares both, decoded, over varied messages).
 */
import * as crypto from "node:crypto";
import { ByteRange, parseTraceparent, SPAN_KIND_CLIENT, SPAN_KIND_SERVER, spanAttributes, spanShell, STATUS_ERROR, STATUS_UNSET, traceIdOf, type Attributes, type AttributeValue, type HrTime, type OtlpSpan, type OtlpWireMessage, type SpanTemplate } from "./span.js";

/** One export request and the queued messages it carries. */
export interface EncodedPart {
  bytes: Buffer;
  sources: Buffer[];
  /** The memory `bytes` lies in: given back to the pool once the request has been sent. */
  memory: Buffer;
}

/**
 * Output memory kept between batches. A fresh multi-megabyte Buffer is fresh pages from the
 * kernel, each faulted in as it is first written: measured at 40-70 µs per 117 KB written
 * (against 7 µs into memory already touched), more than the rest of the encoding of a large body.
 * A Buffer comes back (`give`) only once the request written in it has been sent.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep = 2) {}

  take(size: number): Buffer {
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i]!.length >= size) return this.free.splice(i, 1)[0]!;
    }
    return Buffer.allocUnsafeSlow(size);
  }

  give(b: Buffer): void {
    if (this.free.length < this.keep) this.free.push(b);
    else {
      // Keep the larger ones.
      let smallest = 0;
      for (let i = 1; i < this.free.length; i++) if (this.free[i]!.length < this.free[smallest]!.length) smallest = i;
      if (this.free[smallest]!.length < b.length) this.free[smallest] = b;
    }
  }
}

/** A message that is not a wire message, and why (the caller skips it). */
export interface Skipped {
  message: Buffer;
  error: Error;
}

// ---- the message's bodies, found from its end -----------------------------------------------

const REQ_KEY = Buffer.from(',"request_body":"', "latin1");
const RES_KEY = Buffer.from('","response_body":"', "latin1");
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether `m` holds `key` at `at`. */
function holds(m: Buffer, key: Buffer, at: number): boolean {
  if (at < 0) return false;
  for (let i = 0; i < key.length; i++) if (m[at + i] !== key[i]) return false;
  return true;
}

/**
 * A queued message as the span reads it. The SDK writes the two bodies last
 * (`..."request_body":"<base64>","response_body":"<base64>"}`, src/wire/serialize.ts): they are
 * found from the end and left in place as ByteRanges, the rest is parsed. A message of any other
 * shape (or a body holding an escape) is parsed whole, as before.
 */
export function parseMessage(m: Buffer): OtlpWireMessage {
  if (findBodies(m)) {
    const head = JSON.parse(m.toString("utf8", 0, headEnd) + "}") as OtlpWireMessage;
    if (head !== null && typeof head === "object") {
      head.request_body = new ByteRange(m, reqS, reqE);
      head.response_body = new ByteRange(m, resS, resE);
      return head;
    }
  }
  return JSON.parse(m.toString("utf8")) as OtlpWireMessage;
}

/** Where findBodies found the head's end and the two bodies' base64 text. */
let headEnd = 0, reqS = 0, reqE = 0, resS = 0, resE = 0;

/** Whether `m` ends with its two bodies, unescaped (their bounds and the head's end noted). */
function findBodies(m: Buffer): boolean {
  const n = m.length;
  if (n > 64 && m[n - 1] === 0x7d && m[n - 2] === QUOTE) {
    const resEnd = n - 2;
    const resQuote = m.lastIndexOf(QUOTE, resEnd - 1);
    const resKey = resQuote - (RES_KEY.length - 1);
    if (holds(m, RES_KEY, resKey)) {
      const reqQuote = m.lastIndexOf(QUOTE, resKey - 1);
      const reqKey = reqQuote - (REQ_KEY.length - 1);
      // No backslash from the request body's text to the end (the response key between the bodies
      // and the closing `"}` hold none): one native search, no view made.
      if (holds(m, REQ_KEY, reqKey) && m.indexOf(BACKSLASH, reqQuote + 1) < 0) {
        headEnd = reqKey;
        reqS = reqQuote + 1;
        reqE = resKey;
        resS = resQuote + 1;
        resE = resEnd;
        return true;
      }
    }
  }
  return false;
}

// ---- sizes ------------------------------------------------------------------------------------

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of an int64 varint (a negative one is 10, as two's complement). */
function int64Size(v: number): number {
  if (v >= 0 && v <= 0xffffffff) return v < 0x10000000 ? varintSize(v) : 5;
  if (v < 0) return 10;
  let hi = Math.floor(v / 0x100000000);
  let size = 5; // the low 35 bits
  hi >>>= 3;
  while (hi > 0) {
    size++;
    hi >>>= 7;
  }
  return size;
}

/** UTF-8 bytes of a string (lone surrogates count 3, as U+FFFD, as TextEncoder and Buffer write them). */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 48) return Buffer.byteLength(s, "utf8");
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: 4 bytes for 2 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

const INT64_MIN = -(2 ** 63);
const INT64_END = 2 ** 63;

function isInt64(v: number): boolean {
  return Number.isInteger(v) && v >= INT64_MIN && v < INT64_END;
}

// ---- the writer -------------------------------------------------------------------------------

/** A growable output buffer. */
class Out {
  buf: Buffer;
  pos: number;

  constructor(size: number, start: number, private readonly pool?: BufferPool) {
    this.buf = pool ? pool.take(size) : Buffer.allocUnsafe(size);
    this.pos = start;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = this.pool ? this.pool.take(size) : Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.pool?.give(this.buf);
    this.buf = next;
  }

  /** A varint of 0 <= v < 2^32 (room already ensured). */
  varint(v: number): void {
    const buf = this.buf;
    while (v > 0x7f) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** An int64 varint of an integer in range (room already ensured). */
  int64(v: number): void {
    if (v >= 0 && v <= 0xffffffff) return this.varint(v);
    const abs = Math.abs(v);
    let lo = abs >>> 0;
    let hi = (abs / 0x100000000) >>> 0;
    if (v < 0) {
      lo = (~lo + 1) >>> 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    const buf = this.buf;
    while (hi > 0 || lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  fixed32(v: number): void {
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** Nanoseconds since the epoch of an HrTime, as fixed64, exactly (no product past 2^53). */
  hrTime(t: HrTime): void {
    this.hrTime2(t[0], t[1]);
  }

  hrTime2(seconds: number, nanos: number): void {
    const high16 = Math.floor(seconds / 0x10000) * 1e9; // < 2^48
    const low = (high16 % 0x10000) * 0x10000 + (seconds % 0x10000) * 1e9 + nanos; // < 2^47
    const buf = this.buf;
    buf.writeUInt32LE(low % 0x100000000, this.pos);
    buf.writeUInt32LE((Math.floor(high16 / 0x10000) + Math.floor(low / 0x100000000)) >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** The UTF-8 of `s`, `bytes` long (room already ensured). */
  str(s: string, bytes: number): void {
    const n = s.length;
    if (bytes === n) {
      if (n <= 32) {
        const buf = this.buf;
        let p = this.pos;
        for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
        this.pos = p;
      } else this.pos += this.buf.write(s, this.pos, n, "latin1");
    } else this.pos += this.buf.write(s, this.pos, bytes, "utf8");
  }

  /** Bytes of an encoded field (room already ensured). */
  raw(b: Uint8Array): void {
    const n = b.length;
    if (n <= 32) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = b[i]!;
      this.pos = p;
    } else {
      this.buf.set(b, this.pos);
      this.pos += n;
    }
  }

  /** Hex digits as bytes (room already ensured). */
  hex(h: string): void {
    const buf = this.buf;
    const n = h.length;
    let p = this.pos;
    for (let i = 0; i < n; i += 2) buf[p++] = (nibble(h.charCodeAt(i)) << 4) | nibble(h.charCodeAt(i + 1));
    this.pos = p;
  }
}

function nibble(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

// ---- attributes -------------------------------------------------------------------------------

/** `KeyValue.key` fields (tag, length, UTF-8), by key: the same few dozen keys recur in every span. */
const keyFields = new Map<string, Buffer>();
const MAX_CACHED_KEYS = 4096;

function keyField(key: string): Buffer {
  let f = keyFields.get(key);
  if (f === undefined) {
    const bytes = Buffer.from(key, "utf8");
    f = Buffer.allocUnsafe(1 + varintSize(bytes.length) + bytes.length);
    f[0] = 0x0a;
    let p = 1;
    let v = bytes.length;
    while (v > 0x7f) {
      f[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    f[p++] = v;
    bytes.copy(f, p);
    if (keyFields.size < MAX_CACHED_KEYS) keyFields.set(key, f);
  }
  return f;
}

/** Scratch for the byte lengths of an array's strings, between measuring and writing. */
let lengths = new Int32Array(64);

/** Bytes of an AnyValue's content (0 when the value is not one an attribute can hold: written as an empty AnyValue). */
function anyValueSize(v: AttributeValue): number {
  if (typeof v === "string") {
    const b = utf8Length(v);
    lengths[0] = b;
    return 1 + varintSize(b) + b;
  }
  if (typeof v === "number") return isInt64(v) ? 1 + int64Size(v) : 9;
  if (typeof v === "boolean") return 2;
  if (v instanceof ByteRange) {
    const b = v.end - v.start;
    return 1 + varintSize(b) + b;
  }
  if (Array.isArray(v)) {
    if (v.length + 1 > lengths.length) lengths = new Int32Array(Math.max(v.length + 1, lengths.length * 2));
    let content = 0;
    for (let i = 0; i < v.length; i++) {
      const item = v[i] as unknown;
      const b = typeof item === "string" ? utf8Length(item) : -1;
      lengths[i + 1] = b;
      const itemSize = b < 0 ? 0 : 1 + varintSize(b) + b;
      content += 1 + varintSize(itemSize) + itemSize;
    }
    lengths[0] = content;
    return 1 + varintSize(content) + content;
  }
  return 0;
}

/** Write an AnyValue's content, measured by anyValueSize just before. */
function writeAnyValue(out: Out, v: AttributeValue): void {
  if (typeof v === "string") {
    const b = lengths[0]!;
    out.buf[out.pos++] = 0x0a;
    out.varint(b);
    out.str(v, b);
  } else if (typeof v === "number") {
    if (isInt64(v)) {
      out.buf[out.pos++] = 0x18;
      out.int64(v);
    } else {
      out.buf[out.pos++] = 0x21;
      out.buf.writeDoubleLE(v, out.pos);
      out.pos += 8;
    }
  } else if (typeof v === "boolean") {
    out.buf[out.pos++] = 0x10;
    out.buf[out.pos++] = v ? 1 : 0;
  } else if (v instanceof ByteRange) {
    out.buf[out.pos++] = 0x0a;
    out.varint(v.end - v.start);
    out.pos += v.source.copy(out.buf, out.pos, v.start, v.end);
  } else if (Array.isArray(v)) {
    out.buf[out.pos++] = 0x2a;
    out.varint(lengths[0]!);
    for (let i = 0; i < v.length; i++) {
      const b = lengths[i + 1]!;
      out.buf[out.pos++] = 0x0a; // ArrayValue.values
      if (b < 0) {
        out.buf[out.pos++] = 0; // not a string: an empty AnyValue, as OpenTelemetry's serializer writes it
        continue;
      }
      out.varint(1 + varintSize(b) + b);
      out.buf[out.pos++] = 0x0a;
      out.varint(b);
      out.str(v[i] as string, b);
    }
  }
}

/** One attribute as a field `tag` (a KeyValue: key 1, value 2). */
function writeAttribute(out: Out, tag: number, key: string, v: AttributeValue): void {
  const kf = keyField(key);
  if (typeof v === "string" && v.length <= 40 && writeShortAscii(out, tag, kf, v)) return;
  const anySize = anyValueSize(v);
  const kvSize = kf.length + 1 + varintSize(anySize) + anySize;
  out.ensure(1 + 5 + kvSize);
  out.buf[out.pos++] = tag;
  out.varint(kvSize);
  out.raw(kf);
  out.buf[out.pos++] = 0x12;
  out.varint(anySize);
  writeAnyValue(out, v);
}

/**
 * A string attribute of at most 40 characters in one pass, its lengths written as if it were
 * ASCII (the common case); false, with nothing written, when it is not.
 */
function writeShortAscii(out: Out, tag: number, kf: Buffer, v: string): boolean {
  const n = v.length;
  const kvSize = kf.length + 4 + n; // key, 0x12, AnyValue length (< 128), 0x0a, string length (< 128), the string
  out.ensure(1 + 5 + kvSize);
  const start = out.pos;
  const buf = out.buf;
  buf[out.pos++] = tag;
  out.varint(kvSize);
  out.raw(kf);
  let p = out.pos;
  buf[p++] = 0x12;
  buf[p++] = n + 2;
  buf[p++] = 0x0a;
  buf[p++] = n;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x80) {
      out.pos = start;
      return false;
    }
    buf[p++] = c;
  }
  out.pos = p;
  return true;
}

function writeAttributes(out: Out, tag: number, attributes: Attributes): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    writeAttribute(out, tag, key, attributes[key]!);
  }
}

/** A nested message of unknown size: reserve `reserve` bytes for its length; end() writes it. */
function begin(out: Out, tag: number, reserve: number): number {
  out.ensure(1 + reserve);
  out.buf[out.pos++] = tag;
  const at = out.pos;
  out.pos += reserve;
  return at;
}

/** Write the length of the message begun at `at` (moving its bytes when the reserve was not the right size). */
function end(out: Out, at: number, reserve: number): void {
  const len = out.pos - at - reserve;
  const size = varintSize(len);
  if (size !== reserve) {
    out.ensure(size - reserve);
    out.buf.copyWithin(at + size, at + reserve, out.pos);
    out.pos += size - reserve;
  }
  const p = out.pos;
  out.pos = at;
  out.varint(len);
  out.pos = p;
}

// ---- spans ------------------------------------------------------------------------------------

/** Span.flags: the trace flags (sampled) and "parent's is_remote known: false", as OpenTelemetry's serializer writes them. */
const SPAN_FLAGS = 0x101;

/** The Out the attributes of `direct` go to (put is one function for every span). */
let current: Out | undefined;
const put = (key: string, value: AttributeValue): void => writeAttribute(current!, 0x4a, key, value);

/** Attribute keys of a span an identity key could equal (then spanOf's object, where it replaces that value, is written). */
const SPAN_KEY = /^(?:http\.|url\.|server\.|user_agent\.|network\.|monoscope\.|apitoolkit\.)|^(?:0|[1-9][0-9]*)$/;

/** Whether a message's attributes can be written as spanAttributes gives them (no identity key repeats or reorders one). */
function streamable(m: OtlpWireMessage): boolean {
  const identity = m.identity;
  if (identity === undefined || identity === null || typeof identity !== "object") return true;
  for (const key of Object.keys(identity)) if (SPAN_KEY.test(key)) return false;
  return true;
}

/**
 * One Span message, as field 2 of ScopeSpans: `s` with its attributes, or with those of `direct`
 * written as they come. `estimate`: an upper bound of its size, for its length's reserve.
 */
function writeSpan(out: Out, s: OtlpSpan, name: Buffer, estimate: number, direct?: OtlpWireMessage): void {
  const reserve = varintSize(estimate);
  const at = begin(out, 0x12, reserve);
  const ctx = s.spanContext();
  out.ensure(2 + 16 + 2 + 8 + 2 + 8 + name.length + 2 + 9 + 9);
  out.buf[out.pos++] = 0x0a;
  out.buf[out.pos++] = 16;
  out.hex(ctx.traceId);
  out.buf[out.pos++] = 0x12;
  out.buf[out.pos++] = 8;
  out.hex(ctx.spanId);
  const parent = s.parentSpanContext?.spanId;
  if (parent) {
    out.buf[out.pos++] = 0x22;
    out.buf[out.pos++] = 8;
    out.hex(parent);
  }
  out.raw(name);
  out.buf[out.pos++] = 0x30;
  out.buf[out.pos++] = s.kind + 1;
  out.buf[out.pos++] = 0x39;
  out.hrTime(s.startTime);
  out.buf[out.pos++] = 0x41;
  out.hrTime(s.endTime);
  if (direct !== undefined) {
    current = out;
    spanAttributes(direct, put);
    current = undefined;
  } else writeAttributes(out, 0x4a, s.attributes);
  out.ensure(2);
  out.buf[out.pos++] = 0x50; // dropped_attributes_count
  out.buf[out.pos++] = 0;
  for (const e of s.events) {
    const ev = begin(out, 0x5a, 2);
    const nameBytes = utf8Length(e.name);
    out.ensure(9 + 1 + 5 + nameBytes);
    out.buf[out.pos++] = 0x09;
    out.hrTime(e.time);
    out.buf[out.pos++] = 0x12;
    out.varint(nameBytes);
    out.str(e.name, nameBytes);
    writeAttributes(out, 0x1a, e.attributes);
    out.ensure(2);
    out.buf[out.pos++] = 0x20;
    out.buf[out.pos++] = 0;
    end(out, ev, 2);
  }
  out.ensure(4);
  out.buf[out.pos++] = 0x60; // dropped_events_count
  out.buf[out.pos++] = 0;
  out.buf[out.pos++] = 0x70; // dropped_links_count
  out.buf[out.pos++] = 0;
  const message = s.status.message;
  const messageBytes = message ? utf8Length(message) : 0;
  const statusSize = (messageBytes > 0 ? 1 + varintSize(messageBytes) + messageBytes : 0) + 2;
  out.ensure(1 + 5 + statusSize + 5);
  out.buf[out.pos++] = 0x7a;
  out.varint(statusSize);
  if (messageBytes > 0) {
    out.buf[out.pos++] = 0x12;
    out.varint(messageBytes);
    out.str(message!, messageBytes);
  }
  out.buf[out.pos++] = 0x18;
  out.buf[out.pos++] = s.status.code;
  out.buf[out.pos++] = 0x85; // flags: field 16, fixed32
  out.buf[out.pos++] = 0x01;
  out.fixed32(SPAN_FLAGS);
  end(out, at, reserve);
}

/** A length-delimited field: tag, length, bytes. */
function field(tag: number, content: Buffer): Buffer {
  const out = new Out(1 + 5 + content.length, 0);
  out.buf[out.pos++] = tag;
  out.varint(content.length);
  out.raw(content);
  return out.buf.subarray(0, out.pos);
}

/** What every request of one transport repeats, encoded once. */
export interface RequestTemplate {
  span: SpanTemplate;
  /** ResourceSpans.resource (field 1): attributes and dropped_attributes_count 0. */
  resource: Buffer;
  /** ScopeSpans.scope (field 1). */
  scope: Buffer;
  /** Span.name (field 5). */
  name: Buffer;
}

export function requestTemplate(t: SpanTemplate): RequestTemplate {
  const r = new Out(256, 0);
  const attributes: Attributes = {};
  for (const [k, v] of t.resource.getRawAttributes()) attributes[k] = v;
  writeAttributes(r, 0x0a, attributes);
  r.ensure(2);
  r.buf[r.pos++] = 0x10;
  r.buf[r.pos++] = 0;
  const s = new Out(64, 0);
  s.ensure(1 + 5 + Buffer.byteLength(t.scope.name) + 1 + 5 + Buffer.byteLength(t.scope.version ?? ""));
  const nameBytes = Buffer.from(t.scope.name, "utf8");
  s.buf[s.pos++] = 0x0a;
  s.varint(nameBytes.length);
  s.raw(nameBytes);
  if (t.scope.version) {
    const v = Buffer.from(t.scope.version, "utf8");
    s.buf[s.pos++] = 0x12;
    s.varint(v.length);
    s.raw(v);
  }
  return {
    span: t,
    resource: field(0x0a, r.buf.subarray(0, r.pos)),
    scope: field(0x0a, s.buf.subarray(0, s.pos)),
    name: field(0x2a, Buffer.from(t.spanName, "utf8")),
  };
}

/** An upper bound of a span's encoded size from its message's (a span repeats few of the message's bytes). */
export function estimatedSpanBytes(message: Buffer): number {
  return Math.ceil(message.length * 1.25) + 512;
}

/**
 * The export requests of `messages` (in order), each at most `maxBytes` unless a single span is
 * larger (it then goes alone). A message that is not a wire message is skipped and returned in
 * `skipped`. Runs off the request path (Delivery's send).
 */
export function encodeRequests(messages: readonly Buffer[], t: RequestTemplate, maxBytes: number, skipped: Skipped[] = [], pool?: BufferPool, scan = true): EncodedPart[] {
  const parts: EncodedPart[] = [];
  const headRoom = 1 + 5 + t.resource.length + 1 + 5 + t.scope.length;
  let total = 0;
  for (const m of messages) total += estimatedSpanBytes(m);
  let out = new Out(headRoom + Math.min(total, maxBytes + 65536), headRoom, pool);
  let sources: Buffer[] = [];
  /** The span from `start` would take the request past the limit: it starts the next one. */
  const split = (full: Out, start: number): Out => {
    const next = new Out(headRoom + Math.max(full.pos - start, Math.min(total, maxBytes + 65536)), headRoom, pool);
    next.ensure(full.pos - start);
    next.pos += full.buf.copy(next.buf, headRoom, start, full.pos);
    full.pos = start;
    parts.push({ bytes: finish(full, t, headRoom), sources, memory: full.buf });
    sources = [];
    return next;
  };
  for (const m of messages) {
    const start = out.pos;
    try {
      if (scan && findBodies(m)) {
        let written = false;
        try {
          written = writeScannedSpan(out, m, headEnd, t, estimatedSpanBytes(m), reqS, reqE, resS, resE);
        } catch {
          out.pos = start; // written by the general path below
        }
        if (written) {
          headStats.scanned++;
          if (sources.length > 0 && out.pos > maxBytes) out = split(out, start);
          sources.push(m);
          continue;
        }
      }
      headStats.parsed++;
      const parsed = parseMessage(m);
      const span = spanShell(parsed, t.span);
      const direct = streamable(parsed);
      if (!direct) spanAttributes(parsed, (key, value) => {
        span.attributes[key] = value;
      });
      writeSpan(out, span, t.name, estimatedSpanBytes(m), direct ? parsed : undefined);
    } catch (err) {
      out.pos = start; // nothing of it stays
      skipped.push({ message: m, error: err as Error });
      continue;
    }
    if (sources.length > 0 && out.pos > maxBytes) out = split(out, start); // out.pos: the spans and room for the head
    sources.push(m);
  }
  if (sources.length > 0) parts.push({ bytes: finish(out, t, headRoom), sources, memory: out.buf });
  else pool?.give(out.buf);
  return parts;
}

/** Write ResourceSpans { resource, ScopeSpans { scope, spans } } in front of the spans; the request's bytes. */
function finish(out: Out, t: RequestTemplate, headRoom: number): Buffer {
  const spans = out.pos - headRoom;
  const scopeSpans = t.scope.length + spans;
  const resourceSpans = t.resource.length + 1 + varintSize(scopeSpans) + scopeSpans;
  const head = 1 + varintSize(resourceSpans) + t.resource.length + 1 + varintSize(scopeSpans) + t.scope.length;
  const end = out.pos;
  out.pos = headRoom - head;
  const start = out.pos;
  out.buf[out.pos++] = 0x0a; // ExportTraceServiceRequest.resource_spans
  out.varint(resourceSpans);
  out.raw(t.resource);
  out.buf[out.pos++] = 0x12; // ResourceSpans.scope_spans
  out.varint(scopeSpans);
  out.raw(t.scope);
  return out.buf.subarray(start, end);
}

// ---- the common message, written from its bytes -------------------------------------------------

/**
 * The head as src/wire/serialize.ts writes it: these keys in this order, no whitespace. A head
 * holding no backslash has no escape, so each string's bytes between its quotes are its UTF-8 and
 * are copied into the span as they are; the parameter objects' JSON text is what JSON.stringify
 * writes of them once parsed (no key starts with a digit, which would reorder them). Anything
 * else (an escape, a key out of place, errors, an identity) goes through parseMessage + spanShell.
 */
const K = (s: string): Buffer => Buffer.from(s, "latin1");
const K_PROJECT = K('{"project_id":"');
const K_MSG = K('","msg_id":"');
const K_TS = K('","timestamp":"');
const K_DURATION = K('","duration":');
const K_SDK = K(',"sdk_type":"');
const K_METHOD = K('","method":"');
const K_HOST = K('","host":"');
const K_URL = K('","raw_url":"');
const K_MAJOR = K('","proto_major":');
const K_MINOR = K(',"proto_minor":');
const K_STATUS = K(',"status_code":');
const K_PATH_PARAMS = K(',"path_params":');
const K_QUERY = K(',"query_params":');
const K_REFERER = K(',"referer":"');
const K_REQ_H = K('","request_headers":');
const K_RES_H = K(',"response_headers":');
const K_ERRORS = K(',"errors":[]');
const K_URL_PATH = K(',"url_path":"');
const K_PARENT = K(',"parent_id":"');
const K_TRACEPARENT = K(',"traceparent":"');
const K_SCHEME = K(',"url_scheme":"');
const K_VERSION = K(',"service_version":"');
const K_TAGS = K(',"tags":');
const K_IDENTITY = K(',"identity":{}');
const OUTGOING = K("Outgoing");
const USER_AGENT = K("user-agent");
const FORWARDED_PROTO = K("x-forwarded-proto");
const REQ_PREFIX = K("http.request.header.");
const RES_PREFIX = K("http.response.header.");

/** How many messages took each path (tests read it). */
export const headStats = { scanned: 0, parsed: 0 };

/** Positions found by scanHead (start, end pairs; -1 when absent). */
let src: Buffer = Buffer.alloc(0);
let msgS = 0, msgE = 0, tsS = 0, tsE = 0, sdkS = 0, sdkE = 0, methS = 0, methE = 0, hostS = 0, hostE = 0, urlS = 0, urlE = 0;
let duration = 0, major = 0, minor = 0, status = 0;
let ppS = 0, ppE = 0, qpS = 0, qpE = 0, reqHS = 0, reqHE = 0, resHS = 0, resHE = 0;
let routeS = -1, routeE = -1, parentS = -1, parentE = -1, tpS = -1, tpE = -1, schemeS = -1, schemeE = -1, tagsS = -1, tagsE = -1;
let uaS = -1, uaE = -1, xfpS = -1, xfpE = -1;

/** The closing quote of the string whose content starts at `p`, before `limit`; -1 when none. */
function closing(p: number, limit: number): number {
  const q = quoteFrom(p, limit);
  return q >= limit ? -1 : q;
}

/** The first quote at or after `p` (before `limit`, else `limit`): a loop, cheaper than Buffer.indexOf's call for the short strings of a head. */
function quoteFrom(p: number, limit: number): number {
  const b = src;
  while (p < limit && b[p] !== QUOTE) p++;
  return p;
}

/** A non-negative integer of at most 15 digits at `p` (no leading zero); its end, the value in `intValue`; -1 when not one. */
let intValue = 0;
function integer(p: number, limit: number): number {
  let v = 0;
  const start = p;
  while (p < limit && src[p]! >= 0x30 && src[p]! <= 0x39 && p - start < 15) v = v * 10 + (src[p++]! - 0x30);
  if (p === start || (src[start] === 0x30 && p - start > 1) || (p < limit && src[p]! >= 0x30 && src[p]! <= 0x39)) return -1;
  intValue = v;
  return p;
}

/** `["a","b",...]` at `p` (strings only); its end, or -1. */
function stringArray(p: number, limit: number): number {
  if (src[p] !== 0x5b) return -1;
  p++;
  if (src[p] === 0x5d) return p + 1;
  for (;;) {
    if (src[p] !== QUOTE) return -1;
    const q = closing(p + 1, limit);
    if (q < 0) return -1;
    p = q + 1;
    if (src[p] === 0x5d) return p + 1;
    if (src[p] !== 0x2c) return -1;
    p++;
  }
}

function equalsAt(s: number, e: number, key: Buffer): boolean {
  return e - s === key.length && holds(src, key, s);
}

/**
 * `{"key":value,...}` at `p`, values strings (`arrays` false) or arrays of strings; keys not
 * starting with a digit. Its end, or -1. With `find`, the first value of the user-agent and
 * x-forwarded-proto arrays are noted.
 */
function object(p: number, limit: number, arrays: boolean, find: boolean): number {
  if (src[p] !== 0x7b) return -1;
  p++;
  if (src[p] === 0x7d) return p + 1;
  for (;;) {
    if (src[p] !== QUOTE) return -1;
    const ks = p + 1;
    const ke = closing(ks, limit);
    if (ke < 0 || (src[ks]! >= 0x30 && src[ks]! <= 0x39) || src[ke + 1] !== 0x3a) return -1;
    p = ke + 2;
    if (arrays) {
      const e = stringArray(p, limit);
      if (e < 0) return -1;
      if (find && e - p > 2) {
        if (uaS < 0 && equalsAt(ks, ke, USER_AGENT)) {
          uaS = p + 2;
          uaE = closing(uaS, limit);
        } else if (xfpS < 0 && equalsAt(ks, ke, FORWARDED_PROTO)) {
          xfpS = p + 2;
          xfpE = closing(xfpS, limit);
        }
      }
      p = e;
    } else {
      if (src[p] !== QUOTE) return -1;
      const q = closing(p + 1, limit);
      if (q < 0) return -1;
      p = q + 1;
    }
    if (src[p] === 0x7d) return p + 1;
    if (src[p] !== 0x2c) return -1;
    p++;
  }
}

/** `key` at `p`, then a string: its end quote's position (start = p + key.length), or -1. */
function keyString(p: number, key: Buffer, limit: number): number {
  return holds(src, key, p) ? closing(p + key.length, limit) : -1;
}

/** Whether the head of `m` (before `headEnd`) is the common shape; its positions noted. */
function scanHead(m: Buffer, headEnd: number): boolean {
  src = m;
  if (m.lastIndexOf(BACKSLASH, headEnd - 1) >= 0) return false; // searched backwards: the head only, no view made
  let q = keyString(0, K_PROJECT, headEnd);
  if (q < 0) return false;
  msgS = q + K_MSG.length;
  if ((q = keyString(q, K_MSG, headEnd)) < 0) return false;
  msgE = q;
  tsS = q + K_TS.length;
  if ((q = keyString(q, K_TS, headEnd)) < 0) return false;
  tsE = q;
  if (!holds(m, K_DURATION, q) || (q = integer(q + K_DURATION.length, headEnd)) < 0) return false;
  duration = intValue;
  sdkS = q + K_SDK.length;
  if ((q = keyString(q, K_SDK, headEnd)) < 0) return false;
  sdkE = q;
  methS = q + K_METHOD.length;
  if ((q = keyString(q, K_METHOD, headEnd)) < 0) return false;
  methE = q;
  hostS = q + K_HOST.length;
  if ((q = keyString(q, K_HOST, headEnd)) < 0) return false;
  hostE = q;
  urlS = q + K_URL.length;
  if ((q = keyString(q, K_URL, headEnd)) < 0) return false;
  urlE = q;
  if (!holds(m, K_MAJOR, q) || (q = integer(q + K_MAJOR.length, headEnd)) < 0) return false;
  major = intValue;
  if (!holds(m, K_MINOR, q) || (q = integer(q + K_MINOR.length, headEnd)) < 0) return false;
  minor = intValue;
  if (!holds(m, K_STATUS, q) || (q = integer(q + K_STATUS.length, headEnd)) < 0) return false;
  status = intValue;
  if (!holds(m, K_PATH_PARAMS, q)) return false;
  ppS = q + K_PATH_PARAMS.length;
  if ((q = ppE = object(ppS, headEnd, false, false)) < 0 || !holds(m, K_QUERY, q)) return false;
  qpS = q + K_QUERY.length;
  if ((q = qpE = object(qpS, headEnd, true, false)) < 0) return false;
  if ((q = keyString(q, K_REFERER, headEnd)) < 0 || !holds(m, K_REQ_H, q)) return false;
  reqHS = q + K_REQ_H.length;
  uaS = uaE = xfpS = xfpE = -1;
  if ((q = reqHE = object(reqHS, headEnd, true, true)) < 0 || !holds(m, K_RES_H, q)) return false;
  resHS = q + K_RES_H.length;
  if ((q = resHE = object(resHS, headEnd, true, false)) < 0 || !holds(m, K_ERRORS, q)) return false;
  q += K_ERRORS.length;
  routeS = routeE = parentS = parentE = tpS = tpE = schemeS = schemeE = tagsS = tagsE = -1;
  let e: number;
  if ((e = keyString(q, K_URL_PATH, headEnd)) >= 0) {
    routeS = q + K_URL_PATH.length;
    routeE = e;
    q = e + 1;
  }
  if ((e = keyString(q, K_PARENT, headEnd)) >= 0) {
    parentS = q + K_PARENT.length;
    parentE = e;
    q = e + 1;
  }
  if ((e = keyString(q, K_TRACEPARENT, headEnd)) >= 0) {
    tpS = q + K_TRACEPARENT.length;
    tpE = e;
    q = e + 1;
  }
  if ((e = keyString(q, K_SCHEME, headEnd)) >= 0) {
    schemeS = q + K_SCHEME.length;
    schemeE = e;
    q = e + 1;
  }
  if ((e = keyString(q, K_VERSION, headEnd)) >= 0) q = e + 1;
  if (holds(m, K_TAGS, q)) {
    tagsS = q + K_TAGS.length;
    if ((q = tagsE = stringArray(tagsS, headEnd)) < 0) return false;
  }
  if (holds(m, K_IDENTITY, q)) q += K_IDENTITY.length;
  return q === headEnd;
}

/** The last timestamp's text up to its seconds, and its epoch milliseconds. */
const tsSeconds = Buffer.alloc(19, 0xff);
let tsSecondsMs = NaN;

/** Whether the timestamp's first 19 bytes are the last one's (a loop: cheaper than Buffer#compare's call for 19 bytes). */
function sameSeconds(): boolean {
  for (let i = 0; i < 19; i++) if (src[tsS + i] !== tsSeconds[i]) return false;
  return true;
}

/** Epoch milliseconds of the timestamp (`YYYY-MM-DDTHH:MM:SS.mmmZ`, as Date.parse reads it). */
function timestampMs(): number {
  if (tsE - tsS === 24 && src[tsS + 19] === 0x2e && src[tsS + 23] === 0x5a) {
    const a = src[tsS + 20]! - 0x30, b = src[tsS + 21]! - 0x30, c = src[tsS + 22]! - 0x30;
    if (a >= 0 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9) {
      if (!sameSeconds()) {
        const ms = Date.parse(src.toString("latin1", tsS, tsS + 19) + ".000Z");
        if (!Number.isFinite(ms)) return NaN;
        src.copy(tsSeconds, 0, tsS, tsS + 19);
        tsSecondsMs = ms;
      }
      return tsSecondsMs + a * 100 + b * 10 + c;
    }
  }
  return Date.parse(src.toString("utf8", tsS, tsE));
}

/** A string attribute whose UTF-8 lies in the message (s..e), as field 9 of the span. */
function rangeAttribute(out: Out, kf: Buffer, s: number, e: number): void {
  const b = e - s;
  const anySize = 1 + varintSize(b) + b;
  const kvSize = kf.length + 1 + varintSize(anySize) + anySize;
  out.ensure(1 + 5 + kvSize);
  out.buf[out.pos++] = 0x4a;
  out.varint(kvSize);
  out.raw(kf);
  out.buf[out.pos++] = 0x12;
  out.varint(anySize);
  out.buf[out.pos++] = 0x0a;
  out.varint(b);
  copyRange(out, s, e);
}

function copyRange(out: Out, s: number, e: number): void {
  if (e - s <= 32) {
    const buf = out.buf;
    let p = out.pos;
    for (let i = s; i < e; i++) buf[p++] = src[i]!;
    out.pos = p;
  } else out.pos += src.copy(out.buf, out.pos, s, e);
}

/** A string-array attribute of the JSON array at s..e (strings without escapes); the key is `prefix` + the bytes ks..ke (or `kf`). */
function arrayAttribute(out: Out, kf: Buffer | undefined, prefix: Buffer, ks: number, ke: number, s: number, e: number): void {
  let content = 0;
  for (let p = s + 1; p < e - 1;) {
    const q = quoteFrom(p + 1, e);
    const b = q - p - 1;
    const item = 1 + varintSize(b) + b;
    content += 1 + varintSize(item) + item;
    p = q + 2;
  }
  const anySize = 1 + varintSize(content) + content;
  const keyLen = kf === undefined ? prefix.length + ke - ks : 0;
  const keySize = kf === undefined ? 1 + varintSize(keyLen) + keyLen : kf.length;
  const kvSize = keySize + 1 + varintSize(anySize) + anySize;
  out.ensure(1 + 5 + kvSize);
  out.buf[out.pos++] = 0x4a;
  out.varint(kvSize);
  if (kf === undefined) {
    out.buf[out.pos++] = 0x0a;
    out.varint(keyLen);
    out.raw(prefix);
    copyRange(out, ks, ke);
  } else out.raw(kf);
  out.buf[out.pos++] = 0x12;
  out.varint(anySize);
  out.buf[out.pos++] = 0x2a;
  out.varint(content);
  for (let p = s + 1; p < e - 1;) {
    const q = quoteFrom(p + 1, e);
    const b = q - p - 1;
    out.buf[out.pos++] = 0x0a;
    out.varint(1 + varintSize(b) + b);
    out.buf[out.pos++] = 0x0a;
    out.varint(b);
    copyRange(out, p + 1, q);
    p = q + 2;
  }
}

/** One attribute per header of the object at s..e (checked by scanHead). */
function headerRangeAttributes(out: Out, prefix: Buffer, s: number, e: number): void {
  for (let p = s + 1; p < e - 1;) {
    const ke = quoteFrom(p + 1, e);
    const vs = ke + 2;
    const ve = stringArray(vs, e);
    arrayAttribute(out, undefined, prefix, p + 1, ke, vs, ve);
    p = ve + 1;
  }
}

const KF_METHOD = keyField("http.request.method");
const KF_PATH = keyField("url.path");
const KF_TARGET = keyField("http.target");
const KF_QUERY = keyField("url.query");
const KF_ADDRESS = keyField("server.address");
const KF_UA = keyField("user_agent.original");
const KF_ROUTE = keyField("http.route");
const KF_QUERY_PARAMS = keyField("http.request.query_params");
const KF_PATH_PARAMS = keyField("http.request.path_params");
const KF_MSG_ID = keyField("apitoolkit.msg_id");
const KF_SDK = keyField("monoscope.sdk_type");
const KF_TAGS = keyField("monoscope.tags");
const KF_REQ_BODY = keyField("http.request.body");
const KF_RES_BODY = keyField("http.response.body");
const KF_URL_FULL = keyField("url.full");
const SCHEME_SEP = K("://");

/** url.full: scheme + "://" + host + ("/" unless the URL starts with one) + the URL, from the message's bytes. */
function urlFull(out: Out, scheme: string): void {
  const slash = urlE === urlS || src[urlS] !== 0x2f ? 1 : 0;
  const b = scheme.length + 3 + (hostE - hostS) + slash + (urlE - urlS);
  const anySize = 1 + varintSize(b) + b;
  const kvSize = KF_URL_FULL.length + 1 + varintSize(anySize) + anySize;
  out.ensure(1 + 5 + kvSize);
  out.buf[out.pos++] = 0x4a;
  out.varint(kvSize);
  out.raw(KF_URL_FULL);
  out.buf[out.pos++] = 0x12;
  out.varint(anySize);
  out.buf[out.pos++] = 0x0a;
  out.varint(b);
  out.str(scheme, scheme.length);
  out.raw(SCHEME_SEP);
  copyRange(out, hostS, hostE);
  if (slash) out.buf[out.pos++] = 0x2f;
  copyRange(out, urlS, urlE);
}

/**
 * SHA-256 of bytes, in hex: the one-shot `crypto.hash` where Node has it (Node 20.12, 21.7), else
 * a Hash object. (Hex, not a Buffer: `crypto.hash(..., "buffer")` measured 2.5x slower on Node 20 and 24.)
 */
const sha256Hex: (data: Uint8Array) => string = typeof (crypto as { hash?: unknown }).hash === "function"
  ? (data) => (crypto as unknown as { hash(alg: string, data: Uint8Array, enc: "hex"): string }).hash("sha256", data, "hex")
  : (data) => crypto.createHash("sha256").update(data).digest("hex");

/**
 * The span id of the msg_id at s..e, as span.ts's spanIdOf (the first 8 bytes of the SHA-256 of
 * its UTF-8, which these bytes are; never all zero), written.
 */
function spanIdAt(out: Out, s: number, e: number): void {
  const h = sha256Hex(src.subarray(s, e));
  const buf = out.buf;
  let zero = true;
  for (let i = 0; i < 8; i++) if ((buf[out.pos + i] = (nibble(h.charCodeAt(2 * i)) << 4) | nibble(h.charCodeAt(2 * i + 1))) !== 0) zero = false;
  if (zero) buf[out.pos + 7] = 1;
  out.pos += 8;
}

/** The trace id of the msg_id at s..e, as span.ts's traceIdOf: a lower-case UUID's 16 bytes straight from its hex digits. */
function traceIdAt(out: Out, s: number, e: number): void {
  if (e - s === 36) {
    const buf = out.buf;
    let p = out.pos;
    let zero = true;
    let ok = true;
    for (let i = s; i < e; i += 2) {
      if (i - s === 8 || i - s === 13 || i - s === 18 || i - s === 23) {
        if (src[i] !== 0x2d) ok = false;
        i--;
        continue;
      }
      const a = lowerHex(src[i]!), b = lowerHex(src[i + 1]!);
      if (a < 0 || b < 0) {
        ok = false;
        break;
      }
      if ((buf[p++] = (a << 4) | b) !== 0) zero = false;
    }
    if (ok && !zero) {
      out.pos = p;
      return;
    }
  }
  out.hex(traceIdOf(src.toString("utf8", s, e)));
}

function lowerHex(c: number): number {
  return c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
}

/** The port of the Host header at hostS..hostE (as span.ts's splitHost), or -1; a long one as its text in `portText`. */
function hostPort(): number {
  if (src[hostS] === 0x5b) {
    const close = src.indexOf(0x5d, hostS);
    if (close < 0 || close >= hostE) return -2;
    if (close + 1 === hostE || src[close + 1] !== 0x3a) return close + 1 === hostE ? -1 : -2;
    return digitsAt(close + 2, hostE);
  }
  let colon = -1;
  for (let i = hostS + 1; i < hostE; i++) {
    if (src[i] === 0x3a) {
      if (colon >= 0) return -1;
      colon = i;
    }
  }
  if (src[hostS] === 0x3a) return -1;
  return colon < 0 ? -1 : digitsAt(colon + 1, hostE);
}

/** The number of the digits s..e (at least one, at most 9), -2 for longer ones, -1 when not all digits. */
function digitsAt(s: number, e: number): number {
  if (e <= s) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = src[i]!;
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + c - 0x30;
  }
  return e - s > 9 ? -2 : v;
}

/**
 * The span of a message of the common shape, written from its bytes (the same bytes writeSpan
 * writes for spanShell + spanAttributes of the parsed message); false, with `out` as it was, when
 * the message is not of that shape.
 */
function writeScannedSpan(out: Out, m: Buffer, headEnd: number, t: RequestTemplate, estimate: number, reqS: number, reqE: number, resS: number, resE: number): boolean {
  if (!scanHead(m, headEnd)) return false;
  const startMs = timestampMs();
  if (!Number.isFinite(startMs)) return false;
  const port = hostS === hostE ? -1 : hostPort();
  if (port === -2) return false; // a port the fallback writes as it must (a double, or [v6]x)
  const hasParent = parentE > parentS;
  const joined = tpS >= 0 ? parseTraceparent(m.toString("utf8", tpS, tpE)) : undefined;
  const outgoing = sdkE - sdkS >= OUTGOING.length && holds(m, OUTGOING, sdkE - OUTGOING.length);

  const reserve = varintSize(estimate);
  const at = begin(out, 0x12, reserve);
  out.ensure(2 + 16 + 2 + 8 + 2 + 8 + t.name.length + 2 + 9 + 9);
  out.buf[out.pos++] = 0x0a;
  out.buf[out.pos++] = 16;
  if (joined !== undefined) out.hex(joined.traceId);
  else if (hasParent) traceIdAt(out, parentS, parentE);
  else traceIdAt(out, msgS, msgE);
  out.buf[out.pos++] = 0x12;
  out.buf[out.pos++] = 8;
  spanIdAt(out, msgS, msgE);
  if (hasParent) {
    out.buf[out.pos++] = 0x22;
    out.buf[out.pos++] = 8;
    spanIdAt(out, parentS, parentE);
  } else if (joined !== undefined) {
    out.buf[out.pos++] = 0x22;
    out.buf[out.pos++] = 8;
    out.hex(joined.spanId);
  }
  out.raw(t.name);
  out.buf[out.pos++] = 0x30;
  out.buf[out.pos++] = (outgoing ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER) + 1;
  const seconds = Math.floor(startMs / 1000);
  const nanos = Math.round((startMs - seconds * 1000) * 1e6);
  out.buf[out.pos++] = 0x39;
  out.hrTime2(seconds, nanos);
  const endNanos = nanos + (duration > 0 ? duration : 0);
  out.buf[out.pos++] = 0x41;
  out.hrTime2(seconds + Math.floor(endNanos / 1e9), endNanos % 1e9);

  // The attributes, in spanAttributes' order.
  rangeAttribute(out, KF_METHOD, methS, methE);
  let q = urlS;
  while (q < urlE && src[q] !== 0x3f && src[q] !== 0x23) q++;
  if (q === urlS) writeAttribute(out, 0x4a, "url.path", "/");
  else rangeAttribute(out, KF_PATH, urlS, q);
  rangeAttribute(out, KF_TARGET, urlS, urlE);
  writeAttribute(out, 0x4a, "http.response.status_code", status);
  writeAttribute(out, 0x4a, "network.protocol.version", major === 2 || major === 3 ? String(major) : major === 1 && minor === 1 ? "1.1" : `${major}.${minor}`);
  if (q < urlE && src[q] === 0x3f) {
    let hash = q + 1;
    while (hash < urlE && src[hash] !== 0x23) hash++;
    rangeAttribute(out, KF_QUERY, q + 1, hash);
  }
  if (hostE > hostS) {
    rangeAttribute(out, KF_ADDRESS, hostS, hostE);
    if (port >= 0) writeAttribute(out, 0x4a, "server.port", port);
  }
  let scheme: string;
  const captured = schemeS >= 0 ? m.toString("latin1", schemeS, schemeE) : "";
  if (captured === "https" || captured === "http") scheme = captured;
  else scheme = xfpS >= 0 && m.toString("utf8", xfpS, xfpE).split(",")[0]!.trim().toLowerCase() === "https" ? "https" : "http";
  writeAttribute(out, 0x4a, "url.scheme", scheme);
  urlFull(out, scheme);
  if (uaS >= 0) rangeAttribute(out, KF_UA, uaS, uaE);
  if (routeS >= 0) rangeAttribute(out, KF_ROUTE, routeS, routeE);
  rangeAttribute(out, KF_QUERY_PARAMS, qpS, qpE);
  rangeAttribute(out, KF_PATH_PARAMS, ppS, ppE);
  headerRangeAttributes(out, REQ_PREFIX, reqHS, reqHE);
  headerRangeAttributes(out, RES_PREFIX, resHS, resHE);
  rangeAttribute(out, KF_REQ_BODY, reqS, reqE);
  rangeAttribute(out, KF_RES_BODY, resS, resE);
  rangeAttribute(out, KF_MSG_ID, msgS, msgE);
  rangeAttribute(out, KF_SDK, sdkS, sdkE);
  writeAttribute(out, 0x4a, "monoscope.errors", "[]");
  if (tagsS >= 0) arrayAttribute(out, KF_TAGS, REQ_PREFIX, 0, 0, tagsS, tagsE);

  const failed = status >= 500 || (outgoing && status === 0);
  const message = failed ? (status > 0 ? `HTTP ${status}` : "no response") : undefined;
  const messageBytes = message ? message.length : 0;
  const statusSize = (messageBytes > 0 ? 1 + varintSize(messageBytes) + messageBytes : 0) + 2;
  out.ensure(8 + 1 + 5 + statusSize + 5);
  out.buf[out.pos++] = 0x50; // dropped_attributes_count
  out.buf[out.pos++] = 0;
  out.buf[out.pos++] = 0x60; // dropped_events_count
  out.buf[out.pos++] = 0;
  out.buf[out.pos++] = 0x70; // dropped_links_count
  out.buf[out.pos++] = 0;
  out.buf[out.pos++] = 0x7a;
  out.varint(statusSize);
  if (messageBytes > 0) {
    out.buf[out.pos++] = 0x12;
    out.varint(messageBytes);
    out.str(message!, messageBytes);
  }
  out.buf[out.pos++] = 0x18;
  out.buf[out.pos++] = failed ? STATUS_ERROR : STATUS_UNSET;
  out.buf[out.pos++] = 0x85;
  out.buf[out.pos++] = 0x01;
  out.fixed32(SPAN_FLAGS);
  end(out, at, reserve);
  return true;
}

// ---- the answer -------------------------------------------------------------------------------

/** What a collector's ExportTraceServiceResponse says of a partial success (nothing when it says none). */
export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/** A varint at `p` of `b`: [value (exact below 2^53), next position]; throws past the end. */
function readVarint(b: Uint8Array, p: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (p >= b.length) throw new RangeError("truncated varint");
    const byte = b[p++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, p];
    scale *= 128;
  }
  throw new RangeError("varint too long");
}

/** Skip the field of wire type `type` at `p`; the position after it. */
function skipField(b: Uint8Array, p: number, type: number): number {
  if (type === 0) return readVarint(b, p)[1];
  if (type === 1) return p + 8;
  if (type === 5) return p + 4;
  if (type === 2) {
    const [len, q] = readVarint(b, p);
    return q + len;
  }
  throw new RangeError(`wire type ${type}`);
}

/**
 * ExportTraceServiceResponse.partial_success (field 1: rejected_spans 1, error_message 2), or
 * undefined when the answer has none. Throws on bytes that are not protobuf.
 */
export function readPartialSuccess(b: Uint8Array): PartialSuccess | undefined {
  let found: PartialSuccess | undefined;
  for (let p = 0; p < b.length;) {
    const [tag, q] = readVarint(b, p);
    if (tag !== 0x0a) {
      p = skipField(b, q, tag & 7);
      continue;
    }
    const [len, start] = readVarint(b, q);
    const stop = start + len;
    if (stop > b.length) throw new RangeError("truncated partial_success");
    found = { rejectedSpans: 0, errorMessage: "" };
    for (let r = start; r < stop;) {
      const [t, s] = readVarint(b, r);
      if (t === 0x08) [found.rejectedSpans, r] = readVarint(b, s);
      else if (t === 0x12) {
        const [n, at] = readVarint(b, s);
        found.errorMessage = Buffer.from(b.buffer, b.byteOffset + at, Math.min(n, stop - at)).toString("utf8");
        r = at + n;
      } else r = skipField(b, s, t & 7);
    }
    p = stop;
  }
  return found;
}

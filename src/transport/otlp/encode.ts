/**
 * The OTLP export request of a batch of queued wire messages, written here as protobuf bytes (the
 * shapes of opentelemetry-proto's trace.proto, common.proto and resource.proto; the tests decode it
 * with the official definitions). The span shape is fixed (./span.ts), so the encoder is a few
 * varints and length-delimited fields; what makes it cheaper than a general serializer:
 *
 * - a body is not parsed out of its message: the base64 text between `"request_body":"` (or
 *   `"response_body":"`) and the closing quote, which JSON writes with no escape, is exactly the
 *   UTF-8 of the attribute's string, so it is copied from the message into the span (one native
 *   copy); only the message's head (everything before the bodies, a few hundred bytes) goes
 *   through JSON.parse;
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
import { ByteRange, spanAttributes, spanShell, type Attributes, type AttributeValue, type HrTime, type OtlpSpan, type OtlpWireMessage, type SpanTemplate } from "./span.js";

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
  const n = m.length;
  if (n > 64 && m[n - 1] === 0x7d && m[n - 2] === QUOTE) {
    const resEnd = n - 2;
    const resQuote = m.lastIndexOf(QUOTE, resEnd - 1);
    const resKey = resQuote - (RES_KEY.length - 1);
    if (holds(m, RES_KEY, resKey)) {
      const reqQuote = m.lastIndexOf(QUOTE, resKey - 1);
      const reqKey = reqQuote - (REQ_KEY.length - 1);
      if (holds(m, REQ_KEY, reqKey) && noBackslash(m, reqQuote + 1, resKey) && noBackslash(m, resQuote + 1, resEnd)) {
        const head = JSON.parse(m.toString("utf8", 0, reqKey) + "}") as OtlpWireMessage;
        if (head !== null && typeof head === "object") {
          head.request_body = new ByteRange(m, reqQuote + 1, resKey);
          head.response_body = new ByteRange(m, resQuote + 1, resEnd);
          return head;
        }
      }
    }
  }
  return JSON.parse(m.toString("utf8")) as OtlpWireMessage;
}

function noBackslash(m: Buffer, start: number, end: number): boolean {
  return end <= start || m.subarray(start, end).indexOf(BACKSLASH) < 0;
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
    const seconds = t[0];
    const high16 = Math.floor(seconds / 0x10000) * 1e9; // < 2^48
    const low = (high16 % 0x10000) * 0x10000 + (seconds % 0x10000) * 1e9 + t[1]; // < 2^47
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
export function encodeRequests(messages: readonly Buffer[], t: RequestTemplate, maxBytes: number, skipped: Skipped[] = [], pool?: BufferPool): EncodedPart[] {
  const parts: EncodedPart[] = [];
  const headRoom = 1 + 5 + t.resource.length + 1 + 5 + t.scope.length;
  let total = 0;
  for (const m of messages) total += estimatedSpanBytes(m);
  let out = new Out(headRoom + Math.min(total, maxBytes + 65536), headRoom, pool);
  let sources: Buffer[] = [];
  for (const m of messages) {
    const start = out.pos;
    try {
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
    if (sources.length > 0 && out.pos > maxBytes) { // out.pos: the spans and room for the head
      // This span would take the request past the limit: it starts the next one.
      const next = new Out(headRoom + Math.max(out.pos - start, Math.min(total, maxBytes + 65536)), headRoom, pool);
      next.ensure(out.pos - start);
      next.pos += out.buf.copy(next.buf, headRoom, start, out.pos);
      out.pos = start;
      parts.push({ bytes: finish(out, t, headRoom), sources, memory: out.buf });
      out = next;
      sources = [];
    }
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

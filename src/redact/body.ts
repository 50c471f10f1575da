import zlib from "node:zlib";
import { REDACTED } from "../registry/marker.js";
import { bodyBytes, isTruncated } from "../capture/body.js";
import type { CapturedBody } from "../capture/exchange.js";
import type { CompiledPaths } from "../jsonpath/index.js";

/** The body sent in place of one that cannot be checked against the rules that apply to it. */
export const UNCHECKABLE_MARKER = Buffer.from(JSON.stringify(REDACTED));

const BINARY_TYPE =
  /^(image|audio|video|font)\/|^application\/(octet-stream|pdf|zip|gzip|x-gzip|x-tar|x-7z-compressed|x-rar-compressed|vnd\.ms-|vnd\.openxmlformats|msword|wasm|x-protobuf|protobuf|grpc|vnd\.google\.protobuf|x-msgpack|msgpack|cbor)/;
const JSON_TYPE = /^application\/(.+\+)?json\b|^application\/json|^text\/json/;
const FORM_TYPE = /^application\/x-www-form-urlencoded\b/;
const MULTIPART_TYPE = /^multipart\/form-data\b/;
/** Text types whose syntax cannot hold a JSONPath-addressable value: sent as they are. */
const OPAQUE_TEXT = /^(text\/(html|css|javascript|csv|xml|markdown|calendar|event-stream)|application\/(xml|javascript|xhtml\+xml|rss\+xml|atom\+xml)|image\/svg\+xml)/;

type Kind = "binary" | "multipart" | "form" | "opaque" | "json" | "other";
const kinds = new Map<string, Kind>();
/** What a (lower-cased, trimmed) content type is, remembered: services send a handful of distinct types. */
function kindOf(contentType: string): Kind {
  let kind = kinds.get(contentType);
  if (kind !== undefined) return kind;
  kind = BINARY_TYPE.test(contentType) ? "binary"
    : MULTIPART_TYPE.test(contentType) ? "multipart"
    : FORM_TYPE.test(contentType) ? "form"
    : OPAQUE_TEXT.test(contentType) ? "opaque"
    : contentType === "" || JSON_TYPE.test(contentType) ? "json"
    : "other";
  if (kinds.size >= 256) kinds.clear(); // bounded, whatever types a client sends
  kinds.set(contentType, kind);
  return kind;
}

function marker(text: string): Buffer {
  return Buffer.from(text);
}

/** Decompressed bytes (at most `limit`); "cut" when the output would exceed `limit`; undefined when not decodable. */
function decompress(bytes: Buffer, encoding: string, limit: number): Buffer | "cut" | undefined {
  const opts = { maxOutputLength: Math.max(limit, 1), finishFlush: zlib.constants.Z_SYNC_FLUSH };
  try {
    if (encoding === "gzip" || encoding === "x-gzip") return zlib.gunzipSync(bytes, opts);
    if (encoding === "deflate") return zlib.inflateSync(bytes, opts);
    if (encoding === "br") {
      return zlib.brotliDecompressSync(bytes, { maxOutputLength: Math.max(limit, 1) });
    }
  } catch (err) {
    // Output over the limit: the body was large; report it cut (zlib gives no partial output).
    if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") return "cut";
  }
  return undefined;
}

/** Serialize a body that a parser consumed before the SDK saw its bytes (req.body). Sets
 *  `serialized.json` when the result is JSON text (whatever the content type says). */
function serializeParsed(parsed: unknown, contentType: string, serialized: { json: boolean }): Buffer | undefined {
  if (parsed === undefined || parsed === null) return undefined;
  if (Buffer.isBuffer(parsed)) return parsed;
  if (parsed instanceof Uint8Array) return Buffer.from(parsed);
  if (typeof parsed === "string") return Buffer.from(parsed);
  if (typeof parsed !== "object") return Buffer.from(JSON.stringify(parsed));
  if (FORM_TYPE.test(contentType)) {
    const entries = Object.entries(parsed as Record<string, unknown>);
    if (entries.every(([, v]) => typeof v === "string" || Array.isArray(v))) {
      const sp = new URLSearchParams();
      for (const [k, v] of entries) for (const item of Array.isArray(v) ? v : [v]) sp.append(k, String(item));
      return Buffer.from(sp.toString());
    }
  }
  // An empty object from a parser that saw no body is no body.
  if (!Array.isArray(parsed) && Object.keys(parsed).length === 0 && !JSON_TYPE.test(contentType)) return undefined;
  serialized.json = true;
  return Buffer.from(JSON.stringify(parsed));
}

function redactJsonText(text: string, paths: CompiledPaths, bytes?: Buffer): Buffer {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return UNCHECKABLE_MARKER; // fail closed: what does not parse cannot be checked
  }
  // Valid JSON in which no path can match (none of the member names the paths end in, no escapes):
  // clean as it is, sent byte for byte without the walk and the re-serialization.
  if (!paths.mayMatch(text)) return bytes ?? Buffer.from(text);
  try {
    return Buffer.from(JSON.stringify(paths.redact(doc)));
  } catch {
    // e.g. JSON.stringify's RangeError on a few thousand levels of nesting: fail closed.
    return UNCHECKABLE_MARKER;
  }
}

function redactForm(text: string, paths: CompiledPaths): Buffer {
  const sp = new URLSearchParams(text);
  const doc = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of sp) {
    const prev = doc[k];
    doc[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const red = paths.redact(doc);
  if (typeof red !== "object" || red === null) return UNCHECKABLE_MARKER;
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(red as Record<string, unknown>)) {
    for (const item of Array.isArray(v) ? v : [v]) out.append(k, typeof item === "string" ? item : JSON.stringify(item));
  }
  return Buffer.from(out.toString());
}

/** Multipart: file parts become placeholders, form fields stay (redacted by name when rules match). */
function renderMultipart(bytes: Buffer, contentType: string, paths: CompiledPaths, truncated: boolean): Buffer {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return paths.size > 0 ? UNCHECKABLE_MARKER : marker("[multipart body without boundary]");
  const text = bytes.toString("latin1");
  const delim = `--${boundary}`;
  const pieces = text.split(delim);
  const out: string[] = [];
  for (let i = 1; i < pieces.length; i++) {
    let piece = pieces[i]!;
    if (piece.startsWith("--")) break;
    piece = piece.replace(/^\r\n/, "");
    const headEnd = piece.indexOf("\r\n\r\n");
    const isLast = i === pieces.length - 1;
    if (headEnd < 0) break;
    const head = piece.slice(0, headEnd);
    let value = piece.slice(headEnd + 4).replace(/\r\n$/, "");
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? "";
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    if (filename !== undefined) {
      const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? "application/octet-stream";
      value = `[file: ${filename}, ${type}, ${Buffer.byteLength(value, "latin1")}${isLast && truncated ? "+" : ""} bytes]`;
    } else {
      if (isLast && truncated && paths.size > 0) value = REDACTED;
      else if (paths.size > 0) {
        const utf8 = Buffer.from(value, "latin1").toString("utf8");
        const red = paths.redact({ [name]: utf8 }) as Record<string, unknown> | string;
        const redValue = typeof red === "object" && red !== null ? red[name] : red;
        value = redValue === utf8 ? value : Buffer.from(String(redValue)).toString("latin1");
      }
    }
    out.push(`${delim}\r\n${head}\r\n\r\n${value}\r\n`);
  }
  out.push(`${delim}--\r\n`);
  return Buffer.from(out.join(""), "latin1");
}

/**
 * The bytes to publish for one captured body, redacted with `paths`. Fails closed: a body the rules
 * apply to that cannot be parsed (invalid, cut at the limit, undecodable) becomes a marker.
 */
export function renderBody(
  body: CapturedBody,
  contentTypeHeader: string | undefined,
  contentEncoding: string | undefined,
  paths: CompiledPaths,
  limit: number,
): Buffer {
  const contentType = (contentTypeHeader ?? "").toLowerCase().trim();
  let bytes: Buffer;
  let truncated = isTruncated(body);
  const fromParsed = { json: false };
  if (body.keptBytes > 0) {
    bytes = bodyBytes(body);
  } else if (body.parsed !== undefined) {
    let serialized: Buffer | undefined;
    try {
      serialized = serializeParsed(body.parsed, contentType, fromParsed);
    } catch {
      return paths.size > 0 ? UNCHECKABLE_MARKER : marker("[body could not be serialized]");
    }
    if (!serialized) return Buffer.alloc(0);
    bytes = serialized.length > limit ? serialized.subarray(0, limit) : serialized;
    truncated = serialized.length > limit;
  } else {
    return Buffer.alloc(0);
  }
  if (bytes.length === 0) return bytes;

  const enc = (contentEncoding ?? "").toLowerCase().trim();
  if (enc && enc !== "identity") {
    const plain = decompress(bytes, enc, limit);
    if (plain === "cut") return marker(`[compressed body (${enc}), ${body.totalBytes} bytes, over ${limit} bytes decompressed]`);
    if (plain) bytes = plain;
    else if (enc === "gzip" && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      return marker(`[compressed body (${enc}), ${body.totalBytes} bytes]`);
    }
    // Otherwise the SDK saw the bytes before compression (compression mounted outside it).
  }

  const kind = kindOf(contentType);
  if (kind === "binary") return marker(`[binary body (${contentType}), ${body.totalBytes || bytes.length} bytes]`);
  if (kind === "multipart") return renderMultipart(bytes, contentTypeHeader ?? "", paths, truncated);
  if (paths.size === 0) return bytes;
  // A parsed body serialized as JSON is JSON, whatever the content type claims (e.g. a nested
  // object from an extended form parser): redacting it as a form would match nothing.
  if (fromParsed.json) return truncated ? UNCHECKABLE_MARKER : redactJsonText(bytes.toString("utf8"), paths);
  if (kind === "form") return truncated ? UNCHECKABLE_MARKER : redactForm(bytes.toString("utf8"), paths);
  if (kind === "opaque") return bytes;
  const text = bytes.toString("utf8");
  if (kind !== "json" && !/^\s*[[{"]/.test(text)) return bytes; // plain text that is not JSON
  if (truncated) return UNCHECKABLE_MARKER;
  return redactJsonText(text, paths, bytes);
}

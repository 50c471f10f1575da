/**
 * Shared shapes of the data flow: adapter -> capture (Exchange) -> redact -> message -> queue -> transport.
 */

/** `sdk_type` values the ingestion service knows (see docs/wire-format.md). */
export type SdkType =
  | "JsExpress"
  | "JsNest"
  | "JsFastify"
  | "JsAdonis"
  | "JsNext"
  | "JsOutgoing"
  | "JsAxiosOutgoing";

/** The six-field error object of the wire format. */
export interface ErrorRecord {
  when: string;
  error_type: string;
  root_error_type: string;
  root_error_message: string;
  message: string;
  stack_trace: string;
}

/** Header values as captured: node's `rawHeaders` (flat name/value list) or a name -> value(s) map. */
export type RawHeaders =
  | readonly string[]
  | Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** One body as captured on the request path: references to at most `limit` bytes, plus counts. */
export interface CapturedBody {
  /** Chunks as observed, in order, holding at most maxBodyBytes bytes in total. */
  chunks: Buffer[];
  /** Bytes kept in `chunks`. */
  keptBytes: number;
  /** Bytes seen in total (may exceed keptBytes when truncated). */
  totalBytes: number;
  /** A parsed body (e.g. req.body set by a parser that ran before the SDK saw the bytes). Used only
   *  when no bytes were observed. Serialized off the request path, on a copy. */
  parsed?: unknown;
}

/**
 * A framework-neutral captured exchange: everything needed to build one wire message, copied or
 * referenced cheaply on the request path. Building, redaction and encoding happen later, off it.
 */
export interface Exchange {
  sdkType: SdkType;
  msgId: string;
  parentId?: string;
  /** Epoch milliseconds (with sub-ms fraction) at request start. */
  startEpochMs: number;
  durationNs: number;
  method: string;
  host: string;
  /** Path plus query string as sent, no scheme or host. */
  rawUrl: string;
  /** Route template (`/users/:id`); "" when no route matched; undefined when the adapter cannot know. */
  urlPath: string | undefined;
  pathParams: Record<string, string>;
  protoMajor: number;
  protoMinor: number;
  statusCode: number;
  requestHeaders: RawHeaders;
  responseHeaders: RawHeaders;
  requestBody: CapturedBody;
  responseBody: CapturedBody;
  errors: ErrorRecord[];
}

/** The wire message (keys exactly as the ingestion service expects). */
export interface WireMessage {
  duration: number;
  host: string;
  method: string;
  path_params: Record<string, string>;
  project_id: string;
  proto_major: number;
  proto_minor: number;
  query_params: Record<string, string[]>;
  raw_url: string;
  referer: string;
  request_body: string;
  request_headers: Record<string, string[]>;
  response_body: string;
  response_headers: Record<string, string[]>;
  sdk_type: SdkType;
  status_code: number;
  timestamp: string;
  url_path?: string;
  msg_id: string;
  parent_id?: string;
  service_version?: string;
  tags?: string[];
  errors: ErrorRecord[];
}

/** What `GET {rootURL}/api/client_metadata` returns. */
export interface ClientMetadata {
  project_id: string;
  pubsub_project_id: string;
  topic_id: string;
  pubsub_push_service_account: Record<string, unknown>;
}

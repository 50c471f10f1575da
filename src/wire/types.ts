/** The wire format's shapes (docs/wire-format.md): the message, its error objects, the bootstrap answer. */

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

/**
 * The one registry of error codes (thrown only at construction) and warning codes (logged once,
 * never thrown). After construction nothing in the SDK throws into the host application.
 */

/** Thrown by `new APIToolkit(...)` (and only there) when an option is invalid. */
export class APIToolkitConfigError extends Error {
  readonly code: ConfigErrorCode;
  constructor(code: ConfigErrorCode, message: string) {
    super(`[apitoolkit] ${code}: ${message}`);
    this.name = "APIToolkitConfigError";
    this.code = code;
  }
}

export type ConfigErrorCode =
  | "ERR_INVALID_OPTION"
  | "ERR_INVALID_JSONPATH"
  | "ERR_INVALID_URL"
  /** An integration was given something else than an APIToolkit client. */
  | "ERR_INVALID_CLIENT";

/** Warnings are logged at most once per client and code. Each drop reason has one (./drops.ts). */
export const WARNINGS = {
  W_NO_API_KEY: "no apiKey given (option apiKey or APITOOLKIT_KEY): the SDK is disabled and captures nothing; the app is unaffected",
  W_INVALID_API_KEY: "invalid API key: client_metadata answered 401/403; publishing is disabled and captured exchanges are dropped with reason invalid_api_key",
  W_BOOTSTRAP_RETRY: "could not reach client_metadata yet; retrying in the background while exchanges queue (bounded)",
  W_BOOTSTRAP_BAD_RESPONSE: "client_metadata answered with an unusable body; retrying in the background",
  W_QUEUE_FULL: "the delivery queue is full (maxQueueBytes): new exchanges are being dropped with reason queue_full",
  W_PUBLISH_FAILED: "publishing (to Pub/Sub, or over OTLP) failed; retrying with backoff",
  W_PUBLISH_REJECTED: "Pub/Sub (or the OTLP collector) rejected a batch permanently; its messages were dropped with reason rejected",
  W_RETRIES_EXHAUSTED: "one message kept failing (transiently) while the batches around it were published; it was given up with reason retries_exhausted",
  W_MESSAGE_TOO_LARGE: "a message was larger than one Pub/Sub publish request carries (7.5 MB, 10 MB once base64-encoded) and was dropped with reason too_large (lower maxBodyBytes)",
  W_SHUTDOWN_DROPPED: "close() ran out of time (or an exchange finished after it): what was not published was dropped with reason shutdown",
  W_CAPTURE_FAILED: "an internal error occurred while capturing an exchange; it was dropped with reason capture_failed (the app is unaffected)",
  W_BUILD_FAILED: "an internal error occurred while building a message; it was dropped with reason build_failed",
  W_REPORT_ERROR_OUTSIDE_REQUEST: "reportError() was called outside any request context; the error is only counted (errors_outside_request)",
  W_TRANSPORT_INIT_FAILED: "could not create the Pub/Sub publisher (or the OTLP exporter); retrying",
  W_VIEWER_FAILED: "the traffic viewer could not start (option viewer); the app is unaffected, and with an apiKey publishing goes on without it",
  W_OTLP_ENV_INVALID: "an OTEL_EXPORTER_OTLP_* environment variable holds a value that is not valid: it is ignored and the option's default applies",
  W_IDENTITY_INVALID: "setUser, setTenant, setSession or setAttributes was given a value of the wrong shape; that value was ignored (the app is unaffected)",
  W_ATTRIBUTE_REFUSED: "setAttributes refused a key: it would shadow the SDK's own attributes (http.*, url.*, server.*, user.*, tenant.*, session.*, monoscope.*, apitoolkit.*), is empty, too long, holds \":\", or is past the 64 kept per request",
  W_IDENTITY_OUTSIDE_REQUEST: "setUser, setTenant, setSession or setAttributes was called outside any request context; the call is only counted (identityOutsideRequest)",
  W_IGNORE_REQUEST_FAILED: "the ignoreRequest option threw; the request was captured as if the option were absent (the app is unaffected)",
  W_SAMPLE_FAILED: "the sample option threw; sampleRate decided instead (the app is unaffected)",
  W_RESOURCE_ATTRIBUTES_INVALID: "OTEL_RESOURCE_ATTRIBUTES is not a valid key=value list; it was ignored whole, as the OpenTelemetry specification says",
  W_VIEWER_NOT_LOOPBACK: "the traffic viewer listens on an interface other than loopback (viewer.host): anyone who can reach it sees the captured traffic (redacted)",
} as const;

export type WarningCode = keyof typeof WARNINGS;

/**
 * The captured exchange: what an adapter fills on the request path, framework-neutral.
 */
import type { ErrorRecord, SdkType } from "../wire/types.js";
import type { RouteRead } from "./routes/params.js";
import type { Identity } from "./identity-types.js";

/** Status reported for a request whose client went away before any response was sent. */
export const CLIENT_CLOSED_STATUS = 499;



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
  /** OTLP delivery only: the W3C traceparent of the OpenTelemetry span active when the exchange
   *  started (src/capture/trace.ts); its span becomes that span's child. Never set otherwise. */
  traceparent?: string;
  /** OTLP delivery only: the URL scheme the capture saw (for the span's url.full). Never set otherwise. */
  scheme?: "http" | "https";
  /** Who is calling, as the app set it while the request was served (capture/identity.ts). */
  identity?: Identity;
}

/** Put what an adapter read of the route on the exchange: template and params, "" (no route matched) or nothing (unknown). */
export function applyRoute(exchange: Exchange, route: RouteRead): void {
  if (route === undefined) return;
  if (route === "") {
    exchange.urlPath = "";
    exchange.pathParams = {};
    return;
  }
  exchange.urlPath = route.template;
  exchange.pathParams = route.params;
}

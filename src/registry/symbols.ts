/**
 * Every `Symbol.for` key the SDK uses, in one place (pino's `lib/symbols.js`). Keys are global, so
 * two copies of the SDK in one process (the ESM and CJS builds, or two versions) share the state
 * behind them: a request captured by one is not captured again by the other. The `.v1` suffix is
 * the shape of that shared state; bump it when the shape changes.
 */

/** On a client object: its capture sink (what adapters talk to). */
export const SINK = Symbol.for("apitoolkit-node.sink.v1");
/** On an incoming request (IncomingMessage or Web Request): already captured. */
export const CAPTURED = Symbol.for("apitoolkit-node.captured.v1");
/** On a node:http request and its response: the capture in flight (what the process-wide hooks report to). */
export const NODE_CAPTURE = Symbol.for("apitoolkit-node.node-capture.v1");
/** On globalThis: the process-wide node:http hooks, installed once for every copy of the SDK. */
export const NODE_HOOKS = Symbol.for("apitoolkit-node.node-hooks.v1");
/** On globalThis: whether the Express route accessors sit on IncomingMessage.prototype (capture/routes/express.ts). */
export const EXPRESS_ACCESSORS = Symbol.for("apitoolkit-node.express-accessors.v1");
/** On a request: the values Express assigned to req.baseUrl / req.route / req.params, behind those accessors. */
export const EXPRESS_BASE_URL = Symbol.for("apitoolkit-node.express.baseUrl.v1");
export const EXPRESS_ROUTE = Symbol.for("apitoolkit-node.express.route.v1");
export const EXPRESS_PARAMS = Symbol.for("apitoolkit-node.express.params.v1");
/** On a captured request: its Express route tracker. */
export const EXPRESS_TRACKER = Symbol.for("apitoolkit-node.express.tracker.v1");
/** On globalThis: the AsyncLocalStorage instances of the request context. */
export const CONTEXT = Symbol.for("apitoolkit-node.context.v1");
/** On an Exchange: the redaction rules it must be redacted with (outgoing calls add per-destination rules). */
export const RULES = Symbol.for("apitoolkit-node.rules.v1");
/** On globalThis: the state the outgoing-call capture shares between copies. */
export const OUTGOING = Symbol.for("apitoolkit-node.outgoing.v1");
/** On an outgoing request object (undici Request, ClientRequest): taken by one capture. */
export const CLAIMED = Symbol.for("apitoolkit-node.outgoing.claimed.v1");
/** On globalThis: the process-wide `http.client.request.created` fallback (Node 20). */
export const HTTP_CREATED_FALLBACK = Symbol.for("apitoolkit-node.outgoing.http-created-fallback.v1");
/** On a ClientRequest: its first write/end was already published by the fallback. */
export const HTTP_SEEN = Symbol.for("apitoolkit-node.outgoing.http-seen.v1");
/** On an axios instance: the clients that installed their interceptors on it. */
export const AXIOS_INSTALLED = Symbol.for("apitoolkit-node.axios.installed.v1");
/** On an axios per-call transform: the call's capture state. */
export const AXIOS_STATE = Symbol.for("apitoolkit-node.axios.state.v1");
/** Nest provider token of the module that installs the capture on the platform. */
export const NEST_INSTALLED = Symbol.for("apitoolkit-node.nest.installed.v1");

/** Keys other libraries define, read or set by the SDK. */
export const FOREIGN = {
  /** fastify-plugin's marker: a plugin's hooks apply to the whole app, not an encapsulated child. */
  fastifySkipOverride: Symbol.for("skip-override"),
  /** fastify-plugin's display name. */
  fastifyDisplayName: Symbol.for("fastify.display-name"),
  /** Next.js's request context store (the platform's `waitUntil`). */
  nextRequestContext: Symbol.for("@next/request-context"),
  /** Next.js's request meta on an IncomingMessage (the matched page and params, the URL as received). */
  nextRequestMeta: Symbol.for("NextInternalRequestMeta"),
  /** @opentelemetry/api 1.x's global registry (its context manager, when an OpenTelemetry SDK registered one). */
  otelApi: Symbol.for("opentelemetry.js.api.1"),
  /** @opentelemetry/api's context key of the active span. */
  otelSpan: Symbol.for("OpenTelemetry Context Key SPAN"),
  /** @opentelemetry/core's context key that tells instrumentations not to trace (set around the SDK's own OTLP exports). */
  otelSuppressTracing: Symbol.for("OpenTelemetry SDK Context Key SUPPRESS_TRACING"),
} as const;

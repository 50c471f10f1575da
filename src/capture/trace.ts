/**
 * The OpenTelemetry trace context at the start of an exchange, for OTLP delivery only: when the app
 * runs an OpenTelemetry SDK, the exchange's span joins that trace as a child of the span active
 * when the request started (or, for an outgoing call, of the incoming request's span).
 *
 * Read through @opentelemetry/api's own global registry (one `Symbol.for` key, shared by every copy
 * of the API in the process), so the SDK imports nothing of OpenTelemetry and works without it.
 * Called only when the client delivers over OTLP (`config.traceContext`): nothing of it runs on
 * the request path otherwise.
 */
import { currentRequest } from "./context.js";
import { FOREIGN } from "../registry/symbols.js";

interface OtelSpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}
interface OtelContext {
  getValue(key: symbol): unknown;
}
interface OtelGlobal {
  context?: { active(): OtelContext };
}

/**
 * The W3C `traceparent` (`00-<trace id>-<span id>-<flags>`) of the OpenTelemetry span active now;
 * undefined without an OpenTelemetry context manager or an active span. Never throws.
 *
 * @example
 * // Inside an OpenTelemetry-instrumented request handler:
 * activeTraceparent(); // "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
 */
export function activeTraceparent(): string | undefined {
  try {
    const api = (globalThis as Record<symbol, OtelGlobal | undefined>)[FOREIGN.otelApi];
    if (api?.context === undefined) return undefined;
    const span = api.context.active().getValue(FOREIGN.otelSpan) as { spanContext?(): OtelSpanContext } | undefined;
    const sc = span?.spanContext?.();
    if (!sc || typeof sc.traceId !== "string" || typeof sc.spanId !== "string") return undefined;
    return "00-" + sc.traceId + "-" + sc.spanId + ((sc.traceFlags & 1) === 1 ? "-01" : "-00");
  } catch {
    return undefined;
  }
}

/**
 * The trace an outgoing call belongs to: the one of the incoming request it is made under (the one
 * `parentId` names), so its span is that request's span's child in the same trace; outside any
 * request, the active OpenTelemetry span. Never throws.
 */
export function outgoingTraceparent(parentId: string | undefined): string | undefined {
  if (parentId === undefined) return activeTraceparent();
  const req = currentRequest();
  return req !== undefined && req.msgId === parentId ? req.traceparent : undefined;
}

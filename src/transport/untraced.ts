/**
 * The SDK's own wire calls (OTLP exports, Pub/Sub publishes) are traced by nobody: not by the
 * SDK's outgoing-call capture (runSuppressed), and not by the app's OpenTelemetry instrumentations
 * either (the suppress-tracing key of @opentelemetry/core, set through @opentelemetry/api's global
 * context manager when there is one, the way OpenTelemetry's own exporters do).
 */
import { runSuppressed } from "../capture/context.js";
import { FOREIGN } from "../registry/symbols.js";

interface OtelContext {
  setValue(key: symbol, value: unknown): OtelContext;
}
interface OtelContextManager {
  active(): OtelContext;
  with<T>(context: OtelContext, fn: () => T): T;
}

/** Run `fn` (the SDK's own I/O) so that no capture or instrumentation records it. */
export function untraced<T>(fn: () => T): T {
  return runSuppressed(() => {
    const cm = (globalThis as Record<symbol, { context?: OtelContextManager } | undefined>)[FOREIGN.otelApi]?.context;
    if (cm === undefined) return fn();
    let ctx: OtelContext;
    try {
      ctx = cm.active().setValue(FOREIGN.otelSuppressTracing, true);
    } catch {
      return fn();
    }
    return cm.with(ctx, fn);
  });
}

import type { IgnoreRequestInfo, ResolvedConfig } from "../config/options.js";
import { APIToolkitConfigError, type WarningCode } from "../registry/codes.js";
import type { Exchange } from "./exchange.js";
import { SINK } from "../registry/symbols.js";

/**
 * What capture code (adapters, outgoing instrumentation) needs from the client: the validated
 * config, whether capture is on, and where to hand finished exchanges. Implemented by APIToolkit.
 */
export interface CaptureSink {
  readonly config: ResolvedConfig;
  /** False when the SDK is disabled (no key, invalid key, closed): adapters pass through. */
  readonly capturing: boolean;
  /** Hand over a finished exchange. Never throws. */
  accept(exchange: Exchange): void;
  /**
   * Run `task` (which hands an exchange over) once the current turn's callbacks are done
   * (`setImmediate`): whoever is waiting for the response has it by then, so nothing of the SDK's
   * serialization runs before. Tasks run in the order given; flush() waits for the ones pending.
   * A task that throws is counted as a failed capture. Never throws.
   */
  defer(task: () => void): void;
  /** Log a warning once per code. Never throws. */
  warnOnce(code: WarningCode, detail?: unknown): void;
  /** An exchange was lost to an internal error: count it (`capture_failed`) and warn once. Never throws. */
  captureFailed(error: unknown): void;
  /** The client's flush (bounded by its flushTimeoutMs by default). Never rejects. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** True when requests to this path (no query string) are ignored by configuration. */
  ignores(path: string): boolean;
  /** The `ignoreRequest` option, guarded (a throw is warned once and means false); undefined when not set. */
  readonly ignoreRequest?: ((method: string, url: string, headers: IgnoreRequestInfo["headers"]) => boolean) | undefined;
}


/** Adapters get the sink of a client through this, so the public class keeps a small surface. */
export function sinkOf(client: unknown): CaptureSink {
  const sink = (client as Record<symbol, CaptureSink | undefined> | null)?.[SINK];
  if (!sink) throw new APIToolkitConfigError("ERR_INVALID_CLIENT", "expected an APIToolkit instance (new APIToolkit({...}))");
  return sink;
}

/** @internal */
export function attachSink(client: object, sink: CaptureSink): void {
  Object.defineProperty(client, SINK, { value: sink, enumerable: false });
}

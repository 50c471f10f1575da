/**
 * The adapter kit: what every framework integration is built from, so that an adapter is only its
 * framework's translation (where the request, response, route and parsed body are).
 *
 * Every entry point is guarded: after construction nothing here throws into the app. A failure
 * to start or finish a capture is counted (`stats().dropped.capture_failed`) and warned once, and
 * the request goes on uncaptured.
 *
 * @example
 * const kit = adapterKit(apitoolkit);
 * return function middleware(req, res, next) {
 *   const capture = kit.startNode(req, res, "JsExpress", req.originalUrl, (c) => {
 *     c.parsedBody = () => req.body;
 *     c.route = () => (req.route ? { template: req.route.path, params: stringParams(req.params) } : "");
 *   });
 *   kit.run(capture, next);
 * };
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { runInRequest } from "./context.js";
import { recordError } from "./errors.js";
import { nodeCaptureOf, startNodeCapture, type NodeCapture, type NodeReaders } from "./node-http.js";
import { sinkOf, type CaptureSink } from "./sink.js";
import { startWebCapture, type WebCapture, type WebCaptureOptions } from "./web.js";
import type { SdkType } from "../wire/types.js";

/** A capture in flight, node:http or Web. */
export type Capture = NodeCapture | WebCapture;

/** Options of {@link AdapterKit.startWeb}. */
export interface KitWebOptions extends WebCaptureOptions {
  /** Errors that are the framework's own control flow, thrown on as they are instead of counted as a
   *  failed capture (Next.js's dynamic-usage signal while it prerenders a route). */
  rethrow?: (error: unknown) => boolean;
}

/** The tools one client gives its adapters. */
export interface AdapterKit {
  readonly sink: CaptureSink;
  /**
   * Start capturing on a node:http request/response pair; `setup` then tells the capture where the
   * parsed body and the route are. Undefined when not capturing (disabled, ignored path, already
   * captured, or a failure, which is counted).
   */
  startNode(req: IncomingMessage, res: ServerResponse, sdkType: SdkType, rawUrl: string, setup?: (c: NodeCapture) => void): NodeCapture | undefined;
  /**
   * startNode with constant readers instead of a setup closure: `readers` (one object per adapter)
   * read the parsed body and the route from `source` (the adapter's request or context) when the
   * response finishes. The cheapest way in: nothing is allocated per request for it.
   */
  startNodeWith<S>(req: IncomingMessage, res: ServerResponse, sdkType: SdkType, rawUrl: string, readers: NodeReaders<S>, source: S): NodeCapture | undefined;
  /** Start capturing a Web `Request`; same contract as startNode. */
  startWeb(request: Request, sdkType: SdkType, options?: KitWebOptions, setup?: (c: WebCapture) => void): WebCapture | undefined;
  /** The capture this client started for a request (node request, or the Web Request given to startWeb). */
  captureOf(req: unknown): Capture | undefined;
  /** Run `fn` in the capture's request context (reportError, outgoing parent_id); plainly without one. */
  run<T>(capture: Capture | undefined, fn: () => T): T;
  /** Attach an error to the capture's message (once); nothing without a capture. Never throws. */
  recordError(capture: Capture | undefined, error: unknown): void;
  /** Run `fn`; a throw is counted as a failed capture and never reaches the app. */
  guard(fn: () => void): void;
  /** The client's bounded flush. Never rejects. */
  flush(timeoutMs?: number): Promise<boolean>;
}

const kits = new WeakMap<CaptureSink, AdapterKit>();

/**
 * The kit of a client (one per client: its middleware and error handler share it). Throws
 * APIToolkitConfigError (`ERR_INVALID_CLIENT`) when `client` is not an APIToolkit, at setup only.
 */
export function adapterKit(client: unknown): AdapterKit {
  const sink = sinkOf(client);
  let kit = kits.get(sink);
  if (!kit) kits.set(sink, (kit = createKit(sink)));
  return kit;
}

function createKit(sink: CaptureSink): AdapterKit {
  const captures = new WeakMap<object, Capture>();
  /** A capture whose setup failed is counted once (capture_failed) and never handed over as well. */
  const abandon = (c: Capture | undefined, err: unknown): void => {
    try {
      c?.discard();
    } catch {
      /* counted below all the same */
    }
    sink.captureFailed(err);
  };
  return {
    sink,
    startNode(req, res, sdkType, rawUrl, setup) {
      let c: NodeCapture | undefined;
      try {
        c = startNodeCapture(sink, req, res, sdkType, rawUrl);
        if (!c) return undefined;
        setup?.(c);
        return c;
      } catch (err) {
        abandon(c, err);
        return undefined;
      }
    },
    startWeb(request, sdkType, options, setup) {
      let c: WebCapture | undefined;
      try {
        c = startWebCapture(sink, request, sdkType, options);
        if (!c) return undefined;
        setup?.(c);
        captures.set(request, c);
        return c;
      } catch (err) {
        if (!c && options?.rethrow?.(err)) throw err;
        abandon(c, err);
        return undefined;
      }
    },
    startNodeWith(req, res, sdkType, rawUrl, readers, source) {
      let c: NodeCapture | undefined;
      try {
        c = startNodeCapture(sink, req, res, sdkType, rawUrl, readers, source);
        if (c && readers.start) readers.start(source);
        return c;
      } catch (err) {
        abandon(c, err);
        return undefined;
      }
    },
    captureOf(req) {
      if (req === null || typeof req !== "object") return undefined;
      const node = nodeCaptureOf(req, sink);
      return node ?? captures.get(req);
    },
    run(capture, fn) {
      return capture ? runInRequest(capture.ctx, fn) : fn();
    },
    recordError(capture, error) {
      if (capture) recordError(capture.exchange.errors, error);
    },
    guard(fn) {
      try {
        fn();
      } catch (err) {
        sink.captureFailed(err);
      }
    },
    flush(timeoutMs) {
      return sink.flush(timeoutMs);
    },
  };
}

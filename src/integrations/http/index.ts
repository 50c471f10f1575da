import type { IncomingMessage, ServerResponse } from "node:http";
import { sinkOf } from "../../capture/sink.js";
import { startNodeCapture, type NodeCapture } from "../../capture/node-http.js";
import { runInRequest } from "../../capture/context.js";
import { recordError } from "../../capture/errors.js";

/** A node:http / node:https request listener, sync or async. */
export type RequestListener<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse> = (
  req: Req,
  res: Res,
) => unknown;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/**
 * Wrap a plain node:http / node:https request listener so every exchange is captured (params,
 * bodies, timing, errors) and handed to the client, sent with sdk_type `JsExpress`.
 *
 * There is no router, so `url_path` is left out of the message (the server groups such requests by
 * their raw path) and `path_params` is `{}`.
 *
 * Errors: a synchronous throw is recorded and rethrown unchanged. When the handler returns a
 * promise, the wrapper returns a promise that settles the same way (same value, same rejection
 * reason) after recording a rejection. So an async handler's rejection still surfaces exactly as
 * before: as an unhandled rejection when nothing handles it (the `promise` argument of
 * `unhandledRejection` is then the wrapper's promise, the `reason` is the handler's), and through
 * the server's `captureRejections` handling (a 500) when that is enabled.
 *
 * @example
 * const server = http.createServer(wrapHandler(apitoolkit, async (req, res) => {
 *   res.setHeader("content-type", "application/json");
 *   res.end(JSON.stringify({ ok: true }));
 * }));
 */
export function wrapHandler<Req extends IncomingMessage, Res extends ServerResponse>(
  client: object,
  handler: RequestListener<Req, Res>,
): (req: Req, res: Res) => void {
  const sink = sinkOf(client);
  return function apitoolkitHttpHandler(this: unknown, req: Req, res: Res) {
    let capture: NodeCapture | undefined;
    try {
      capture = startNodeCapture(sink, req, res, "JsExpress", req.url ?? "/");
    } catch (err) {
      sink.warnOnce("W_CAPTURE_FAILED", err);
      capture = undefined;
    }
    if (!capture) return handler.call(this, req, res) as void;
    const errors = capture.exchange.errors;
    return runInRequest(capture.ctx, () => {
      let result: unknown;
      try {
        result = handler.call(this, req, res);
      } catch (err) {
        recordError(errors, err);
        throw err;
      }
      if (!isThenable(result)) return result;
      return result.then(undefined, function apitoolkitRecordRejection(err: unknown) {
        recordError(errors, err);
        throw err;
      });
    }) as void;
  };
}

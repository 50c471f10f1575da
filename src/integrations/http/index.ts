import type { IncomingMessage, ServerResponse } from "node:http";
import { adapterKit } from "../../capture/kit.js";
import type { APIToolkit } from "../../client.js";

/** A node:http / node:https request listener, sync or async, returning `R`. */
export type RequestListener<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse = ServerResponse, R = unknown> = (
  req: Req,
  res: Res,
) => R;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/**
 * Wrap a plain node:http / node:https request listener so every exchange is captured (params,
 * bodies, timing, errors) and handed to the client, sent with sdk_type `JsExpress`. The wrapper
 * returns what the handler returns (typed as the handler's return type).
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
export function wrapHandler<Req extends IncomingMessage, Res extends ServerResponse, R>(
  client: APIToolkit,
  handler: RequestListener<Req, Res, R>,
): RequestListener<Req, Res, R> {
  const kit = adapterKit(client);
  return function apitoolkitHttpHandler(this: unknown, req: Req, res: Res): R {
    const capture = kit.startNode(req, res, "JsExpress", req.url ?? "/");
    if (!capture) return handler.call(this, req, res);
    return kit.run(capture, () => {
      let result: R;
      try {
        result = handler.call(this, req, res);
      } catch (err) {
        kit.recordError(capture, err);
        throw err;
      }
      if (!isThenable(result)) return result;
      // Same kind of thenable, settling the same way: R stays honest.
      return result.then(undefined, function apitoolkitRecordRejection(err: unknown) {
        kit.recordError(capture, err);
        throw err;
      }) as R;
    });
  };
}

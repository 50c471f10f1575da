/**
 * Pages Router API routes (`pages/api/*`): captured like any node:http handler, through the
 * adapter kit; the route is the page Next matched.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { adapterKit } from "../../capture/kit.js";
import type { RouteMatch } from "../../capture/routes/params.js";
import { pathOf, queryParams } from "../../capture/url.js";
import type { WithAPIToolkitOptions } from "./app.js";
import { deferred, keepAlive, within } from "./flush.js";
import { pagesMatchOf } from "./internals.js";
import { fileRouteParams, fromFileRoute, fromParams, paramStrings, type NextParams } from "./route.js";
import type { APIToolkit } from "../../client.js";

type PagesRequest = IncomingMessage & { query?: NextParams; body?: unknown };

/** Template and params of a pages API request. */
function pagesRoute(url: string, query: NextParams, page: string | undefined, matched: NextParams | undefined): RouteMatch {
  const params: NextParams = {};
  if (page !== undefined) {
    for (const name of fileRouteParams(page)) params[name] = matched?.[name] ?? query[name];
    return { template: fromFileRoute(page), params: paramStrings(params) };
  }
  // Next did not say: it merges the params into req.query, so those the query string lacks are params.
  const search = queryParams(url);
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && String(search[k] ?? "") !== String(v)) params[k] = v;
  }
  return { template: fromParams(pathOf(url), params), params: paramStrings(params) };
}

/** The wrapped handler behind `withAPIToolkitPages` (see there). */
export function wrapPagesHandler<Req extends IncomingMessage, Res extends ServerResponse>(
  client: APIToolkit,
  handler: (req: Req, res: Res) => unknown,
  options: WithAPIToolkitOptions,
): (req: Req, res: Res) => Promise<void> {
  const kit = adapterKit(client);
  return async function apitoolkitNextPagesRoute(req, res) {
    const r = req as PagesRequest;
    const url = req.url ?? "/";
    const matched = pagesMatchOf(req);
    const finished = deferred();
    // Next drops the query keys named like a route param from req.url: the URL as received has them.
    const capture = kit.startNode(req, res, "JsNext", matched.rawUrl ?? url, (c) => {
      c.parsedBody = () => r.body;
      c.route = () => pagesRoute(url, r.query ?? {}, options.route ?? matched.page, matched.params);
      c.beforeFinish = finished.resolve;
    });
    if (!capture) return void (await handler(req, res));
    const ms = kit.sink.config.flushTimeoutMs;
    const publish = () => within(finished.promise, ms).then(() => kit.flush(ms));
    try {
      await kit.run(capture, () => handler(req, res));
    } catch (err) {
      kit.recordError(capture, err);
      if (options.flush !== false) keepAlive(publish);
      throw err;
    }
    if (options.flush !== false) await publish();
  };
}

/** Route parameters as the wire wants them: name -> string. */

/** The matched route of a request: its template (`/users/:id`) and its parameters. */
export interface RouteMatch {
  template: string;
  params: Record<string, string>;
}

/**
 * What an adapter reads when the response finishes: the route that answered, `""` when the router
 * matched none (a 404), `undefined` when the framework cannot tell (no router to observe).
 */
export type RouteRead = RouteMatch | "" | undefined;

/** Params of any router as strings: `undefined` values left out, arrays (catch-alls, wildcards) joined with "/". */
export function stringParams(p: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!p || typeof p !== "object") return out;
  for (const k of Object.keys(p)) {
    const v = (p as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join("/") : String(v);
  }
  return out;
}

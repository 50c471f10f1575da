/**
 * Route templates for Next.js: file-system routes (`/users/[id]`) in the wire's syntax
 * (`/users/:id`; catch-alls `[...slug]` and `[[...slug]]` as `:slug*`), or, where neither the app
 * nor Next tells the route, derived from the concrete path and the params Next passed.
 */

export type NextParams = Record<string, string | string[] | undefined>;

/** `/(shop)/users/[id]/[...rest]` -> `/users/:id/:rest*` (route groups and @slots dropped). */
export function fromFileRoute(route: string): string {
  const parts = route.split("/").filter((s) => s && !(s.startsWith("(") && s.endsWith(")")) && !s.startsWith("@"));
  const out = parts.map((s) => {
    const m = /^\[\[?(\.\.\.)?([^\]]+)\]\]?$/.exec(s);
    return m ? `:${m[2]}${m[1] ? "*" : ""}` : s;
  });
  return "/" + out.join("/");
}

/** The param names of a file-system route: `/shops/[shopId]/[...rest]` -> `["shopId", "rest"]`. */
export function fileRouteParams(route: string): string[] {
  const names: string[] = [];
  for (const s of route.split("/")) {
    const m = /^\[\[?(?:\.\.\.)?([^\]]+)\]\]?$/.exec(s);
    if (m) names.push(m[1]!);
  }
  return names;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * `/docs/a/b` with `{ slug: ["a", "b"] }` -> `/docs/:slug*`; `/users/42` with `{ id: "42" }` ->
 * `/users/:id`. Params are matched in order, each to the first unused segment(s) equal to its value.
 */
export function fromParams(pathname: string, params: NextParams): string {
  const segs = pathname.split("/");
  const decoded = segs.map(decode);
  let from = 1;
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const want = Array.isArray(value) ? value.map(String) : [String(value)];
    if (want.length === 0) continue;
    for (let i = from; i + want.length <= segs.length; i++) {
      if (want.every((v, j) => decoded[i + j] === v)) {
        segs.splice(i, want.length, Array.isArray(value) ? `:${name}*` : `:${name}`);
        decoded.splice(i, want.length, "\0");
        from = i + 1;
        break;
      }
    }
  }
  return segs.join("/") || "/";
}

/** Params as the wire wants them: name -> string (catch-all segments joined with "/"). */
export function paramStrings(params: NextParams | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (params) for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join("/") : String(v);
  return out;
}

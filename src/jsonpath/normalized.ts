/**
 * Normalized paths (RFC 9535 §2.7): `$` followed by `['name']` / `[index]` segments.
 *
 * Locations are kept as a linked list of keys while walking (cheap to extend, shared between
 * siblings) and only turned into strings for the nodes that are reported.
 */

/** One step of a location: the key of a node in its parent, linked to the parent's location. */
export interface PathLink {
  readonly parent: PathLink | null;
  readonly key: string | number;
}

/**
 * Quote a member name the way RFC 9535 §2.7 normalized paths require: single quotes, `\'` and
 * `\\` escaped, `\b \f \n \r \t` short escapes, other control characters as lowercase `\u00xx`.
 * (Lone surrogates, which a normalized path cannot express, come out as `\udxxx`, like json-p3.)
 */
export function canonicalName(name: string): string {
  const json = JSON.stringify(name);
  // JSON.stringify already produces the RFC escapes except for the quotes: in its output a `"`
  // is always preceded by the backslash escaping it, so `\"` -> `"` is unambiguous.
  const body = json.slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'");
  return `'${body}'`;
}

/** Format one key as a normalized-path segment. */
function segment(key: string | number): string {
  return typeof key === "number" ? `[${key}]` : `[${canonicalName(key)}]`;
}

/** Format a list of keys (root first) as a normalized path. */
export function normalizedPath(keys: readonly (string | number)[]): string {
  let out = "$";
  for (const key of keys) out += segment(key);
  return out;
}

/** Format a linked location (leaf last) as a normalized path, without recursion. */
export function normalizedPathOf(link: PathLink | null): string {
  const keys: (string | number)[] = [];
  for (let at = link; at !== null; at = at.parent) keys.push(at.key);
  keys.reverse();
  return normalizedPath(keys);
}

/**
 * JSONPath (RFC 9535) body redaction.
 *
 * Paths are parsed and validated once, at construction, by json-p3, then lowered into a small
 * automaton so that all configured paths are evaluated in a single non-recursive pass over a
 * document (see `jsonpath-walk.ts`). Filters are compiled natively when simple (`jsonpath-filter.ts`)
 * and evaluated by json-p3 otherwise.
 *
 * Depth cap (fail closed): containers nested {@link MAX_DEPTH} levels deep or deeper are never
 * descended into; such a container whose children would still have to be checked by some path is
 * replaced wholesale by the marker (and reported by `locations()`).
 */
import { JSONPathEnvironment, type JSONPathQuery } from "json-p3";
import { APIToolkitConfigError } from "../registry/codes.js";
import { createEngine } from "./engine.js";
import type { CompiledPaths } from "./types.js";

export type { CompiledPaths } from "./types.js";

export { MAX_DEPTH } from "./walk.js";


/**
 * json-p3's limit for `..` when it evaluates something itself (filters with functions or
 * non-singular queries, e.g. `count(@..x)`). Its default is 50; json-p3's descent is recursive and
 * quadratic in depth, so the limit stays moderate. Reaching it makes redaction fail closed.
 */
export const JSONP3_RECURSION_LIMIT = 256;

const environment = new JSONPathEnvironment({ maxRecursionDepth: JSONP3_RECURSION_LIMIT });

/**
 * Parse and validate every path with json-p3 and compile them into one matcher.
 *
 * @param paths - RFC 9535 JSONPath queries, e.g. `$.password`, `$..cvv`, `$.items[*].secret`.
 * @throws {@link APIToolkitConfigError} with code `ERR_INVALID_JSONPATH` naming the offending path
 * and the reason, when a path is not a valid RFC 9535 query.
 */
export function compilePaths(paths: readonly string[]): CompiledPaths {
  if (!Array.isArray(paths)) {
    throw new APIToolkitConfigError("ERR_INVALID_JSONPATH", "the JSONPath list must be an array of strings");
  }
  return createEngine(paths.map((path, i) => parsePath(path, i)));
}

function parsePath(path: unknown, index: number): JSONPathQuery {
  if (typeof path !== "string") {
    throw invalid(index, String(path), `expected a string, got ${path === null ? "null" : typeof path}`);
  }
  try {
    return environment.compile(path);
  } catch (error) {
    throw invalid(index, path, error instanceof Error ? error.message : String(error));
  }
}

function invalid(index: number, path: string, reason: string): APIToolkitConfigError {
  return new APIToolkitConfigError("ERR_INVALID_JSONPATH", `invalid JSONPath '${path}' (index ${index}): ${reason}`);
}

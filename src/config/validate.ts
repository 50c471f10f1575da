/** The option validators: each throws APIToolkitConfigError naming the option (at construction only). */
import { APIToolkitConfigError } from "../registry/codes.js";
import { compilePaths, type CompiledPaths } from "../jsonpath/index.js";

/** Throw the construction-time error for an invalid option. */
export function fail(message: string): never {
  throw new APIToolkitConfigError("ERR_INVALID_OPTION", message);
}

/** Validate an optional array of strings (missing: empty). */
export function stringList(name: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) fail(`${name} must be an array of strings`);
  return v as string[];
}

/** Validate an optional integer in [min, max] (missing: the default). */
export function int(name: string, v: unknown, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    fail(`${name} must be an integer between ${min} and ${max}, got ${String(v)}`);
  }
  return v;
}

/** Validate an optional boolean (missing: the default). */
export function bool(name: string, v: unknown, def: boolean): boolean {
  if (v === undefined) return def;
  if (typeof v !== "boolean") fail(`${name} must be a boolean`);
  return v;
}

/** Compile JSONPaths, naming the option they came from in the error. */
export function compileNamed(name: string, paths: string[]): CompiledPaths {
  // compilePaths throws ERR_INVALID_JSONPATH naming the path; say which option it came from too.
  try {
    return compilePaths(paths);
  } catch (err) {
    if (err instanceof APIToolkitConfigError) {
      throw new APIToolkitConfigError(err.code, `${name}: ${err.message.replace(/^\[apitoolkit\] \w+: /, "")}`);
    }
    throw err;
  }
}

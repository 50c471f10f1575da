/**
 * The `service.name` of OTLP spans, resolved once at construction: the `serviceName` option, else
 * what the environment says (`OTEL_SERVICE_NAME`, else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`),
 * else the `name` of the app's package.json (the nearest one up from the working directory), else
 * the working directory's own name. Never OpenTelemetry's `unknown_service:node`, which names no
 * service at all. Never throws.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

/** How many directories up from the working directory a package.json is looked for. */
const MAX_LEVELS = 32;

/** The `name` of the nearest package.json up from `dir` that has one; undefined when none does. */
export function packageName(dir: string): string | undefined {
  try {
    let at = path.resolve(dir);
    for (let i = 0; i < MAX_LEVELS; i++) {
      let text: string | undefined;
      try {
        text = readFileSync(path.join(at, "package.json"), "utf8");
      } catch {
        text = undefined; // none here (or unreadable): look further up
      }
      if (text !== undefined) {
        try {
          const name = (JSON.parse(text) as { name?: unknown } | null)?.name;
          if (typeof name === "string" && name.trim() !== "") return name.trim();
        } catch {
          /* not JSON: look further up */
        }
      }
      const up = path.dirname(at);
      if (up === at) break;
      at = up;
    }
  } catch {
    /* never throw */
  }
  return undefined;
}

/** The service name (see the module comment). `fromEnv` is `service.name` as the OTEL_* variables set it. */
export function resolveServiceName(option: string | undefined, fromEnv: string | undefined, cwd: () => string = process.cwd): string {
  if (option !== undefined && option !== "") return option;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return fromEnv.trim();
  let dir = "";
  try {
    dir = cwd();
  } catch {
    /* a working directory that was removed */
  }
  if (dir !== "") {
    const name = packageName(dir);
    if (name !== undefined) return name;
    const base = path.basename(dir);
    if (base !== "") return base;
  }
  return "node-service";
}

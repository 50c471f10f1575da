/**
 * The `viewer` option, validated once at construction. Only the validation lives here: the viewer
 * itself (src/viewer/) is loaded with a dynamic import, and only when this option turns it on.
 */
import { fail, int } from "./validate.js";

/**
 * The local traffic viewer: a page served by the SDK that shows each exchange as it is published,
 * after redaction. `viewer: true` is `{ port: 0 }` (any free port).
 *
 * @example
 * const apitoolkit = new APIToolkit({ viewer: { port: 7070 } }); // no apiKey: exchanges go to the viewer only
 * console.log(await apitoolkit.viewerURL()); // http://127.0.0.1:7070/
 */
export interface ViewerOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1` (loopback only); any other value is logged once as a warning. */
  host?: string;
  /** Bytes of messages the viewer keeps for pages that open later (oldest dropped first, counted). Default 16777216 (16 MiB). */
  maxHistoryBytes?: number;
}

/** The viewer option after validation. */
export interface ResolvedViewer {
  port: number;
  host: string;
  /** True when `host` was given (then any Host header is served; on loopback only local names are). */
  hostGiven: boolean;
  maxHistoryBytes: number;
}

const KNOWN = new Set(["port", "host", "maxHistoryBytes"]);

/** Validate `viewer` (`true`, `false` or an object). Undefined: the viewer is off. */
export function resolveViewer(v: unknown): ResolvedViewer | undefined {
  if (v === undefined || v === false) return undefined;
  if (v !== true && (v === null || typeof v !== "object" || Array.isArray(v))) fail("viewer must be true, false or an object { port, host, maxHistoryBytes }");
  const o = (v === true ? {} : v) as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN.has(key)) fail(`unknown option "viewer.${key}"`);
  if (o.host !== undefined && (typeof o.host !== "string" || o.host.trim() === "")) fail("viewer.host must be a non-empty string");
  return {
    port: int("viewer.port", o.port, 0, 0, 65535),
    host: o.host === undefined ? "127.0.0.1" : (o.host as string).trim(),
    hostGiven: o.host !== undefined,
    maxHistoryBytes: int("viewer.maxHistoryBytes", o.maxHistoryBytes, 16 * 1024 * 1024, 64 * 1024, 2 ** 30),
  };
}

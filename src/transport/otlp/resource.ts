/**
 * `OTEL_RESOURCE_ATTRIBUTES` as the OpenTelemetry specification reads it (Resource SDK,
 * "Specifying resource information via an environment variable"): `key1=value1,key2=value2`, in
 * the W3C Baggage format without its `;` metadata, values percent-decoded, every value a string.
 * On any error (an entry without `=`, an empty key, a malformed escape) the whole variable is
 * discarded and the error reported, as the specification says, rather than keeping half of it.
 */

/** What the variable gave: its attributes, or none and why. */
export interface ParsedResourceAttributes {
  attributes: Record<string, string>;
  /** Set when the variable was discarded. */
  error?: string;
}

/** Parse `OTEL_RESOURCE_ATTRIBUTES` (undefined or blank: no attributes). Never throws. */
export function parseResourceAttributes(raw: string | undefined): ParsedResourceAttributes {
  const attributes: Record<string, string> = {};
  if (raw === undefined || raw.trim() === "") return { attributes };
  for (const part of raw.split(",")) {
    const entry = part.trim();
    if (entry === "") continue; // "a=1,,b=2" and a trailing comma: nothing there
    const eq = entry.indexOf("=");
    const rawKey = eq < 0 ? entry : entry.slice(0, eq).trim();
    if (eq <= 0 || rawKey === "") return discard(`"${entry.slice(0, 40)}" is not key=value`);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(rawKey);
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      return discard(`"${entry.slice(0, 40)}" holds a malformed percent escape`);
    }
    attributes[key] = value;
  }
  return { attributes };
}

function discard(why: string): ParsedResourceAttributes {
  return { attributes: {}, error: `OTEL_RESOURCE_ATTRIBUTES was ignored: ${why}` };
}

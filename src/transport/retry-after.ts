/** HTTP `Retry-After`, shared by the transports that speak HTTP (OTLP/HTTP, Pub/Sub REST). */

/** `Retry-After`: delay-seconds or an HTTP-date, as milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

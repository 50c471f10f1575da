/** Reading the URL of a request as it was sent: its path, its query, a safe percent-decode. */

/** The path of a raw URL (`/users/42?x=1#top` -> `/users/42`): everything before the first `?` or `#`. */
export function pathOf(rawUrl: string): string {
  for (let i = 0; i < rawUrl.length; i++) {
    const c = rawUrl.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return rawUrl.slice(0, i);
  }
  return rawUrl;
}

/** `decodeURIComponent`, or the text unchanged when it is not valid percent-encoding. */
export function safeDecode(s: string): string {
  if (s.indexOf("%") < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** name -> every value in order, from the query string of a raw URL (a fragment is not part of it). */
export function queryParams(rawUrl: string): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  const q = rawUrl.indexOf("?");
  if (q < 0) return out;
  const hash = rawUrl.indexOf("#", q);
  for (const [k, v] of new URLSearchParams(rawUrl.slice(q + 1, hash < 0 ? undefined : hash))) {
    (out[k] ??= []).push(v);
  }
  return out;
}

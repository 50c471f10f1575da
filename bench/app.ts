// What every benchmark app serves, whatever the framework (bench/frameworks.ts builds the apps):
// the SDK options of the SDK variants, the request and response bodies, the streamed chunks.
// Shared by the server child (bench/server.ts), the soak run and the micro-benchmarks.

/**
 * SDK redaction used by every SDK variant: one header rule and three body rules, the same rules
 * for request and response bodies (`$.password` hits POST /echo both ways, `$[*].secret` every
 * element of GET /items, `$..token` walks every body).
 */
export const BODY_RULES = ["$.password", "$[*].secret", "$..token"];
export const REDACTION = {
  redactHeaders: ["x-api-key"],
  redactRequestBody: BODY_RULES,
  redactResponseBody: BODY_RULES,
};

/** A JSON object of about `bytes` bytes with a password field (the 1 KB POST body). */
export function jsonObject(bytes: number): Record<string, unknown> {
  const o: Record<string, unknown> = { user: "ann", password: "hunter2", email: "ann@example.com", notes: [] as string[] };
  let i = 0;
  while (JSON.stringify(o).length < bytes) (o.notes as string[]).push(`note number ${i++} with some text`);
  return o;
}

/** A JSON array of about `bytes` bytes; each item has a `secret` ($[*].secret). */
export function jsonArray(bytes: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const item = { id: i, name: `item ${i}`, price: i * 1.25, secret: `s-${i}-${"x".repeat(8)}`, tags: ["a", "b"] };
    size += JSON.stringify(item).length + 1;
    out.push(item);
  }
  return out;
}

/** A nested body (tokens at several depths), for the micro-benchmarks only. */
export function nestedBody(): Record<string, unknown> {
  return {
    password: "p4ss",
    session: { token: "t-1", user: { id: 7, prefs: { token: "t-2", theme: "dark" } } },
    items: Array.from({ length: 12 }, (_, i) => ({ kind: i % 3 === 0 ? "secret" : "plain", value: `v${i}`, meta: { token: `t-item-${i}` } })),
  };
}

export const BODIES = {
  post1k: JSON.stringify(jsonObject(1024)),
  array20k: JSON.stringify(jsonArray(20 * 1024)),
  nested: JSON.stringify(nestedBody()),
};

/** GET /items answers this array as JSON, serialized per request by the framework (`res.json`,
 *  Fastify's reply, Koa's body, Hono's `c.json`) as an app builds its answer: 20 KB, the bytes of
 *  BODIES.array20k. (Until 2026-12-07 a prebuilt buffer was sent, which made bare's request ~4x
 *  cheaper than an app's and the ratios of this route incomparable with the harness.) */
export const ITEMS_20K: unknown = JSON.parse(BODIES.array20k);
/** GET /stream writes this chunk 16 times: 1 MiB in 64 KiB writes. */
export const STREAM_CHUNK = Buffer.alloc(64 * 1024, "streamed-bytes;");
export const STREAM_CHUNKS = 16;

/** The chunks of GET /stream, as a generator (for `Readable.from`). */
export function* streamChunks(): Generator<Buffer> {
  for (let i = 0; i < STREAM_CHUNKS; i++) yield STREAM_CHUNK;
}

/** GET /outgoing: fetch the local upstream (bench/upstream.ts) once and return its JSON text. */
export async function callUpstream(): Promise<string> {
  try {
    const res = await fetch(UPSTREAM_URL);
    return await res.text();
  } catch (err) {
    // The load generator counts the 500s; say once why (with the cause fetch hides).
    if (!upstreamFailed) process.stderr.write(`bench app: GET /outgoing: ${String(err)} (cause: ${String((err as { cause?: unknown }).cause)})\n`);
    upstreamFailed = true;
    throw err;
  }
}
let upstreamFailed = false;
const UPSTREAM_URL = process.env.BENCH_UPSTREAM ?? "http://127.0.0.1:9/unset";

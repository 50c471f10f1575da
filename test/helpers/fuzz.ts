// What the fuzz suites share: the redaction rules and body limit they configure, secrets planted at
// those rules' paths, hostile query strings, and a deep equality loose enough for structuredClone.
import { deepEqual as nodeLooseDeepEqual } from "node:assert";
import fc from "fast-check";

/** The body redaction rules (request and response) the fuzz suites configure. */
export const PATHS = ["$.password", "$..secret", "$.items[*].token"];
/** The maxBodyBytes the fuzz suites configure. */
export const MAX_BODY = 4096;

/** Typed arrays as their bytes (Node 24's loose compare finds Float32Array [NaN] unequal to itself). */
function bytesOfViews(v: unknown, seen = new Map<object, unknown>()): unknown {
  if (ArrayBuffer.isView(v)) return `bytes:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
  if (v === null || typeof v !== "object") return v;
  if (seen.has(v)) return seen.get(v);
  if (v instanceof Map || v instanceof Set || v instanceof Date || v instanceof RegExp) return v;
  const out: Record<string, unknown> | unknown[] = Array.isArray(v) ? [] : {};
  seen.set(v, out);
  for (const k of Object.keys(v)) (out as Record<string, unknown>)[k] = bytesOfViews((v as Record<string, unknown>)[k], seen);
  return out;
}

/** Loose (structuredClone drops null prototypes) deep equality that compares typed arrays by bytes. */
export function looseDeepEqual(actual: unknown, expected: unknown, message: string): void {
  nodeLooseDeepEqual(bytesOfViews(actual), bytesOfViews(expected), message);
}

/** A secret marker nobody else would produce. */
export const secretArb = fc.uuid().map((u) => `S3CR3T-${u.slice(0, 13)}`);

/** A JSON document with secrets planted at the configured paths. Returns the doc and its secrets. */
export const plantedDoc = fc
  .tuple(
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
    secretArb,
    secretArb,
    secretArb,
    fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([rest, s1, s2, s3, path, hostileKeys]) => {
    const doc: Record<string, unknown> = { ...rest };
    if (hostileKeys) {
      Object.defineProperty(doc, "__proto__", { value: { password: "proto-pw", polluted: true }, enumerable: true, configurable: true, writable: true });
      doc["constructor"] = { prototype: { polluted: true } };
    }
    doc.password = s1;
    let cur = doc;
    for (const key of path) cur = (cur[`n_${key}`] = {}) as Record<string, unknown>;
    cur.secret = s2;
    doc.items = [{ token: s3 }, { token: s3, keep: 1 }];
    return { doc, secrets: [s1, s2, s3] };
  });

/** Query strings with empty keys, bad percent-escapes, lone surrogates, `+`, `&&` and `==`. */
export const queryArb = fc.array(
  fc.tuple(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("%zz", "%", "%ff%fe", "%ED%A0%80", "a+b", "&&", "=="))),
  { maxLength: 6 },
).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${/%|\+|&|=/.test(v) ? v.replace(/[^\x21-\x7e]/g, encodeURIComponent).replace(/#/g, "%23") : encodeURIComponent(v)}`).join("&"));

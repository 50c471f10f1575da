// Generated secrets of every kind the value detectors know (and one a user RegExp knows), and a
// check that none of them appears in what was published, however it was encoded there.
import assert from "node:assert/strict";
import fc from "fast-check";

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function chars(alphabet: string, min: number, max: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(""));
}

function b64url(s: string): string {
  return Buffer.from(s).toString("base64url");
}

/** The Luhn check digit that makes `digits` + it valid. */
export function luhnDigit(digits: string): string {
  let sum = 0;
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = Number(digits[i]);
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function luhnValid(digits: string): boolean {
  return luhnDigit(digits.slice(0, -1)) === digits.slice(-1);
}

/** A Luhn-valid number of 13..19 digits (not all zeros), plain or in groups of four (spaces or dashes). */
export const cardArb = fc
  .tuple(fc.integer({ min: 12, max: 18 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 18, maxLength: 18 }), fc.constantFrom("", " ", "-"))
  .map(([n, ds, sep]) => {
    const body = ds.slice(0, n).join("").replace(/^0/, "4");
    const digits = body + luhnDigit(body);
    return sep === "" ? digits : digits.replace(/(\d{4})(?=\d)/g, `$1${sep}`);
  });

/** A JWS: base64url header (a JSON object), payload and signature. */
export const jwtArb = fc
  .tuple(fc.constantFrom("HS256", "RS256", "ES256", "none"), fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string({ maxLength: 12 }), fc.integer())), chars(B64URL, 16, 86))
  .map(([alg, claims, sig]) => `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify({ sub: "u", ...claims }))}.${sig}`);

export const bearerArb = fc.tuple(fc.constantFrom("Bearer", "bearer", "BEARER"), chars(B64URL + "._~+/", 16, 48)).map(([scheme, token]) => `${scheme} ${token}`);

export const awsKeyArb = fc.tuple(fc.constantFrom("AKIA", "ASIA"), chars(UPPER_DIGITS, 16, 16)).map(([p, rest]) => p + rest);

export const privateKeyArb = fc
  .tuple(fc.constantFrom("", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "), fc.array(chars(B64URL.replace("-", "+").replace("_", "/"), 64, 64), { minLength: 1, maxLength: 6 }))
  .map(([kind, lines]) => `-----BEGIN ${kind}PRIVATE KEY-----\n${lines.join("\n")}\n-----END ${kind}PRIVATE KEY-----`);

export const emailArb = fc
  .tuple(chars("abcdefghijklmnopqrstuvwxyz0123456789", 1, 10), fc.constantFrom("", ".", "+", "_"), chars("abcdefghijklmnopqrstuvwxyz0123456789", 1, 8), chars("abcdefghijklmnopqrstuvwxyz", 2, 10), fc.constantFrom("com", "io", "co.uk", "de", "example"))
  .map(([a, sep, b, domain, tld]) => `${a}${sep}${b}@${domain}.${tld}`);

/** An IBAN with correct check digits (any country code, a BBAN of 11..30 letters and digits), plain or in groups of four. */
export const ibanArb = fc
  .tuple(chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 2, 2), chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 11, 30), fc.boolean())
  .map(([country, bban, spaced]) => {
    const num = (s: string) => [...s].map((c) => (c >= "A" ? String(c.charCodeAt(0) - 55) : c)).join("");
    let r = 0;
    for (const d of num(bban + country + "00")) r = (r * 10 + Number(d)) % 97;
    const iban = country + String(98 - r).padStart(2, "0") + bban;
    return spaced ? iban.replace(/(.{4})(?=.)/g, "$1 ") : iban;
  });

/** What the user's RegExp in these tests (`/acct-\d{6}/`) finds. */
export const accountArb = fc.integer({ min: 0, max: 999_999 }).map((n) => `acct-${String(n).padStart(6, "0")}`);

/** Every detector, on: the option value the tests configure. */
export const ALL_DETECTORS = ["creditCard", "jwt", "bearerToken", "awsAccessKey", "privateKey", "email", "iban", /acct-\d{6}/] as const;

/** A secret of one kind, with the kind's name. */
export const secretArb: fc.Arbitrary<{ kind: string; secret: string }> = fc.oneof(
  cardArb.map((secret) => ({ kind: "creditCard", secret })),
  jwtArb.map((secret) => ({ kind: "jwt", secret })),
  bearerArb.map((secret) => ({ kind: "bearerToken", secret })),
  awsKeyArb.map((secret) => ({ kind: "awsAccessKey", secret })),
  privateKeyArb.map((secret) => ({ kind: "privateKey", secret })),
  emailArb.map((secret) => ({ kind: "email", secret })),
  ibanArb.map((secret) => ({ kind: "iban", secret })),
  accountArb.map((secret) => ({ kind: "acct", secret })),
);

/** Words to put around a secret in free text (never glued to it: a separator on each side). */
export const wordsArb = fc.array(fc.constantFrom("note", "the", "card", "is", "value:", "id", "(", ")", ",", "total 12.50", "ok"), { maxLength: 4 }).map((w) => w.join(" "));

/** The part of a secret that must not be published: a PEM's key lines, a bearer's token, the whole of the others. */
export function essence(kind: string, secret: string): string[] {
  if (kind === "privateKey") return secret.split("\n").slice(1, -1);
  if (kind === "bearerToken") return [secret.slice(secret.indexOf(" ") + 1)];
  if (kind === "creditCard" || kind === "iban") return [secret, secret.replace(/[ -]/g, "")];
  return [secret];
}

function strings(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
}

function percentDecoded(s: string): string {
  const spaced = s.replace(/\+/g, " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** Every text of the published messages (keys and values), the bodies base64-decoded, each also percent-decoded. */
export function publishedTexts(messages: readonly unknown[]): string {
  const parts: string[] = [];
  for (const m of messages) {
    strings(m, parts);
    for (const key of ["request_body", "response_body"]) {
      const v = (m as Record<string, unknown>)[key];
      if (typeof v !== "string") continue;
      const body = Buffer.from(v, "base64").toString("utf8");
      parts.push(body);
      try {
        strings(JSON.parse(body), parts); // escapes (\u0040, \n) decoded
      } catch {
        /* not JSON */
      }
    }
  }
  return parts.map((p) => `${p}\n${percentDecoded(p)}`).join("\n");
}

/** None of `secrets` (their essence) appears in `messages`, whatever the encoding. */
export function assertNotPublished(messages: readonly unknown[], secrets: ReadonlyArray<{ kind: string; secret: string }>): void {
  const text = publishedTexts(messages);
  for (const { kind, secret } of secrets) {
    for (const part of essence(kind, secret)) {
      assert.ok(!text.includes(part), `a ${kind} was published: ${part.slice(0, 60)}`);
    }
  }
}

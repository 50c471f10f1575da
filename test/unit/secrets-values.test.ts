// The value detectors on their own: each kind found wherever it sits in a text, the defaults
// leaving ordinary data alone (a false-positive corpus), user RegExps whatever their flags, the
// option validated at construction, and every scan linear on hostile input.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import "../helpers/fast-check-seed.js";
import { APIToolkit, APIToolkitConfigError } from "../../src/index.js";
import { compileValues, DEFAULT_VALUE_DETECTORS, VALUE_DETECTORS } from "../../src/redact/values.js";
import { redactPathSegments, redactUrl, redactValue } from "../../src/redact/query.js";
import { REDACTED } from "../../src/registry/marker.js";
import { quietLogger } from "../helpers/logger.js";
import { ALL_DETECTORS, cardArb, essence, luhnValid, secretArb, wordsArb } from "../helpers/secrets.js";

const all = compileValues([...ALL_DETECTORS]);
const defaults = compileValues(undefined);
/** The defaults and the card detector: the corpus must pass it too (it is the one opt-in that looks at digits). */
const withCards = compileValues([...DEFAULT_VALUE_DETECTORS, "creditCard"]);

describe("each detector", () => {
  const cases: Array<[string, string, string]> = [
    ["creditCard", "card 4111 1111 1111 1111 exp 12/28", `card ${REDACTED} exp 12/28`],
    ["creditCard", "4111-1111-1111-1111", REDACTED],
    ["creditCard", "amex 3782 822463 10005.", `amex ${REDACTED}.`],
    ["creditCard", "4111111111111111", REDACTED],
    ["creditCard", "paid with 4111 1111 1111 1111 12 28", `paid with ${REDACTED} 12 28`],
    ["jwt", "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl;", `t=${REDACTED};`],
    ["bearerToken", "Authorization: Bearer abc.DEF-123_456~x/y+z==", `Authorization: ${REDACTED}`],
    ["awsAccessKey", "key AKIAIOSFODNN7EXAMPLE in the error", `key ${REDACTED} in the error`],
    ["privateKey", "x\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\ny", `x\n${REDACTED}\ny`],
    ["privateKey", "cut -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg", `cut ${REDACTED}`],
    ["email", "write to ann.lee+api@mail.example.com.", `write to ${REDACTED}.`],
    ["iban", "pay to DE89 3704 0044 0532 0130 00 today", `pay to ${REDACTED} today`],
    ["iban", "GB82WEST12345698765432", REDACTED],
  ];
  for (const [kind, input, output] of cases) {
    test(`${kind}: ${JSON.stringify(input).slice(0, 50)}`, () => {
      assert.equal(compileValues([kind]).redact(input), output);
      assert.equal(all.redact(input), output, "the same with every detector on");
    });
  }

  test("near misses are left alone", () => {
    for (const text of [
      "4111 1111 1111 1112", // Luhn fails
      "41111111111111111111", // 20 digits: a number, not a card
      "4111111111111111abc", // part of a word
      "AKIAIOSFODNN7EXAMPL", // 15 characters after the prefix
      "Bearer short", // token under 8 characters
      "eyJhbGciOiJIUzI1NiJ9", // a base64 JSON object, no dots
      "ann@localhost", "@mention", // no domain with a TLD, no local part
      "DE89 3704 0044 0532 0130 01", // IBAN check fails
      "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
    ]) assert.equal(all.redact(text), undefined, text);
  });

  test("a generated secret of each kind is found anywhere in free text", () => {
    fc.assert(fc.property(secretArb, wordsArb, ({ kind, secret }, after) => {
      const text = `${after} ${secret} ${after}`;
      const out = all.redact(text) ?? text;
      for (const part of essence(kind, secret)) assert.ok(!out.includes(part), `${kind} left in ${JSON.stringify(out)}`);
      assert.ok(out.includes(REDACTED));
      assert.equal(all.mayMatch(text), true, "mayMatch is true wherever redact finds something");
      // embedded in JSON text as one string value: the whole text's scan stands for the value's
      assert.equal(all.mayMatch(JSON.stringify({ a: [1, { b: text }] })), true);
    }), { numRuns: 400 });
  });

  test("mayMatch is false only where redact finds nothing", () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.stringMatching(/^[0-9 -]{10,30}$/), fc.stringMatching(/^[A-Z0-9 .@a-z-]{0,40}$/)), (text) => {
      if (!all.mayMatch(text)) assert.equal(all.redact(text), undefined);
      if (!defaults.mayMatch(text)) assert.equal(defaults.redact(text), undefined);
    }), { numRuns: 2000 });
  });
});

describe("the defaults (and the card detector) leave ordinary data alone (false-positive corpus)", () => {
  test("the default set is the documented one", () => {
    assert.deepEqual([...DEFAULT_VALUE_DETECTORS], ["jwt", "bearerToken", "awsAccessKey", "privateKey"]);
    assert.deepEqual(defaults.rules, DEFAULT_VALUE_DETECTORS.map((d) => `value:${d}`));
  });

  const corpus = [
    // UUIDs (the nil UUID too, and all-digit groups)
    "123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000", "12345678-1234-1234-1234-123456789012",
    "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    // ISO timestamps and dates
    "2024-06-11T10:00:00.123Z", "2024-06-11T10:00:00+02:00", "2024-06-11 10:00:00", "2024-06-11", "20240611T100000Z",
    // order numbers, invoice numbers, SKUs
    "ORD-2024-000123", "#100234", "SO-000042-A", "INV/2024/0001", "order 1000234", "PO-4111-1111",
    // prices and amounts
    "$1,299.00", "19.99", "€ 1.299,00", "1299.00 EUR", "total: 4,111,111.11", "0.000000001",
    // hex hashes and ids
    "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "4bf92f3577b34da6a3ce929d0e0e4736",
    "5D41402ABC4B2A76B9719D911017C592",
    // phone-like digits (failing Luhn)
    "+1 415 555 2671", "+44 20 7946 0958", "(415) 555-2671", "+86 138 0013 8001", "0049 30 1234567 8",
    // versions, addresses, plain words
    "v1.24.3", "192.168.100.200", "::ffff:192.0.2.128", "the bearer of the news", "user@", "price@2x",
    "traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  ];
  for (const text of corpus) {
    test(JSON.stringify(text), () => {
      for (const v of [defaults, withCards]) {
        assert.equal(v.redact(text), undefined);
        assert.equal(v.redact(JSON.stringify({ v: text })), undefined);
      }
    });
  }

  test("random UUIDs, timestamps, hex hashes and Luhn-failing digit runs stay untouched", () => {
    // Phone numbers as they are written (E.164: at most 15 digits), whose digits fail the Luhn check.
    const phone = fc.oneof(
      fc.stringMatching(/^\+[1-9][0-9]{0,2} [0-9]{3} [0-9]{3} [0-9]{4}$/),
      fc.stringMatching(/^\([0-9]{3}\) [0-9]{3}-[0-9]{4}$/),
      fc.stringMatching(/^\+[1-9][0-9] [0-9]{2,3} [0-9]{4} [0-9]{4}$/),
      fc.stringMatching(/^00[1-9][0-9] [0-9]{2,4} [0-9]{5,8}$/),
      fc.stringMatching(/^[0-9]{10,15}$/),
    ).filter((s) => !luhnValid(s.replace(/\D/g, "")));
    fc.assert(fc.property(fc.oneof(
      fc.uuid(),
      fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.stringMatching(/^[0-9a-f]{32}$|^[0-9a-f]{40}$|^[0-9a-f]{64}$/),
      fc.stringMatching(/^[0-9A-F]{32}$/),
      fc.double({ min: 0, max: 1e9, noNaN: true }).map((n) => n.toFixed(2)),
      phone,
    ), (text) => {
      assert.equal(defaults.redact(text), undefined, text);
      assert.equal(withCards.redact(text), undefined, text);
    }), { numRuns: 2000 });
  });
});

describe("user RegExps", () => {
  test("/g and /y: every occurrence, on every call; the user's RegExp (and its lastIndex) is never touched", () => {
    for (const flags of ["", "g", "y", "gy", "gi", "m"]) {
      const re = new RegExp("acct-\\d{6}", flags);
      re.lastIndex = 3;
      const v = compileValues([re]);
      for (let i = 0; i < 3; i++) {
        assert.equal(v.redact("a acct-123456 b acct-654321"), `a ${REDACTED} b ${REDACTED}`, `flags ${flags}, call ${i}`);
        assert.equal(v.mayMatch("x acct-000001"), true);
      }
      assert.equal(re.lastIndex, 3, `flags ${flags}: lastIndex untouched`);
      assert.deepEqual(v.rules, [`value:/acct-\\d{6}/${flags.replace(/[gy]/g, "")}`]);
    }
  });
  test("an anchored RegExp sees each value alone (mayMatch cannot stand for it on a whole text)", () => {
    const v = compileValues([/^secret-\d+$/]);
    assert.equal(v.redact("secret-42"), REDACTED);
    assert.equal(v.redact("a secret-42"), undefined);
    assert.equal(v.mayMatch('{"a":"secret-42"}'), true);
  });
  test("an empty match redacts nothing and does not loop", () => {
    assert.equal(compileValues([/x*/]).redact("abc"), undefined);
    assert.equal(compileValues([/x*/]).redact("axxb"), `a${REDACTED}b`);
  });
});

describe("redactValues is validated at construction", () => {
  const make = (redactValues: unknown) => new APIToolkit({ logger: quietLogger, redactValues } as never);
  for (const bad of [["jwtt"], ["creditcard"], [42], [null], "jwt", {}, [{}], [["jwt"]]]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => make(bad), (err: unknown) => err instanceof APIToolkitConfigError && err.code === "ERR_INVALID_OPTION" && /redactValues/.test(err.message));
    });
  }
  test("accepts every built-in name and RegExps; [] turns them all off", async () => {
    for (const ok of [[...VALUE_DETECTORS], [], [/x/g], ["jwt", /acct-\d{6}/y]]) await make(ok).close(10);
    assert.equal(compileValues([]).size, 0);
    assert.equal(compileValues([]).mayMatch("4111 1111 1111 1111"), false);
  });
});

describe("every scan is linear, whatever the input", () => {
  const hostile = [
    "eyJ".repeat(30_000), "eyJabcdefgh.".repeat(8_000), "1 ".repeat(45_000), "1-".repeat(45_000) + "a",
    "4".repeat(90_000) + "x", "a@".repeat(45_000), "a".repeat(90_000) + "@", "@" + "a.".repeat(45_000),
    "-----BEGIN ".repeat(8_000), "-----BEGIN PRIVATE KEY-----".repeat(3_000), "bearer ".repeat(12_000),
    "AKIA".repeat(22_000), "DE89".repeat(22_000), "DE89 ".repeat(18_000), "A3T".repeat(30_000),
  ];
  for (const text of hostile) {
    test(`${JSON.stringify(text.slice(0, 16))}... (${text.length} chars)`, () => {
      const start = process.hrtime.bigint();
      all.redact(text);
      all.mayMatch(text);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      assert.ok(ms < 500, `${ms.toFixed(0)} ms`);
    });
  }
  test("a card next to its own digits is still found (windows of groups)", () => {
    fc.assert(fc.property(cardArb.filter((c) => c.includes(" ")), fc.integer({ min: 1, max: 99 }), (card, n) => {
      const out = all.redact(`${card} ${n}`) ?? "";
      assert.ok(!out.includes(card), out);
    }), { numRuns: 300 });
  });
});

describe("the README's detector table says what the detectors do", () => {
  const readme = readFileSync(path.join(import.meta.dirname, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Secrets by what they look like"), readme.indexOf("### What fired"));
  const rows = [...section.matchAll(/^\| [^|]+\| (?:e\.g\. )?`([^`]+)` \| (on|off) \| `([^`]+)` \| `([^`]+)` \|$/gm)];
  test("a row for every detector, and the defaults as the table says", () => {
    assert.equal(rows.length, VALUE_DETECTORS.length + 1);
    const on = rows.filter((r) => r[2] === "on").map((r) => r[1]);
    assert.deepEqual(on, [...DEFAULT_VALUE_DETECTORS]);
  });
  for (const [, name, , input, output] of rows) {
    test(`${name}: ${input}`, () => {
      const m = /^\/(.*)\/([a-z]*)$/.exec(name!);
      const detector = m ? new RegExp(m[1]!.replace(/\\\\/g, "\\"), m[2]) : name!;
      assert.equal(compileValues([detector]).redact(input!), output);
    });
  }
});

describe("mayMatchValues (the one scan that lets an exchange skip the detectors)", () => {
  // Whatever a value's redaction would find (as it is, percent-encoded with `+` or `%20` for
  // spaces, in a query, a path, a header), the probe of the values joined by "\n" says "may match".
  const encodings = fc.constantFrom<(s: string) => string>(
    (s) => s,
    (s) => encodeURIComponent(s),
    (s) => encodeURIComponent(s).replace(/%20/g, "+"),
    (s) => s.replace(/ /g, "%20"),
  );
  test("never false where a redaction of one of the values finds a secret", () => {
    fc.assert(fc.property(secretArb, wordsArb, wordsArb, encodings, fc.boolean(), ({ secret }, before, after, encode, badEscape) => {
      const value = encode(`${before} ${secret} ${after}`);
      const url = `/x/${value}?q=${value}`;
      const others = ['W/"b-Ai2R8hgEarLmHKwesT1qcY913ys"', "keep-alive", badEscape ? "100%zz" : "ok"];
      const found = redactValue(value, all) !== undefined || redactUrl(url, { values: all }) !== url || redactPathSegments(url, all) !== url;
      assert.ok(found, "the generator makes findable secrets");
      assert.equal(all.mayMatchValues([...others, url, value].join("\n")), true);
    }));
  });

  test("false for ordinary exchanges, quotes and backslashes included", () => {
    const probe = ["/health", "/health", "127.0.0.1:3000", "keep-alive", "wrk", 'W/"b-Ai2R8hgEarLmHKwesT1qcY913ys"',
      "application/json; charset=utf-8", "11", "C:\\path\\to", "/search?q=caf%C3%A9&page=2+3", "100%zz"].join("\n");
    assert.equal(defaults.mayMatchValues(probe), false);
    assert.equal(all.mayMatchValues(probe), false);
  });
});

// Secrets outside configured header names and body paths, as serializeExchange publishes them:
// query strings (raw_url and query_params), route parameters and path segments, header values,
// form fields in bracket notation, text bodies, error messages; incoming and outgoing exchanges.
// And what is counted (stats().redactions), what previewRedaction reports, and that with every
// new rule off the bytes are exactly what they were.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import qs from "qs";
import "../helpers/fast-check-seed.js";
import { APIToolkit } from "../../src/index.js";
import { resolveOptions, type APIToolkitOptions } from "../../src/config/options.js";
import { serializeExchange, stampProjectId } from "../../src/wire/serialize.js";
import { renderBody } from "../../src/redact/body.js";
import { redactFields } from "../../src/redact/form.js";
import { compilePaths } from "../../src/jsonpath/index.js";
import { normalizedPath } from "../../src/jsonpath/normalized.js";
import { queryParams } from "../../src/capture/url.js";
import type { CapturedBody, Exchange } from "../../src/capture/exchange.js";
import type { RuleSet } from "../../src/redact/rules.js";
import { assertWireBytes } from "../helpers/wire.js";
import { quietLogger } from "../helpers/logger.js";
import { ALL_DETECTORS, assertNotPublished, secretArb, wordsArb } from "../helpers/secrets.js";

const R = "[CLIENT_REDACTED]";
const RU = "%5BCLIENT_REDACTED%5D";

function captured(text: string | Buffer): CapturedBody {
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return { chunks: b.length ? [b] : [], keptBytes: b.length, totalBytes: b.length };
}

function exchange(over: Partial<Exchange> = {}): Exchange {
  return {
    sdkType: "JsExpress", msgId: randomUUID(), startEpochMs: Date.UTC(2026, 0, 1), durationNs: 1000, method: "GET", host: "api.example.com",
    rawUrl: "/", urlPath: "/", pathParams: {}, protoMajor: 1, protoMinor: 1, statusCode: 200,
    requestHeaders: [], responseHeaders: [], requestBody: captured(""), responseBody: captured(""), errors: [],
    ...over,
  };
}

type Msg = Record<string, unknown> & { raw_url: string; query_params: Record<string, string[]>; path_params: Record<string, string>; request_headers: Record<string, string[]>; response_headers: Record<string, string[]> };

function publish(ex: Exchange, options: APIToolkitOptions = {}, rules?: RuleSet): { msg: Msg; counts: Record<string, number> } {
  const cfg = resolveOptions({ apiKey: "k", logger: quietLogger, ...options });
  const counts: Record<string, number> = {};
  const bytes = serializeExchange(ex, cfg, rules ?? cfg.redaction, (rule, n) => void (counts[rule] = (counts[rule] ?? 0) + n));
  stampProjectId(bytes, "00000000-0000-4000-8000-000000000000");
  return { msg: assertWireBytes(bytes) as Msg, counts };
}


describe("query strings", () => {
  test("listed names (the defaults, case-insensitive) become the marker in query_params and, in place, in raw_url", () => {
    const rawUrl = "/files/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101%2Fus-east-1&X-Amz-Signature=abc123&page=2&API_KEY=k1&tag=a&tag=b";
    const { msg, counts } = publish(exchange({ rawUrl }));
    assert.equal(msg.raw_url, `/files/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${RU}&X-Amz-Signature=${RU}&page=2&API_KEY=${RU}&tag=a&tag=b`);
    assert.deepEqual(msg.query_params, { "X-Amz-Algorithm": ["AWS4-HMAC-SHA256"], "X-Amz-Credential": [R], "X-Amz-Signature": [R], page: ["2"], API_KEY: [R], tag: ["a", "b"] });
    assert.deepEqual(counts, { "query:x-amz-credential": 1, "query:x-amz-signature": 1, "query:api_key": 1 });
  });

  test("every default name is covered; redactQueryParams adds names; redactDefaultQueryParams: false keeps only those", () => {
    const names = ["api_key", "apikey", "access_token", "refresh_token", "id_token", "token", "password", "secret", "client_secret", "signature", "sig", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token"];
    const rawUrl = "/x?" + names.map((n, i) => `${n}=v${i}`).join("&") + "&session=s1&keep=1";
    const { msg } = publish(exchange({ rawUrl }), { redactQueryParams: ["Session"] });
    for (const n of names) assert.deepEqual(msg.query_params[n], [R], n);
    assert.deepEqual(msg.query_params.session, [R]);
    assert.deepEqual(msg.query_params.keep, ["1"]);
    assert.ok(!/=v\d/.test(msg.raw_url), msg.raw_url);
    const only = publish(exchange({ rawUrl }), { redactQueryParams: ["session"], redactDefaultQueryParams: false }).msg;
    assert.deepEqual(only.query_params.session, [R]);
    assert.deepEqual(only.query_params.api_key, ["v0"]);
  });

  test("bracketed names by their last name, repeated values each, encoded names decoded, empty values and fragments", () => {
    const { msg } = publish(exchange({ rawUrl: "/cb?user%5Bpassword%5D=p1&creds[token]=t1&token=a&token=b&password=&code=xyz#access_token=frag&state=1" }));
    assert.equal(msg.raw_url, `/cb?user%5Bpassword%5D=${RU}&creds[token]=${RU}&token=${RU}&token=${RU}&password=&code=xyz#access_token=${RU}&state=1`);
    assert.deepEqual(msg.query_params, { "user[password]": [R], "creds[token]": [R], token: [R, R], password: [""], code: ["xyz"] });
  });

  test("query_params says what URLSearchParams says (the parser is exact), with and without rules", () => {
    const part = fc.stringMatching(/^([a-zA-Z0-9_.~+\-[\]]|%[0-9A-Fa-f]{2}|%|%[G-Z]|%E4%|%C3%A9|=|&)*$/);
    fc.assert(fc.property(fc.array(part, { maxLength: 6 }), (pieces) => {
      const rawUrl = "/p?" + pieces.join("&");
      const expected = Object.fromEntries(Object.entries(queryParams(rawUrl)));
      const plain = publish(exchange({ rawUrl }), { redactValues: [], redactDefaultQueryParams: false }).msg;
      assert.deepEqual(plain.query_params, expected);
      assert.equal(plain.raw_url, rawUrl);
      const withRules = publish(exchange({ rawUrl }), { redactValues: [], redactQueryParams: ["a"] }).msg;
      assert.deepEqual(Object.keys(withRules.query_params), Object.keys(expected));
    }), { numRuns: 500 });
  });
});

describe("route parameters and path segments", () => {
  test("a route parameter with a listed name is redacted in path_params and at its segment in raw_url", () => {
    const { msg, counts } = publish(exchange({ rawUrl: "/reset-password/9f8e7d6c5b4a?x=1", urlPath: "/reset-password/:token", pathParams: { token: "9f8e7d6c5b4a" } }));
    assert.deepEqual(msg.path_params, { token: R });
    assert.equal(msg.raw_url, `/reset-password/${RU}?x=1`);
    assert.equal(msg.url_path, "/reset-password/:token");
    assert.deepEqual(counts, { "path:token": 1 });
  });

  test("detector matches in segments (raw_url, path_params, and a concrete outgoing url_path)", () => {
    const key = "AKIAIOSFODNN7EXAMPLE";
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    const incoming = publish(exchange({ rawUrl: `/v1/keys/${key}/sessions/${jwt}`, urlPath: "/v1/keys/:id/sessions/:s", pathParams: { id: key, s: jwt } })).msg;
    assert.equal(incoming.raw_url, `/v1/keys/${RU}/sessions/${RU}`);
    assert.deepEqual(incoming.path_params, { id: R, s: R });
    const outgoing = publish(exchange({ sdkType: "JsOutgoing", rawUrl: `/v1/keys/${key}`, urlPath: `/v1/keys/${key}` })).msg;
    assert.equal(outgoing.url_path, `/v1/keys/${RU}`);
    assert.equal(outgoing.raw_url, `/v1/keys/${RU}`);
    const encoded = publish(exchange({ rawUrl: "/u/ann%40example.com/cards/4111%201111%201111%201111" }), { redactValues: ["email", "creditCard"] }).msg;
    assert.equal(encoded.raw_url, `/u/${RU}/cards/${RU}`);
  });
});

describe("header values", () => {
  test("detectors run on values not redacted by name; Referer and Location queries by name; the referer field follows", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    const { msg, counts } = publish(exchange({
      requestHeaders: ["X-Debug-Token", jwt, "Referer", "https://app.example.com/login?token=abc&next=%2Fhome", "X-Forwarded-Auth", "Bearer sk_live_abcdefghijkl", "Authorization", "Bearer other"],
      responseHeaders: { location: "/cb?code=1&access_token=at-1", "x-card": "4111 1111 1111 1111" },
    }), { redactValues: ["jwt", "bearerToken", "awsAccessKey", "privateKey", "creditCard"] });
    assert.deepEqual(msg.request_headers["x-debug-token"], [R]);
    assert.deepEqual(msg.request_headers["x-forwarded-auth"], [R]);
    assert.deepEqual(msg.request_headers.referer, [`https://app.example.com/login?token=${RU}&next=%2Fhome`]);
    assert.equal(msg.referer, `https://app.example.com/login?token=${RU}&next=%2Fhome`);
    assert.deepEqual(msg.response_headers.location, [`/cb?code=1&access_token=${RU}`]);
    assert.deepEqual(msg.response_headers["x-card"], [R]);
    assert.deepEqual(counts, { "header:authorization": 1, "value:jwt": 1, "value:bearerToken": 1, "query:token": 1, "query:access_token": 1, "value:creditCard": 1 });
  });
  test("values found clean on earlier exchanges do not hide a secret that arrives beside them, in a header, the URL or a route parameter", () => {
    const cfg = resolveOptions({ apiKey: "k", logger: quietLogger });
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    const counts: Record<string, number> = {};
    const send = (ex: Exchange): Msg => assertWireBytes(serializeExchange(ex, cfg, cfg.redaction, (rule, n) => void (counts[rule] = (counts[rule] ?? 0) + n))) as Msg;
    const clean = { rawUrl: "/users/42", urlPath: "/users/:id", pathParams: { id: "42" }, requestHeaders: ["Host", "api.example.com", "User-Agent", "curl/8"], responseHeaders: { etag: 'W/"b-Ai2/GNJ/Lp+hd0EqDPcUGmk4BE8"' } };
    for (let i = 0; i < 3; i++) assert.deepEqual(send(exchange(clean)).request_headers, { host: ["api.example.com"], "user-agent": ["curl/8"] });
    assert.deepEqual(counts, {});
    const withHeader = send(exchange({ ...clean, requestHeaders: [...clean.requestHeaders, "X-Debug", jwt] }));
    assert.deepEqual(withHeader.request_headers, { host: ["api.example.com"], "user-agent": ["curl/8"], "x-debug": [R] });
    const withParam = send(exchange({ ...clean, rawUrl: `/users/${jwt}`, pathParams: { id: jwt } }));
    assert.equal(withParam.raw_url, `/users/${RU}`);
    assert.deepEqual(withParam.path_params, { id: R });
    // A header value seen clean under one name is looked at again under any name: it is the value that is remembered, and it is clean.
    assert.deepEqual(send(exchange({ ...clean, requestHeaders: ["X-Other", "curl/8"] })).request_headers, { "x-other": ["curl/8"] });
    assert.deepEqual(counts, { "value:jwt": 3 });
  });
  test("a redacted Referer header is redacted in the referer field too", () => {
    const { msg } = publish(exchange({ requestHeaders: ["Referer", "https://secret.example.com/x"] }), { redactHeaders: ["referer"] });
    assert.equal(msg.referer, R);
  });
});

describe("bodies", () => {
  test("form fields in bracket notation match the JSONPath they expand to (urlencoded and multipart)", () => {
    const rules = { paths: compilePaths(["$.user.password", "$.cards[*].number", "$.tags[1]"]) };
    const form = "user[name]=ann&user[password]=hunter2&cards[0][number]=4111&cards[1][number]=5500&tags[]=a&tags[]=b&password=plain";
    assert.equal(renderBody(captured(form), "application/x-www-form-urlencoded", undefined, rules.paths, 1 << 20).toString(),
      `user[name]=ann&user[password]=${RU}&cards[0][number]=${RU}&cards[1][number]=${RU}&tags[]=a&tags[]=${RU}&password=plain`);
    const b = "XyZ";
    const mp = [`--${b}`, 'Content-Disposition: form-data; name="user[password]"', "", "hunter2", `--${b}`, 'Content-Disposition: form-data; name="user[name]"', "", "ann", `--${b}--`, ""].join("\r\n");
    const out = renderBody(captured(mp), `multipart/form-data; boundary=${b}`, undefined, rules.paths, 1 << 20).toString();
    assert.match(out, /name="user\[password\]"\r\n\r\n\[CLIENT_REDACTED\]\r\n/);
    assert.match(out, /name="user\[name\]"\r\n\r\nann\r\n/);
    // the literal name still matches, as before
    assert.equal(renderBody(captured("user[password]=x"), "application/x-www-form-urlencoded", undefined, compilePaths(["$['user[password]']"]), 1 << 20).toString(), `user[password]=${RU}`);
  });

  test("a field is matched by the path qs expands it to (differential against qs)", () => {
    // A random document, written as a form the way qs writes it (a[0][b]=v); each field must be
    // matched by the normalized path of the value in that document (qs.parse gives it back).
    const key = fc.stringMatching(/^[a-z]{1,3}$/);
    const { node } = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof({ depthSize: "small", withCrossShrink: true },
        fc.constant("leaf"),
        fc.array(tie("node"), { minLength: 1, maxLength: 3 }),
        fc.dictionary(key, tie("node"), { minKeys: 1, maxKeys: 3 })),
    }));
    fc.assert(fc.property(fc.dictionary(key, node, { minKeys: 1, maxKeys: 4 }), (tree) => {
      let n = 0;
      const where: Array<Array<string | number>> = [];
      const fill = (v: unknown, at: Array<string | number>): unknown => {
        if (v === "leaf") {
          where.push(at);
          return `v${n++}`;
        }
        if (Array.isArray(v)) return v.map((c, k) => fill(c, [...at, k]));
        return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, c]) => [k, fill(c, [...at, k])]));
      };
      const doc = fill(tree, []) as Record<string, unknown>;
      const text = qs.stringify(doc, { encodeValuesOnly: true });
      fc.pre(JSON.stringify(qs.parse(text, { depth: 100 })) === JSON.stringify(doc)); // qs's own round trip
      const sp = [...new URLSearchParams(text)];
      const names = sp.map(([k]) => k);
      const values = sp.map(([, v]) => v);
      where.forEach((at, i) => {
        const out = redactFields(names, values, { paths: compilePaths([normalizedPath(at)]) });
        assert.equal(out?.[values.indexOf(`v${i}`)], R, `${normalizedPath(at)} in ${text}`);
        assert.equal(out?.filter((v) => v === R).length, 1, "that field only");
      });
    }), { numRuns: 300 });
  });

  test("text bodies (plain, HTML, CSV) get the detectors over their text; JSON strings too, numbers not", () => {
    const values = resolveOptions({ logger: quietLogger, redactValues: [...ALL_DETECTORS] }).redactValues;
    const none = compilePaths([]);
    assert.equal(renderBody(captured("paid with 4111 1111 1111 1111, thanks"), "text/plain", undefined, none, 1 << 20, { values }).toString(), `paid with ${R}, thanks`);
    assert.equal(renderBody(captured("<p>ann@example.com</p>"), "text/html", undefined, none, 1 << 20, { values }).toString(), `<p>${R}</p>`);
    assert.equal(renderBody(captured('{"note":"card 4111111111111111","n":4111111111111111,"acct-123456":1}'), "application/json", undefined, none, 1 << 20, { values }).toString(),
      `{"note":"card ${R}","n":4111111111111111,"${R}":1}`);
    assert.equal(renderBody(captured('{"a":"ann\\u0040example.com"}'), "application/json", undefined, none, 1 << 20, { values }).toString(), `{"a":"${R}"}`);
    const clean = captured('{ "a" : "nothing here" }');
    assert.equal(renderBody(clean, "application/json", undefined, none, 1 << 20, { values }), clean.chunks[0], "unchanged: the very same bytes");
  });

  test("fail closed stays: a body the paths cannot check is the marker, whatever the detectors; a cut text loses a last word that could start a secret", () => {
    const values = resolveOptions({ logger: quietLogger }).redactValues;
    const cards = resolveOptions({ logger: quietLogger, redactValues: ["creditCard"] }).redactValues;
    const paths = compilePaths(["$.password"]);
    assert.equal(renderBody(captured("{not json 4111"), "application/json", undefined, paths, 1 << 20, { values }).toString(), JSON.stringify(R));
    const cutAt = (text: string): CapturedBody => ({ chunks: [Buffer.from(text)], keptBytes: Buffer.byteLength(text), totalBytes: 4096 });
    // A secret the cut went through would be matched whole by a detector that is on: its start goes too.
    assert.equal(renderBody(cutAt("card 4111 1111 1111 11"), "text/plain", undefined, compilePaths([]), 1 << 20, { values: cards }).toString(), `card ${R}`);
    assert.equal(renderBody(cutAt("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIi"), "text/plain", undefined, compilePaths([]), 1 << 20, { values }).toString(), `token ${R}`);
    assert.equal(renderBody(cutAt("auth: Bearer abcdef0123"), "text/plain", undefined, compilePaths([]), 1 << 20, { values }).toString(), `auth: ${R}`, "matched whole by the detector already");
    assert.equal(renderBody(cutAt("key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN"), "text/plain", undefined, compilePaths([]), 1 << 20, { values }).toString(), `key ${R}`);
    // A cut word no enabled detector could have matched stays the preview it is (cards are off by default).
    assert.equal(renderBody(cutAt("card 4111 1111 1111 11"), "text/plain", undefined, compilePaths([]), 1 << 20, { values }).toString(), "card 4111 1111 1111 11");
    assert.equal(renderBody(cutAt("xxxxxxxxxxxx"), "text/plain", undefined, compilePaths([]), 1 << 20, { values }).toString(), "xxxxxxxxxxxx");
  });
});

describe("errors", () => {
  test("error messages and stack traces through the detectors", () => {
    const key = "AKIAIOSFODNN7EXAMPLE";
    const { msg } = publish(exchange({ errors: [{ when: "2026-01-01T00:00:00.000Z", error_type: "Error", root_error_type: "Error", root_error_message: `bad key ${key}`, message: `bad key ${key}`, stack_trace: `Error: bad key ${key}\n    at x` }] }));
    assert.ok(!JSON.stringify(msg.errors).includes(key));
    assert.match(JSON.stringify(msg.errors), /bad key \[CLIENT_REDACTED\]/);
  });
});

describe("a generated secret of each kind, anywhere, is never published (incoming and outgoing)", () => {
  type Place = (secret: string, words: string) => Partial<Exchange>;
  const json = (v: unknown) => captured(JSON.stringify(v));
  const places: Record<string, Place> = {
    "nested JSON value": (s, w) => ({ requestHeaders: ["Content-Type", "application/json"], requestBody: json({ a: { b: [1, { note: `${w} ${s} ${w}` }] } }) }),
    "JSON array element": (s) => ({ responseHeaders: ["Content-Type", "application/json"], responseBody: json([s, "x"]) }),
    "JSON member name": (s) => ({ responseHeaders: ["Content-Type", "application/json"], responseBody: json({ [s]: true }) }),
    "pretty JSON": (s, w) => ({ responseHeaders: ["Content-Type", "application/json"], responseBody: captured(JSON.stringify({ a: `${w} ${s}`, b: [{ c: s }] }, null, 2)) }),
    "parsed body": (s) => ({ requestHeaders: ["Content-Type", "application/json"], requestBody: { chunks: [], keptBytes: 0, totalBytes: 0, parsed: { deep: { list: [{ v: s }] } } } }),
    "text body": (s, w) => ({ responseHeaders: ["Content-Type", "text/plain"], responseBody: captured(`${w} ${s} ${w}`) }),
    "HTML body": (s) => ({ responseHeaders: ["Content-Type", "text/html"], responseBody: captured(`<div>${s}</div>`) }),
    "form field": (s) => ({ requestHeaders: ["Content-Type", "application/x-www-form-urlencoded"], requestBody: captured(`a=1&note=${encodeURIComponent(s)}`) }),
    "multipart field": (s) => ({ requestHeaders: ["Content-Type", "multipart/form-data; boundary=b0"], requestBody: captured(`--b0\r\nContent-Disposition: form-data; name="f[x]"\r\n\r\n${s}\r\n--b0--\r\n`) }),
    "query value": (s, w) => ({ rawUrl: `/p?q=${encodeURIComponent(`${w} ${s}`)}&x=1` }),
    "path segment": (s) => ({ rawUrl: `/p/${encodeURIComponent(s)}/x`, urlPath: "/p/:id/x", pathParams: { id: s } }),
    "header value": (s) => ({ requestHeaders: ["X-Note", s.replace(/\n/g, " ")], responseHeaders: { "x-echo": s.replace(/\n/g, " ") } }),
    "error message": (s) => ({ errors: [{ when: "2026-01-01T00:00:00.000Z", error_type: "Error", root_error_type: "Error", root_error_message: s, message: s, stack_trace: `Error: ${s}` }] }),
  };
  const options: APIToolkitOptions = { redactValues: [...ALL_DETECTORS] };
  for (const [where, place] of Object.entries(places)) {
    test(where, () => {
      fc.assert(fc.property(secretArb, wordsArb, fc.constantFrom("JsExpress", "JsOutgoing"), ({ kind, secret }, words, sdkType) => {
        const cfg = resolveOptions({ apiKey: "k", logger: quietLogger, ...options });
        const rules = sdkType === "JsOutgoing" ? cfg.outgoing.rulesFor("api.partner.com") : cfg.redaction;
        const { msg } = publish(exchange({ sdkType: sdkType as Exchange["sdkType"], ...place(secret, words) }), options, rules);
        assertNotPublished([msg], [{ kind, secret }]);
      }), { numRuns: 120 });
    });
  }
});

describe("off costs nothing: with every new rule off the bytes are exactly what they were", () => {
  test("random exchanges: redactValues: [] and redactDefaultQueryParams: false publish what the header/path rules alone publish", () => {
    const str = fc.string({ unit: "binary", maxLength: 30 });
    fc.assert(fc.property(fc.record({ rawUrl: fc.oneof(fc.webPath(), str.map((s) => `/p?${s}`)), reqBody: str, ct: fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded"), h: str }), (g) => {
      const ex = exchange({ rawUrl: g.rawUrl, requestHeaders: ["Content-Type", g.ct, "X-H", g.h, "Referer", `/r?token=${g.h}`], requestBody: captured(g.reqBody) });
      const cfg = resolveOptions({ apiKey: "k", logger: quietLogger, redactValues: [], redactDefaultQueryParams: false, redactRequestBody: ["$.password"] });
      const legacy: RuleSet = { headers: cfg.redactHeaders, request: cfg.requestPaths, response: cfg.responsePaths };
      assert.deepEqual(serializeExchange(ex, cfg, cfg.redaction), serializeExchange(ex, cfg, legacy));
    }), { numRuns: 500 });
  });
});

describe("stats().redactions and the debug line", () => {
  test("counted by rule through a real client; the first firing of each rule logged once in debug mode, never the value", async () => {
    const lines: string[] = [];
    const sent: Buffer[] = [];
    const a = new APIToolkit({
      transport: () => ({ send: async (batch: Buffer[]) => void sent.push(...batch), close: async () => undefined }),
      logger: { info: (l: string) => lines.push(l), warn: () => undefined, error: () => undefined },
      debug: true, publishIntervalMs: 5, monitorOutgoing: false, redactRequestBody: ["$.password", "$..token"],
    });
    const { sinkOf } = await import("../../src/capture/sink.js");
    const sink = sinkOf(a);
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    for (let i = 0; i < 2; i++) {
      sink.accept(exchange({
        rawUrl: "/login?api_key=k&x=1", requestHeaders: ["Authorization", "Bearer abcdefghij", "Content-Type", "application/json"],
        requestBody: captured(JSON.stringify({ password: "hunter2", a: { token: "t" }, note: jwt })),
      }));
    }
    await a.flush(2000);
    await a.close(100);
    assert.equal(sent.length, 2);
    assert.deepEqual(a.stats().redactions, { "query:api_key": 2, "header:authorization": 2, "body:$.password": 2, "body:$..token": 2, "value:jwt": 2 });
    const fired = lines.filter((l) => l.includes("fired for the first time"));
    assert.equal(fired.length, 5, fired.join("\n"));
    for (const l of lines) assert.ok(!l.includes("hunter2") && !l.includes(jwt));
  });
});

describe("previewRedaction", () => {
  test("the string form is what it was; the report form says which rule matched where, never the value", async () => {
    const a = new APIToolkit({ logger: quietLogger, redactRequestBody: ["$.user.password", "$..cvv"], redactValues: ["jwt", "email"] });
    const input = { user: { name: "ann", password: "hunter2" }, cards: [{ cvv: "123" }, { cvv: "456" }], note: "mail ann@example.com or bob@example.com" };
    const expected = '{"user":{"name":"ann","password":"[CLIENT_REDACTED]"},"cards":[{"cvv":"[CLIENT_REDACTED]"},{"cvv":"[CLIENT_REDACTED]"}],"note":"mail [CLIENT_REDACTED] or [CLIENT_REDACTED]"}';
    assert.equal(a.previewRedaction("request", input), expected);
    assert.equal(a.previewRedaction("request", input, "application/json"), expected);
    const report = a.previewRedaction("request", input, { report: true });
    assert.equal(report.body, expected);
    assert.deepEqual(report.redactions, [
      { rule: "body:$.user.password", where: "$['user']['password']", count: 1 },
      { rule: "body:$..cvv", where: "$['cards'][0]['cvv']", count: 1 },
      { rule: "body:$..cvv", where: "$['cards'][1]['cvv']", count: 1 },
      { rule: "value:email", where: "$['note']", count: 2 },
    ]);
    assert.ok(!JSON.stringify(report.redactions).includes("hunter2"));
    const form = a.previewRedaction("request", "user[password]=x&note=ann%40example.com", { contentType: "application/x-www-form-urlencoded", report: true });
    assert.equal(form.body, `user[password]=${RU}&note=${RU}`);
    assert.deepEqual(form.redactions, [{ rule: "body:$.user.password", where: "$['user']['password']", count: 1 }, { rule: "value:email", where: "$['note']", count: 1 }]);
    const text = a.previewRedaction("response", "hi ann@example.com", { contentType: "text/plain", report: true });
    assert.deepEqual(text, { body: `hi ${R}`, redactions: [{ rule: "value:email", where: "$", count: 1 }] });
    const broken = a.previewRedaction("request", '{"user":', { report: true });
    assert.deepEqual(broken, { body: JSON.stringify(R), redactions: [{ rule: "body:uncheckable", where: "$", count: 1 }] });
    await a.close(10);
  });
});

test("small bodies sent again: the same bytes out, redactions counted every time, and a body clean under one content type is not taken for clean under another", () => {
  const cfg = resolveOptions({ apiKey: "k", logger: quietLogger, redactResponseBody: ["$.password"] });
  const counts: Record<string, number> = {};
  const tally = (rule: string, n: number): void => void (counts[rule] = (counts[rule] ?? 0) + n);
  const send = (body: string, contentType: string): Msg => {
    const ex = exchange({ responseHeaders: { "content-type": contentType }, responseBody: captured(body) });
    const bytes = serializeExchange(ex, cfg, cfg.redaction, tally);
    stampProjectId(bytes, "00000000-0000-4000-8000-000000000000");
    return assertWireBytes(bytes) as Msg;
  };
  const bodyOf = (m: Msg): string => Buffer.from(m.response_body as string, "base64").toString("utf8");
  for (let i = 0; i < 3; i++) assert.equal(bodyOf(send('{"ok":true}', "application/json")), '{"ok":true}');
  // A value redacted to the marker it already held: the same bytes out, still counted each time.
  for (let i = 0; i < 3; i++) assert.equal(bodyOf(send(`{"password":"${R}"}`, "application/json")), `{"password":"${R}"}`);
  assert.equal(counts["body:$.password"], 3);
  for (let i = 0; i < 2; i++) assert.equal(bodyOf(send('{"password":"hunter2"}', "application/json")), `{"password":"${R}"}`);
  assert.equal(counts["body:$.password"], 5);
  // Plain text passes as it is, the same bytes as a form are redacted by the rule, each time.
  const form = "password=hunter2";
  assert.equal(bodyOf(send(form, "text/plain")), form);
  for (let i = 0; i < 2; i++) assert.equal(bodyOf(send(form, "application/x-www-form-urlencoded")), `password=${RU}`);
  assert.equal(bodyOf(send(form, "text/plain")), form);
  assert.equal(counts["body:$.password"], 7);
});

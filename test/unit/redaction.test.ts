// Body and header redaction as published: the README's examples (parsed from README.md so the
// documentation stays true) and every body kind (JSON, form, multipart, binary, compressed, text).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import zlib from "node:zlib";
import path from "node:path";
import { APIToolkit } from "../../src/index.js";
import { renderBody } from "../../src/redact/body.js";
import { headersOnWire } from "../../src/wire/serialize.js";

/** Headers as they go on the wire, parsed back (JSON.parse keeps "__proto__" as an own key). */
const wireHeaders = (raw: Parameters<typeof headersOnWire>[0], redact: ReadonlySet<string>): Record<string, string[]> => JSON.parse(headersOnWire(raw, redact)) as Record<string, string[]>;
import { compilePaths } from "../../src/jsonpath/index.js";
import { emptyBody, observeChunk } from "../../src/capture/body.js";
import { quietLogger } from "../helpers/logger.js";

function captured(bytes: Buffer | string, limit = 1 << 20) {
  const b = emptyBody();
  observeChunk(b, typeof bytes === "string" ? Buffer.from(bytes) : bytes, undefined, limit);
  return b;
}

describe("the README's redaction table", () => {
  const readme = readFileSync(path.join(import.meta.dirname, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Redaction"), readme.indexOf("## Delivery"));
  const rows = [...section.matchAll(/^\| `([^`]+)`[^|]*\| `([^`]+)`[^|]*\| `([^`]+)`/gm)];
  test("has examples", () => assert.ok(rows.length >= 4, "README rows found"));
  for (const [, rule, input, output] of rows) {
    test(`${rule} on ${input}`, async () => {
      const a = new APIToolkit({ apiKey: "k", rootURL: "http://127.0.0.1:9", redactRequestBody: [rule!], logger: quietLogger });
      assert.equal(a.previewRedaction("request", input!), output);
      await a.close(10);
    });
  }
});

describe("bodies", () => {
  const pw = compilePaths(["$.password", "$..token"]);
  const none = compilePaths([]);
  const render = (body: ReturnType<typeof captured>, ct?: string, enc?: string, paths = pw, limit = 1 << 20) =>
    renderBody(body, ct, enc, paths, limit).toString("utf8");

  test("JSON is redacted; without rules it is sent byte for byte, unparsed", () => {
    assert.equal(render(captured('{"password":"p","a":{"token":"t"}}'), "application/json"), '{"password":"[CLIENT_REDACTED]","a":{"token":"[CLIENT_REDACTED]"}}');
    assert.equal(render(captured('{ "password" : "p" }'), "application/json", undefined, none), '{ "password" : "p" }');
    assert.equal(render(captured("{not json"), "application/json", undefined, none), "{not json");
  });
  test("invalid JSON, a body cut at the limit, or no content type that does not parse: the marker", () => {
    assert.equal(render(captured("{not json"), "application/json"), '"[CLIENT_REDACTED]"');
    const cut = emptyBody();
    observeChunk(cut, Buffer.from('{"a":1,"password":"secret-value"}'), undefined, 10);
    assert.equal(render(cut, "application/json"), '"[CLIENT_REDACTED]"');
    assert.equal(render(captured("password=p"), undefined), '"[CLIENT_REDACTED]"');
  });
  test("vendor JSON types and text/plain that holds JSON are redacted too", () => {
    assert.equal(render(captured('{"password":"p"}'), "application/vnd.api+json; charset=utf-8"), '{"password":"[CLIENT_REDACTED]"}');
    assert.equal(render(captured('{"password":"p"}'), "text/plain"), '{"password":"[CLIENT_REDACTED]"}');
    assert.equal(render(captured("just words"), "text/plain"), "just words");
    assert.equal(render(captured("<p>password</p>"), "text/html"), "<p>password</p>");
  });
  test("form bodies are redacted by field name, repeated fields kept", () => {
    assert.equal(render(captured("user=ann&password=hunter2&tag=a&tag=b"), "application/x-www-form-urlencoded"), "user=ann&password=%5BCLIENT_REDACTED%5D&tag=a&tag=b");
  });
  test("multipart: file parts become placeholders, fields stay (redacted by name)", () => {
    const b = "XyZ";
    const body = [`--${b}`, 'Content-Disposition: form-data; name="user"', "", "ann", `--${b}`, 'Content-Disposition: form-data; name="password"', "", "hunter2",
      `--${b}`, 'Content-Disposition: form-data; name="avatar"; filename="me.png"', "Content-Type: image/png", "", "\x89PNG-binary-bytes", `--${b}--`, ""].join("\r\n");
    const out = render(captured(Buffer.from(body, "latin1")), `multipart/form-data; boundary=${b}`);
    assert.match(out, /name="user"\r\n\r\nann\r\n/);
    assert.match(out, /name="password"\r\n\r\n\[CLIENT_REDACTED\]\r\n/);
    assert.match(out, /\[file: me\.png, image\/png, 17 bytes\]/);
    assert.doesNotMatch(out, /hunter2|PNG-binary/);
  });
  test("binary types become a short marker", () => {
    assert.equal(render(captured(Buffer.from([0, 1, 2, 3])), "image/png", undefined, none), "[binary body (image/png), 4 bytes]");
    assert.equal(render(captured(Buffer.alloc(10)), "application/octet-stream"), "[binary body (application/octet-stream), 10 bytes]");
  });
  test("gzip-compressed JSON is decompressed, then redacted", () => {
    const gz = zlib.gzipSync('{"password":"p","ok":1}');
    assert.equal(render(captured(gz), "application/json", "gzip"), '{"password":"[CLIENT_REDACTED]","ok":1}');
  });
  test("a parsed body (parser ran first) is serialized from a copy, never mutated", () => {
    const parsed = { password: "p", nested: { token: "t", keep: [1, 2] } };
    const before = structuredClone(parsed);
    const b = emptyBody();
    b.parsed = parsed;
    assert.equal(render(b, "application/json"), '{"password":"[CLIENT_REDACTED]","nested":{"token":"[CLIENT_REDACTED]","keep":[1,2]}}');
    assert.deepEqual(parsed, before);
  });
  test("deeply nested JSON never escapes unchecked", () => {
    const deep = "[".repeat(20_000) + '{"password":"p"}' + "]".repeat(20_000);
    const out = render(captured(deep), "application/json", undefined, compilePaths(["$..password"]));
    assert.ok(!out.includes('"p"'));
  });
});

describe("headers", () => {
  test("matched by name, case-insensitively, repeated values kept in order", () => {
    const h = wireHeaders(["Content-Type", "application/json", "X-Api-Key", "k1", "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Accept", "a", "accept", "b"], new Set(["x-api-key", "set-cookie"]));
    assert.deepEqual({ ...h }, { "content-type": ["application/json"], "x-api-key": ["[CLIENT_REDACTED]"], "set-cookie": ["[CLIENT_REDACTED]"], accept: ["a", "b"] });
  });
  test("a header named __proto__ (or constructor) is just a header, from raw arrays and from objects", () => {
    // Built so the header really is there: a raw array (node's req.rawHeaders shape), and JSON.parse,
    // which creates an own "__proto__" key (an object literal would set the prototype instead).
    const fromArray = wireHeaders(["__proto__", "x", "Constructor", "y", "__PROTO__", "z"], new Set());
    const fromObject = wireHeaders(JSON.parse('{"__proto__":"x","constructor":["y"],"accept":"a"}') as Record<string, string>, new Set());
    assert.ok(Object.hasOwn(JSON.parse('{"__proto__":"x"}') as object, "__proto__"), "the input holds the header");
    assert.deepEqual(Object.keys(fromArray), ["__proto__", "constructor"]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(fromArray, "__proto__")?.value, ["x", "z"], "repeated values kept, in order");
    assert.deepEqual(Object.getOwnPropertyDescriptor(fromArray, "constructor")?.value, ["y"]);
    assert.equal(JSON.stringify(fromArray), '{"__proto__":["x","z"],"constructor":["y"]}', "what goes on the wire");
    assert.equal(JSON.stringify(fromObject), '{"__proto__":["x"],"constructor":["y"],"accept":["a"]}');
    const redacted = wireHeaders(["__proto__", "secret", "accept", "a"], new Set(["__proto__"]));
    assert.equal(JSON.stringify(redacted), '{"__proto__":["[CLIENT_REDACTED]"],"accept":["a"]}', "and it is redacted by name like any other");
  });
});

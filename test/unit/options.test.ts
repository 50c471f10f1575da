// Option validation, no network: every option is checked once, at construction, and a bad one
// throws APIToolkitConfigError with a code. (The client's own options are in test/client.test.ts.)
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { APIToolkit, APIToolkitConfigError } from "../../src/index.js";
import { quietLogger } from "../helpers/logger.js";

describe("outgoing options", () => {
  test("invalid outgoing options are rejected at construction", () => {
    const bad: unknown[] = [
      { redactRequestBody: ["$..["] },
      { redactHeaders: "authorization" },
      { urlTemplates: ["no-slash"] },
      { ignoreHosts: [42] },
      { destinations: [{ redactHeaders: ["x"] }] },
      { nope: true },
    ];
    for (const outgoing of bad) {
      assert.throws(() => new APIToolkit({ logger: quietLogger, outgoing: outgoing as never }), APIToolkitConfigError, JSON.stringify(outgoing));
    }
    assert.throws(() => new APIToolkit({ logger: quietLogger, monitorOutgoing: "yes" as unknown as boolean }), APIToolkitConfigError);
    assert.throws(() => new APIToolkit({ logger: quietLogger, outgoing: { redactResponseBody: ["$.a["] } }), /outgoing\.redactResponseBody/);
  });
});

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

describe("outgoing rules are compiled once", () => {
  test("the rules fetch/node:http and axios use are the ones resolveOptions compiled", async () => {
    const { sinkOf } = await import("../../src/capture/sink.js");
    const { runtimeFor } = await import("../../src/capture/outgoing/index.js");
    const tk = new APIToolkit({
      transport: () => ({ send: async () => undefined, close: async () => undefined }),
      logger: quietLogger,
      outgoing: { redactRequestBody: ["$.card"], urlTemplates: ["/v1/customers/:id"] },
    });
    try {
      const sink = sinkOf(tk);
      // One compilation, at construction: every runtime (the diagnostics-channel capture and each
      // observeAxios instance) shares it instead of compiling the options again.
      assert.equal(runtimeFor(sink).rules, sink.config.outgoing);
      assert.equal(runtimeFor(sink).rules, runtimeFor(sink).rules);
      assert.deepEqual(sink.config.outgoing.route("api.example.com", "/v1/customers/42"), { urlPath: "/v1/customers/:id", params: { id: "42" } });
    } finally {
      await tk.close(100);
    }
  });
});

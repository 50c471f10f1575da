// Assertions shared by the integration tests about what was published.
import assert from "node:assert/strict";
import type { WireMessage } from "../../src/index.js";
import { b64text } from "./server.js";

/** No secret appears anywhere in what was published: headers, query, bodies (decoded), errors. */
export function assertNoSecrets(msgs: WireMessage[], secrets: string[]): void {
  const everything = JSON.stringify(msgs.map((m) => ({ ...m, request_body: b64text(m.request_body), response_body: b64text(m.response_body) })));
  for (const secret of secrets) {
    assert.ok(!everything.includes(secret), `secret ${secret} must not be published`);
  }
}

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The fields every integration test's messages share: ids, protocol, timing, tags, header shapes. */
export function assertCommonFields(
  m: WireMessage,
  expected: { projectId: string; sdkType: string; serviceVersion: string; host: string | RegExp; tags?: string[] },
): void {
  assert.equal(m.project_id, expected.projectId);
  assert.equal(m.sdk_type, expected.sdkType);
  assert.match(m.msg_id, UUID);
  assert.equal(m.proto_major, 1);
  assert.equal(m.proto_minor, 1);
  assert.ok(Number.isInteger(m.duration) && m.duration > 0);
  assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(m.service_version, expected.serviceVersion);
  assert.deepEqual(m.tags, expected.tags ?? ["env:test"]);
  if (typeof expected.host === "string") assert.equal(m.host, expected.host);
  else assert.match(m.host, expected.host);
  assert.ok(Array.isArray(m.errors));
  for (const v of Object.values(m.request_headers)) assert.ok(Array.isArray(v));
  for (const v of Object.values(m.response_headers)) assert.ok(Array.isArray(v));
}

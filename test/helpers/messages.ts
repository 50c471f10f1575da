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

/** Narrows a lookup by raw_url further: the request method and/or the sdk_type. */
export interface MessageKey {
  method?: string;
  sdkType?: string;
}

/**
 * The one message published for `rawUrl` (and `key.method` / `key.sdkType` when given); fails the
 * test unless exactly one matches, so a duplicate or a missing message is caught where it is looked up.
 */
export function one(msgs: WireMessage[], rawUrl: string, key: MessageKey = {}): WireMessage {
  const found = msgs.filter((m) => m.raw_url === rawUrl && (key.method === undefined || m.method === key.method) && (key.sdkType === undefined || m.sdk_type === key.sdkType));
  const what = [key.method, key.sdkType].filter(Boolean).join(" ");
  assert.equal(found.length, 1, `exactly one ${what ? `${what} ` : ""}message for ${rawUrl}, got ${found.length}`);
  return found[0]!;
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

/**
 * apitoolkit-node: capture, redact and publish a Node.js service's API traffic.
 * Framework integrations are subpaths: `apitoolkit-node/express`, `/fastify`, `/koa`, `/hono`,
 * `/nest`, `/next`, `/adonis`, `/http`, `/axios`.
 */
export { APIToolkit } from "./client.js";
export { reportError } from "./capture/errors.js";
export { setUser, setTenant, setSession, setAttributes } from "./capture/identity.js";
export type { AttributeValue, UserIdentity, TenantIdentity } from "./capture/identity-types.js";
export { APIToolkitConfigError, type ConfigErrorCode, type WarningCode } from "./registry/codes.js";
export { REDACTED } from "./registry/marker.js";
export type { APIToolkitOptions, Logger, IgnoreRequestInfo, SampleInfo } from "./config/options.js";
export type { ViewerOptions } from "./config/viewer.js";
export type { OutgoingOptions, OutgoingDestination, UrlTemplate, HostPattern } from "./config/outgoing.js";
export type { Transport, TransportFactory } from "./delivery/transport.js";
export type { OtlpOptions, OtlpProtocol, OtlpCompression } from "./transport/otlp/options.js";
export type { Stats, DropReason } from "./delivery/stats.js";
export type { ValueDetector, ValueDetectorName } from "./redact/values.js";
export type { PreviewOptions, RedactionEntry, RedactionReport } from "./redact/rules.js";
export type { WireMessage, ErrorRecord, ClientMetadata, SdkType } from "./wire/types.js";

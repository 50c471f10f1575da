export { APIToolkit } from "./client.js";
export { reportError, normalizeError } from "./capture/errors.js";
export { APIToolkitConfigError } from "./registry/codes.js";
export { REDACTED } from "./registry/marker.js";
export type { APIToolkitOptions, Logger } from "./config/options.js";
export type { Transport, TransportFactory } from "./delivery/transport.js";
export type { Stats, DropReason } from "./delivery/stats.js";
export type { WireMessage, ErrorRecord, ClientMetadata, SdkType } from "./wire/types.js";

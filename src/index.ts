export { APIToolkit } from "./client.js";
export { reportError, normalizeError } from "./core/errors.js";
export { APIToolkitConfigError } from "./core/codes.js";
export { REDACTED } from "./core/constants.js";
export type { APIToolkitOptions, Transport, TransportFactory, Logger } from "./core/options.js";
export type { Stats, DropReason } from "./transport/stats.js";
export type { WireMessage, ErrorRecord, ClientMetadata, SdkType } from "./core/types.js";

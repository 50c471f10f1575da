/**
 * The one registry of drop reasons: every exchange or message the SDK loses is counted under one
 * of these (`stats().dropped`) and, the first time, logged with the warning named here.
 */
import type { WarningCode } from "./codes.js";

/** Why an exchange or message was not delivered. Every drop is counted under one of these. */
export type DropReason =
  | "queue_full"
  | "too_large"
  | "rejected"
  | "retries_exhausted"
  | "invalid_api_key"
  | "build_failed"
  | "capture_failed"
  | "shutdown";

/** The one-time warning of each drop reason (logged on the first drop of that reason). */
export const DROP_WARNINGS: Readonly<Record<DropReason, WarningCode>> = {
  queue_full: "W_QUEUE_FULL",
  too_large: "W_MESSAGE_TOO_LARGE",
  rejected: "W_PUBLISH_REJECTED",
  retries_exhausted: "W_RETRIES_EXHAUSTED",
  invalid_api_key: "W_INVALID_API_KEY",
  build_failed: "W_BUILD_FAILED",
  capture_failed: "W_CAPTURE_FAILED",
  shutdown: "W_SHUTDOWN_DROPPED",
};

/** Every drop reason, in the order of `stats().dropped`. */
export const DROP_REASONS = Object.keys(DROP_WARNINGS) as readonly DropReason[];

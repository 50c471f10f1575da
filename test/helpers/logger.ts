// The logger the tests hand the SDK when its lines are not what the test checks.
import type { Logger } from "../../src/index.js";

/** Drops every line: for tests whose subject is not the SDK's logging. */
export const quietLogger: Logger = { info() {}, warn() {}, error() {} };

/** The redaction rules of one exchange: header names and the compiled body paths of each side. */
import type { Exchange } from "../capture/exchange.js";
import type { CompiledPaths } from "../jsonpath/index.js";
import { RULES } from "../registry/symbols.js";

/** Redaction rules that apply to one exchange (outgoing calls may add per-destination rules). */
export interface RuleSet {
  headers: ReadonlySet<string>;
  request: CompiledPaths;
  response: CompiledPaths;
}

/** Attach the rules an exchange must be redacted with (outgoing calls add per-destination rules). */
export function setRules(ex: Exchange, rules: RuleSet): void {
  (ex as Exchange & { [RULES]?: RuleSet })[RULES] = rules;
}

/** Rules attached with setRules, if any. */
export function rulesOf(ex: Exchange): RuleSet | undefined {
  return (ex as Exchange & { [RULES]?: RuleSet })[RULES];
}

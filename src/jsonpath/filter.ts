/**
 * Filter selectors (`[?...]`, RFC 9535 §2.3.5).
 *
 * Simple logical expressions are compiled natively into closures: `&&`, `||`, `!`, parentheses,
 * existence tests and comparisons (`== != < <= > >=`) whose operands are literals or *singular*
 * queries (`@.a`, `@['b'][0]`, `$.x`). Everything else (function extensions such as `length()`,
 * `count()`, `match()`, `search()`, `value()`, and existence tests on non-singular queries such as
 * `@.*` or `@..x`) is evaluated by json-p3's own expression evaluator for that filter only.
 *
 * Native evaluation never recurses on the document (equality of two structured values uses an
 * explicit stack), so it cannot overflow the call stack. json-p3's evaluator may throw (for example
 * `JSONPathRecursionLimitError` for `@..x` in a very deep document): callers fail closed.
 */
import { isPlainObject } from "./plain.js";
import { jsonpath, type JSONPathEnvironment, type JSONPathQuery, type JSONValue } from "json-p3";

/** The result of a filter on one candidate: its value, its key in the parent, and the root. */
export type FilterTest = (value: unknown, key: string | number, root: unknown) => boolean;

/** A compiled filter selector. */
export interface CompiledFilter {
  readonly test: FilterTest;
  /** `true` when compiled natively, `false` when json-p3 evaluates the expression. */
  readonly native: boolean;
}

/** One step of a singular query: a member name or an array index. */
export type SingularStep = { readonly name: string } | { readonly index: number };

/** Marks "no node" (RFC 9535 `Nothing`), the result of a singular query that selects nothing. */
const NOTHING: unique symbol = Symbol("nothing");
type Operand = (current: unknown, root: unknown) => unknown;
type Predicate = (current: unknown, root: unknown) => boolean;

const X = jsonpath.expressions;
const S = jsonpath.selectors;
type Expression = InstanceType<typeof X.FilterExpression>;
type LogicalExpression = InstanceType<typeof X.LogicalExpression>;

/** Compile a filter expression, natively when possible, else through json-p3. */
export function compileFilter(expression: LogicalExpression, env: JSONPathEnvironment): CompiledFilter {
  const predicate = compileLogical(expression.expression);
  if (predicate !== null) {
    return { native: true, test: (value, _key, root) => predicate(value, root) };
  }
  return { native: false, test: json3Test(expression, env) };
}

/** The fallback: let json-p3 evaluate the whole filter expression for one candidate. */
function json3Test(expression: LogicalExpression, env: JSONPathEnvironment): FilterTest {
  return (value, key, root) =>
    expression.evaluate({
      environment: env,
      currentValue: value as JSONValue,
      rootValue: root as JSONValue,
      currentKey: key,
    });
}

/** A logical-context expression as a predicate, or `null` when not supported natively. */
function compileLogical(e: Expression): Predicate | null {
  if (e instanceof X.LogicalExpression) return compileLogical(e.expression);
  if (e instanceof X.PrefixExpression) return e.operator === "!" ? negate(compileLogical(e.right)) : null;
  if (e instanceof X.InfixExpression) {
    if (e.operator === "&&" || e.operator === "||") return compileConnective(e);
    return compileComparison(e);
  }
  if (e instanceof X.RelativeQuery || e instanceof X.RootQuery) return compileExistence(e);
  return null;
}

function negate(inner: Predicate | null): Predicate | null {
  return inner === null ? null : (c, r) => !inner(c, r);
}

function compileConnective(e: InstanceType<typeof X.InfixExpression>): Predicate | null {
  const left = compileLogical(e.left);
  const right = compileLogical(e.right);
  if (left === null || right === null) return null;
  return e.operator === "&&" ? (c, r) => left(c, r) && right(c, r) : (c, r) => left(c, r) || right(c, r);
}

/** `?@.a` / `?$.b`: true when the singular query selects a node. */
function compileExistence(e: InstanceType<typeof X.FilterQuery>): Predicate | null {
  const operand = compileQueryOperand(e);
  return operand === null ? null : (c, r) => operand(c, r) !== NOTHING;
}

function compileComparison(e: InstanceType<typeof X.InfixExpression>): Predicate | null {
  const left = compileOperand(e.left);
  const right = compileOperand(e.right);
  if (left === null || right === null) return null;
  switch (e.operator) {
    case "==": return (c, r) => equal(left(c, r), right(c, r));
    case "!=": return (c, r) => !equal(left(c, r), right(c, r));
    case "<": return (c, r) => less(left(c, r), right(c, r));
    case ">": return (c, r) => less(right(c, r), left(c, r));
    case "<=": return (c, r) => { const a = left(c, r), b = right(c, r); return less(a, b) || equal(a, b); };
    case ">=": return (c, r) => { const a = left(c, r), b = right(c, r); return less(b, a) || equal(a, b); };
    default: return null;
  }
}

/** A comparable: a literal or a singular query. Function calls are not compiled natively. */
function compileOperand(e: Expression): Operand | null {
  if (e instanceof X.NullLiteral) return () => null;
  if (e instanceof X.BooleanLiteral || e instanceof X.StringLiteral || e instanceof X.NumberLiteral) {
    const value = e.value;
    return () => value;
  }
  if (e instanceof X.RelativeQuery || e instanceof X.RootQuery) return compileQueryOperand(e);
  return null;
}

function compileQueryOperand(e: InstanceType<typeof X.FilterQuery>): Operand | null {
  const steps = singularSteps(e.path);
  if (steps === null) return null;
  return e instanceof X.RootQuery ? (_c, r) => resolveSingular(r, steps) : (c) => resolveSingular(c, steps);
}

/** The steps of a singular query (child segments of one name or index each), else `null`. */
export function singularSteps(query: JSONPathQuery): SingularStep[] | null {
  if (!query.singularQuery()) return null;
  const steps: SingularStep[] = [];
  for (const segment of query.segments) {
    const selector = segment.selectors[0];
    if (selector instanceof S.NameSelector) steps.push({ name: selector.name });
    else if (selector instanceof S.IndexSelector) steps.push({ index: selector.index });
    else return null;
  }
  return steps;
}

/** Follow a singular query from `value`; NOTHING when a step selects nothing. */
function resolveSingular(value: unknown, steps: readonly SingularStep[]): unknown {
  let at = value;
  for (const step of steps) {
    if ("name" in step) {
      if (!isPlainObject(at) || !Object.hasOwn(at, step.name)) return NOTHING;
      at = at[step.name];
    } else {
      if (!Array.isArray(at)) return NOTHING;
      const i = step.index < 0 ? at.length + step.index : step.index;
      if (i < 0 || i >= at.length) return NOTHING;
      at = at[i];
    }
  }
  return at;
}


/** RFC 9535 `<`: only between two numbers or two strings (strings by UTF-16 code units, like json-p3). */
function less(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return a < b;
  if (typeof a === "string" && typeof b === "string") return a < b;
  return false;
}

/** RFC 9535 `==`: Nothing equals only Nothing; JSON values compare structurally. */
function equal(a: unknown, b: unknown): boolean {
  if (a === NOTHING || b === NOTHING) return a === b;
  return deepEqual(a, b);
}

/**
 * Structural equality of two JSON values, with an explicit stack (no recursion). Objects compare
 * by their own keys only, regardless of order.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  const stack: unknown[] = [a, b];
  while (stack.length > 0) {
    const y = stack.pop();
    const x = stack.pop();
    if (x === y) continue;
    if (!pushChildPairs(x, y, stack)) return false;
  }
  return true;
}

/** Queue the child pairs of two containers of the same shape; `false` when they differ. */
function pushChildPairs(x: unknown, y: unknown, stack: unknown[]): boolean {
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) stack.push(x[i], y[i]);
    return true;
  }
  if (!isPlainObject(x) || !isPlainObject(y)) return false;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(y, key)) return false;
    stack.push(x[key], y[key]);
  }
  return true;
}

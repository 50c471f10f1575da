// The public API as the TypeScript compiler sees it: every type that an exported declaration
// mentions is itself exported from some entry point (so users can name it), and nothing marked
// @internal is exported. Reads the sources of the package's entry points (the "exports" map).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const root = path.resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { exports: Record<string, { import?: { default?: string } } | string> };

/** Entry point sources, from the exports map (dist/esm/x.js -> src/x.ts). */
function entries(): string[] {
  const out: string[] = [];
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (sub === "./package.json" || typeof target === "string") continue;
    const js = target.import?.default;
    if (js) out.push(path.join(root, js.replace(/^\.\/dist\/esm\//, "src/").replace(/\.js$/, ".ts")));
  }
  return out;
}

function analyse(): { missing: string[]; internal: string[] } {
  const files = entries();
  const program = ts.createProgram(files, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, experimentalDecorators: true, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const exported = new Set<ts.Symbol>();
  const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const roots: Array<[string, ts.Symbol]> = [];
  for (const f of files) {
    const sf = program.getSourceFile(f)!;
    const mod = checker.getSymbolAtLocation(sf)!;
    for (const s of checker.getExportsOfModule(mod)) {
      const real = resolve(s);
      exported.add(real);
      roots.push([`${path.relative(root, f)}#${s.name}`, real]);
    }
  }
  const missing = new Set<string>();
  const internal: string[] = [];
  const seen = new Set<ts.Node>();
  const visit = (node: ts.Node, where: string): void => {
    if (seen.has(node)) return;
    seen.add(node);
    // Private members, function bodies and initializers are implementation, not API.
    if ((ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) &&
      (ts.isPrivateIdentifier(node.name) || ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Private)) return;
    if (ts.isBlock(node) || (ts.isVariableDeclaration(node) && node.initializer && node.type)) {
      if (ts.isVariableDeclaration(node)) visit(node.type!, where);
      return;
    }
    // (`typeof VALUE` is left out: the value is what the exported type was derived from, not something to name.)
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) {
      const name = ts.isTypeReferenceNode(node) ? node.typeName : node.expression;
      const sym = checker.getSymbolAtLocation(name);
      if (sym) {
        const real = resolve(sym);
        for (const d of real.declarations ?? []) {
          const file = d.getSourceFile().fileName;
          if (!file.startsWith(path.join(root, "src"))) continue;
          // Type parameters and names declared inside a signature are local.
          if (ts.isTypeParameterDeclaration(d)) continue;
          if (!exported.has(real)) missing.add(`${real.name} (${path.relative(root, file)}), used by ${where}`);
          else if (!seen.has(d)) visit(d, where);
        }
      }
    }
    ts.forEachChild(node, (c) => visit(c, where));
  };
  for (const [where, s] of roots) {
    for (const d of s.declarations ?? []) {
      if (ts.getJSDocTags(d).some((t) => t.tagName.text === "internal")) internal.push(where);
      visit(d, where);
    }
  }
  return { missing: [...missing].sort(), internal };
}

test("every type the public API mentions is exported, and nothing @internal is", () => {
  const { missing, internal } = analyse();
  assert.deepEqual(missing, [], "types users meet in the API but cannot import");
  assert.deepEqual(internal, [], "exports marked @internal");
});

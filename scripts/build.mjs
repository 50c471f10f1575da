// Build ESM (dist/esm) and CommonJS (dist/cjs) with declarations for each, from one source tree.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";

const tsc = ["node_modules/typescript/bin/tsc"];
rmSync("dist", { recursive: true, force: true });
execFileSync(process.execPath, [...tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });
execFileSync(process.execPath, [...tsc, "-p", "tsconfig.build.json", "--outDir", "dist/cjs", "--module", "commonjs", "--moduleResolution", "node10"], { stdio: "inherit" });
writeFileSync("dist/esm/package.json", JSON.stringify({ type: "module" }) + "\n");
writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }) + "\n");
console.log("built dist/esm and dist/cjs");

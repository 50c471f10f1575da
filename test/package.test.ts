// The package as users get it: `npm pack`, install the tarball into a scratch app next to Express 4
// and Express 5, import it from ESM and CommonJS (with types), and publish through it to the emulator.
// Its footprint: the exact packages it brings, their size, and that no install script runs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, writeFileSync, readdirSync, rmSync, existsSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTestTopic, type TestTopic } from "./helpers/pubsub.js";
import { startMetadataServer, GOOD_KEY, PROJECT_ID, type MetadataServer } from "./helpers/metadata.js";
import { b64json } from "./helpers/server.js";

const root = path.resolve(import.meta.dirname, "..");
let dir: string;
let topic: TestTopic;
let meta: MetadataServer;
let installOutput = "";

const SUBPATHS = [".", "./express", "./fastify", "./koa", "./hono", "./nest", "./next", "./adonis", "./http", "./axios", "./viewer"];

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "apitoolkit-pack-"));
  if (!existsSync(path.join(root, "dist/esm/index.js"))) {
    execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "ignore" });
  }
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: root, encoding: "utf8" });
  const tarball = path.join(dir, JSON.parse(out)[0].filename);
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true, version: "1.0.0" }));
  // --foreground-scripts: any install script that runs prints its "> name@version script" line here.
  const install = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--foreground-scripts", "--loglevel=warn", tarball, "express4@npm:express@^4", "express5@npm:express@^5"], {
    cwd: dir,
    encoding: "utf8",
  });
  installOutput = `${install.stdout}${install.stderr}`;
  assert.equal(install.status, 0, `npm install of the tarball failed:\n${installOutput}`);
  topic = await createTestTopic("pack");
  meta = await startMetadataServer(topic.topicId, { delayMs: 300 });
});

after(async () => {
  await meta?.close();
  await topic?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the tarball holds dist only, with ESM, CJS and types for every subpath", () => {
  const pkgDir = path.join(dir, "node_modules/apitoolkit-node");
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  assert.equal(existsSync(path.join(dir, "node_modules/@google-cloud/pubsub")), false, "the Google Pub/Sub client is not installed with the SDK");
  assert.deepEqual(readdirSync(pkgDir).sort(), ["LICENSE", "README.md", "dist", "package.json"].filter((f) => existsSync(path.join(pkgDir, f))).sort());
  for (const sub of SUBPATHS) {
    const entry = pkg.exports[sub];
    assert.ok(entry, `exports ${sub}`);
    for (const kind of ["import", "require"] as const) {
      for (const file of [entry[kind].types, entry[kind].default]) {
        assert.ok(existsSync(path.join(pkgDir, file)), `${sub} ${kind} ${file} exists in the tarball`);
      }
    }
  }
});

/** What installing the SDK brings: the packages of its subtree in `npm ls` (name@version), deduped ones included. */
function sdkTree(): Map<string, string> {
  const ls = JSON.parse(execFileSync("npm", ["ls", "--all", "--json"], { cwd: dir, encoding: "utf8" })) as { dependencies: Record<string, Tree> };
  interface Tree { version?: string; dependencies?: Record<string, Tree> }
  const found = new Map<string, string>();
  const walk = (name: string, t: Tree): void => {
    if (t.version !== undefined) found.set(name, t.version);
    for (const [n, sub] of Object.entries(t.dependencies ?? {})) walk(n, sub);
  };
  walk("apitoolkit-node", ls.dependencies["apitoolkit-node"]!);
  return found;
}

/** Bytes on disk of a folder (files' sizes). */
function bytesOf(folder: string): number {
  let total = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const p = path.join(folder, entry.name);
    if (entry.isDirectory()) total += bytesOf(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

/** Every package installed under the scratch app (hoisted or nested), with its folder and scripts. */
function installed(under = path.join(dir, "node_modules")): Array<{ name: string; version: string; dir: string; scripts: Record<string, string> }> {
  const out: ReturnType<typeof installed> = [];
  if (!existsSync(under)) return out;
  for (const entry of readdirSync(under)) {
    if (entry.startsWith(".")) continue;
    const dirs = entry.startsWith("@") ? readdirSync(path.join(under, entry)).map((e) => path.join(under, entry, e)) : [path.join(under, entry)];
    for (const d of dirs) {
      const manifest = path.join(d, "package.json");
      if (!existsSync(manifest)) continue;
      const { name, version, scripts } = JSON.parse(readFileSync(manifest, "utf8")) as { name: string; version: string; scripts?: Record<string, string> };
      out.push({ name, version, dir: d, scripts: scripts ?? {} }, ...installed(path.join(d, "node_modules")));
    }
  }
  return out;
}

test("footprint: the SDK brings json-p3 and the proxy libraries only (no gRPC, protobufjs or @types), under 5 MB, and runs no install script", () => {
  const tree = sdkTree();
  assert.deepEqual([...tree.keys()].sort(), ["agent-base", "apitoolkit-node", "debug", "http-proxy-agent", "https-proxy-agent", "json-p3", "ms", "proxy-from-env"],
    `npm ls apitoolkit-node: ${JSON.stringify(Object.fromEntries(tree))}`);
  const all = installed();
  for (const absent of ["@grpc/grpc-js", "protobufjs", "@types/node", "@opentelemetry/otlp-transformer"]) {
    assert.deepEqual(all.filter((p) => p.name === absent).map((p) => p.dir), [], `${absent} is not installed`);
  }
  let bytes = 0;
  const LIFECYCLE = ["preinstall", "install", "postinstall", "prepare"];
  for (const [name, version] of tree) {
    const copy = all.find((p) => p.name === name && p.version === version);
    assert.ok(copy, `${name}@${version} is on disk`);
    bytes += bytesOf(copy.dir);
    // No lifecycle script of the SDK or of what it brings runs on the user's install (nor is there one to approve).
    assert.deepEqual(LIFECYCLE.filter((k) => k in copy.scripts), [], `${name}@${version} has no install script`);
  }
  console.log(`# footprint: ${tree.size} packages, ${(bytes / 1e6).toFixed(2)} MB (${[...tree].map(([n, v]) => `${n}@${v}`).join(", ")})`);
  assert.ok(bytes < 5_000_000, `${bytes} bytes installed`);
  assert.doesNotMatch(installOutput, /^> .*(preinstall|install|postinstall|prepare)$/m, `no script ran:\n${installOutput}`);
  assert.doesNotMatch(installOutput, /install-scripts/, `npm names no install script to approve:\n${installOutput}`);
});

test("OTLP over gRPC without @grpc/grpc-js (an optional peer): the exporter is not created and the error names the package to install", async () => {
  const senders = path.join(dir, "node_modules/apitoolkit-node/dist/esm/transport/otlp/senders.js");
  const result = await runScratch("grpc.mjs", `const { grpcSender } = await import(${JSON.stringify(senders)});
try { await grpcSender("http://127.0.0.1:4317", {}, 1000); console.log(JSON.stringify({ created: true })); }
catch (e) { console.log(JSON.stringify({ created: false, message: e.message })); }`, {}) as { created: boolean; message?: string };
  assert.deepEqual(result, { created: false, message: "OTLP over gRPC needs the optional package @grpc/grpc-js: npm install @grpc/grpc-js" });
});

// Asynchronous on purpose: the client_metadata stand-in lives in this process and must keep answering.
async function runScratch(file: string, source: string, env: Record<string, string>): Promise<unknown> {
  writeFileSync(path.join(dir, file), source);
  const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: dir, encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

const APP = (imp: string, express: string) => `
${imp}
const apitoolkit = new APIToolkit({ apiKey: process.env.KEY, rootURL: process.env.ROOT, redactRequestBody: ["$.password"], redactHeaders: ["x-secret"], publishIntervalMs: 20, monitorOutgoing: false, logger: { info() {}, warn() {}, error() {} } });
const app = ${express}();
app.use(${express}.json());
app.use(expressMiddleware(apitoolkit));
app.post("/items/:id", (req, res) => res.json({ ok: true, id: req.params.id }));
app.use(expressErrorHandler(apitoolkit));
const server = app.listen(0, "127.0.0.1", async () => {
  const url = "http://127.0.0.1:" + server.address().port;
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    const r = await fetch(url + "/items/" + i + "?v=" + process.env.VARIANT, { method: "POST", headers: { "content-type": "application/json", "x-secret": "hdr-secret" }, body: JSON.stringify({ password: "pw-secret", n: i }) });
    statuses.push(r.status);
    await r.text();
  }
  const flushed = await apitoolkit.flush(10000);
  await apitoolkit.close(5000);
  server.close();
  console.log(JSON.stringify({ statuses, flushed, stats: apitoolkit.stats() }));
});
`;

for (const [variant, file, imp, express] of [
  ["esm-express4", "app4.mjs", `import express4 from "express4"; import { APIToolkit } from "apitoolkit-node"; import { expressMiddleware, expressErrorHandler } from "apitoolkit-node/express";`, "express4"],
  ["cjs-express5", "app5.cjs", `const express5 = require("express5"); const { APIToolkit } = require("apitoolkit-node"); const { expressMiddleware, expressErrorHandler } = require("apitoolkit-node/express");`, "express5"],
] as const) {
  test(`installed tarball, ${variant}: one redacted message per request on the emulator`, async () => {
    const result = await runScratch(file, APP(imp, express), { KEY: GOOD_KEY, ROOT: meta.url, VARIANT: variant, PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST! }) as {
      statuses: number[];
      flushed: boolean;
      stats: { published: number; captured: number };
    };
    assert.deepEqual(result.statuses, [200, 200, 200]);
    assert.equal(result.flushed, true);
    assert.equal(result.stats.published, 3);
    const msgs = (await topic.pull(3)).filter((m) => m.raw_url.endsWith(`v=${variant}`));
    assert.equal(msgs.length, 3);
    for (const m of msgs) {
      assert.equal(m.project_id, PROJECT_ID);
      assert.equal(m.url_path, "/items/:id");
      assert.deepEqual(m.request_headers["x-secret"], ["[CLIENT_REDACTED]"]);
      assert.equal((b64json(m.request_body) as { password: string }).password, "[CLIENT_REDACTED]");
      assert.ok(!JSON.stringify(m).includes("hdr-secret"));
    }
  });
}

test("every subpath loads from ESM and CommonJS", async () => {
  const names = SUBPATHS.map((s) => (s === "." ? "apitoolkit-node" : `apitoolkit-node/${s.slice(2)}`));
  const esm = await runScratch("load.mjs", `const out = {}; for (const n of ${JSON.stringify(names)}) { try { out[n] = Object.keys(await import(n)).sort(); } catch (e) { out[n] = "ERR " + e.message; } } console.log(JSON.stringify(out));`, {}) as Record<string, unknown>;
  const cjs = await runScratch("load.cjs", `const out = {}; for (const n of ${JSON.stringify(names)}) { try { out[n] = Object.keys(require(n)).sort(); } catch (e) { out[n] = "ERR " + e.message; } } console.log(JSON.stringify(out));`, {}) as Record<string, unknown>;
  for (const n of names) {
    if (n.endsWith("/nest") || n.endsWith("/next") || n.endsWith("/axios")) continue; // need their framework installed
    assert.ok(Array.isArray(esm[n]) && (esm[n] as string[]).length > 0, `ESM ${n}: ${String(esm[n])}`);
    assert.deepEqual(cjs[n], esm[n], `CJS ${n} exports the same names`);
  }
  assert.ok((esm["apitoolkit-node"] as string[]).includes("APIToolkit"));
  assert.ok((esm["apitoolkit-node/express"] as string[]).includes("expressMiddleware"));
});

test("types resolve for ESM and CommonJS consumers (TypeScript, NodeNext)", () => {
  writeFileSync(path.join(dir, "check.mts"), `import { APIToolkit, reportError, type Stats } from "apitoolkit-node";
import { expressMiddleware } from "apitoolkit-node/express";
const a = new APIToolkit({ apiKey: "k", redactRequestBody: ["$.password"] });
const s: Stats = a.stats();
const n: number = s.published;
expressMiddleware(a);
reportError(new Error(String(n)));
// @ts-expect-error unknown options are a type error too
new APIToolkit({ nope: true });
`);
  writeFileSync(path.join(dir, "check.cts"), `import sdk = require("apitoolkit-node");
import express = require("apitoolkit-node/express");
const a = new sdk.APIToolkit({ apiKey: "k" });
express.expressMiddleware(a);
const p: Promise<boolean> = a.flush(100);
void p;
`);
  const tsc = path.join(root, "node_modules/typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022",
    "--typeRoots", path.join(root, "node_modules/@types"), "--types", "node", "check.mts", "check.cts"], { cwd: dir, encoding: "utf8" });
});

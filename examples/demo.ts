// `npm run demo`: the SDK end to end on this machine.
//  1. starts the Pub/Sub emulator (or, when it is not installed, falls back to a local in-process sink),
//  2. starts a stand-in for APIToolkit's client_metadata endpoint,
//  3. runs the example Express app with the SDK, sends it traffic with secrets in it,
//  4. prints every published message, decoded, so the redaction is visible, and exits.
// The SDK's live viewer runs alongside: open the URL it prints to see each exchange, redacted, as it is published.
// `npm run demo -- --keep` leaves the app running on http://127.0.0.1:3000 (or $PORT) to try by hand,
// with the viewer, and a little demo traffic every few seconds;
// `npm run demo -- --local` skips Pub/Sub and prints what would have been published.
// `npm run demo -- --otlp` (or `--otlp=grpc`) delivers over OpenTelemetry instead: a local OTLP
// receiver decodes each span (with the official opentelemetry-proto files, from ../shared or
// OTLP_PROTO_DIR) and the demo prints them, no client_metadata and no Pub/Sub involved.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { APIToolkit, type WireMessage } from "../src/index.js";
import { createExampleApp, exampleOptions } from "./express/app.js";
import { startEmulator } from "../scripts/emulator.mjs";
import { startOtlpReceiver } from "../test/helpers/otlp-receiver.js";

const keep = process.argv.includes("--keep");
const PROJECT = "apitoolkit-demo";
const TOPIC = "apitoolkit-demo-topic";
const API_KEY = "demo-api-key";

/** The demo's requests, each carrying a secret the SDK must redact (the same for both delivery paths). */
const TRAFFIC: Array<[string, RequestInit | undefined]> = [
  ["/users/42?fields=name&fields=email", { headers: { authorization: "Bearer user-session-SECRET", "x-api-key": "ak_live_SECRET" } }],
  ["/login", { method: "POST", headers: { "content-type": "application/json", cookie: "sid=SECRET-COOKIE" }, body: JSON.stringify({ username: "ada", password: "correct-horse-SECRET" }) }],
  ["/payments", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ amount: 1200, card: { number: "4242424242424242", cvv: "123", expiry: "12/30" } }) }],
  ["/fail", undefined],
  ["/warn", undefined],
  ["/not-a-route", undefined],
];

/** Send TRAFFIC to the app at `base`, one request at a time, printing each status. */
async function sendTraffic(base: string): Promise<void> {
  for (const [path, init] of TRAFFIC) {
    const res = await fetch(base + path, init);
    console.log(`${init?.method ?? "GET"} ${path} -> ${res.status}`);
    await res.arrayBuffer();
  }
}

async function main() {
  const otlpFlag = process.argv.find((a) => a === "--otlp" || a.startsWith("--otlp="));
  if (otlpFlag) return otlpDemo(otlpFlag === "--otlp=grpc" ? "grpc" : "http/protobuf");
  let emulator: { host: string; stop(): Promise<void> } | undefined;
  if (process.argv.includes("--local")) {
    delete process.env.PUBSUB_EMULATOR_HOST;
    console.log("--local: publishing to a local in-process sink instead of Pub/Sub.");
  } else if (process.env.PUBSUB_EMULATOR_HOST) {
    console.log(`Using the Pub/Sub emulator at ${process.env.PUBSUB_EMULATOR_HOST}`);
  } else {
    try {
      console.log("Starting the Pub/Sub emulator ...");
      emulator = await startEmulator();
      process.env.PUBSUB_EMULATOR_HOST = emulator!.host;
      console.log(`Pub/Sub emulator on ${emulator!.host}`);
    } catch (err) {
      console.log(`No Pub/Sub emulator (${(err as Error).message.split(":")[0]}): falling back to a local in-process sink.`);
    }
  }

  // Where the published messages are read back from.
  const local: Buffer[] = [];
  let pullAll: (expected: number) => Promise<WireMessage[]>;
  let closeReader = async () => {};
  if (process.env.PUBSUB_EMULATOR_HOST) {
    const { PubSub } = await import("@google-cloud/pubsub");
    // Placeholder credentials: the emulator ignores them, and they spare a GCE metadata probe.
    const pubsub = new PubSub({ projectId: PROJECT, credentials: { client_email: "reader@example.com", private_key: "unused" } });
    const [topic] = await pubsub.topic(TOPIC).get({ autoCreate: true });
    // A subscription of this run only: it sees exactly what this run publishes.
    const [sub] = await topic.createSubscription(`${TOPIC}-reader-${process.pid}-${Date.now()}`);
    const received: WireMessage[] = [];
    sub.on("message", (m) => {
      m.ack();
      received.push(JSON.parse(m.data.toString("utf8")));
    });
    // Wait for the messages to arrive (a subscriber can take a moment to start), at most 15 s.
    pullAll = async (expected) => {
      const deadline = Date.now() + 15_000;
      while (received.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return received;
    };
    closeReader = async () => {
      await sub.close();
      await sub.delete().catch(() => undefined);
      await pubsub.close();
    };
  } else {
    pullAll = async () => local.map((b) => JSON.parse(b.toString("utf8")));
  }

  // Stand-in for GET https://app.apitoolkit.io/api/client_metadata
  const metadata = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${API_KEY}`) return res.writeHead(401).end();
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({
      project_id: "00000000-0000-4000-8000-0000000000de",
      pubsub_project_id: PROJECT,
      topic_id: TOPIC,
      pubsub_push_service_account: { type: "service_account", client_email: "demo@example.iam.gserviceaccount.com", private_key: "unused-on-the-emulator" },
    }));
  });
  await new Promise<void>((r) => metadata.listen(0, "127.0.0.1", r));
  const metaURL = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}`;

  const apitoolkit = new APIToolkit({
    apiKey: API_KEY,
    rootURL: metaURL,
    ...exampleOptions,
    publishIntervalMs: 50,
    monitorOutgoing: false, // the demo's traffic generator shares the process; its fetch calls are not the app's
    viewer: true, // the live viewer, on a free loopback port: it gets the same bytes as Pub/Sub
    ...(process.env.PUBSUB_EMULATOR_HOST ? {} : { transport: () => ({ send: async (m: Buffer[]) => void local.push(...m), close: async () => {} }) }),
  });

  const server = http.createServer(createExampleApp(apitoolkit));
  await new Promise<void>((r) => server.listen(keep ? Number(process.env.PORT ?? 3000) : 0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const viewerURL = await apitoolkit.viewerURL();
  console.log(`Example Express app on ${base}`);
  console.log(`Live viewer on ${viewerURL} (open it in a browser: each exchange appears as it is published, redacted)\n`);

  await sendTraffic(base);

  await apitoolkit.flush(5000);
  const messages = await pullAll(TRAFFIC.length);
  console.log(`\n${messages.length} message(s) published${process.env.PUBSUB_EMULATOR_HOST ? " to the Pub/Sub emulator" : " to the local sink"}, decoded:\n`);
  const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
  const sorted = messages.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  if (sorted[0]) {
    console.log("The first one as published (wire format; bodies are base64):");
    console.log(JSON.stringify(sorted[0], null, 2));
    console.log("\nAll of them, with the bodies decoded and the headers that were redacted:");
  }
  for (const m of sorted) {
    const redactedHeaders = Object.entries({ ...m.request_headers, ...m.response_headers })
      .filter(([, v]) => v[0] === "[CLIENT_REDACTED]")
      .map(([k]) => k);
    console.log(`\n${m.method} ${m.raw_url} -> ${m.status_code}  url_path=${JSON.stringify(m.url_path)}  path_params=${JSON.stringify(m.path_params)}  duration=${(m.duration / 1e6).toFixed(2)} ms`);
    if (Object.keys(m.query_params).length) console.log(`  query_params:  ${JSON.stringify(m.query_params)}`);
    if (redactedHeaders.length) console.log(`  redacted headers: ${redactedHeaders.join(", ")}`);
    if (m.request_body) console.log(`  request_body:  ${decode(m.request_body)}`);
    console.log(`  response_body: ${decode(m.response_body).replace(/\s+/g, " ").slice(0, 160)}`);
    for (const e of m.errors) console.log(`  error: ${e.error_type}: ${e.message} (root: ${e.root_error_type}: ${e.root_error_message})`);
  }
  const published = JSON.stringify(messages.map((m) => [m, Buffer.from(m.request_body, "base64").toString(), Buffer.from(m.response_body, "base64").toString()]));
  const leaked = ["SECRET", "4242424242424242", '"123"'].filter((s) => published.includes(s));
  console.log(leaked.length ? `\nLEAKED: ${leaked.join(", ")}` : "\nNo secret (tokens, cookies, passwords, card number, cvv) left the process: all show [CLIENT_REDACTED].");
  console.log("stats:", JSON.stringify(apitoolkit.stats()));

  if (keep) {
    console.log(`\nThe app keeps running on ${base}, the live viewer on ${viewerURL} (Ctrl-C to stop).`);
    console.log("Demo traffic goes on every 3 s; send your own too, e.g. curl -H 'authorization: Bearer x' " + base + "/users/7");
    let next = 0;
    setInterval(() => {
      const [path, init] = TRAFFIC[next++ % TRAFFIC.length]!;
      fetch(base + path, init).then((r) => r.arrayBuffer(), () => undefined).catch(() => undefined);
    }, 3000);
    return;
  }
  console.log("\nRun `npm run demo -- --keep` to keep the app and the viewer running and watch the traffic arrive.");
  await apitoolkit.close(3000);
  await closeReader();
  server.close();
  metadata.close();
  await emulator?.stop();
  process.exitCode = leaked.length ? 1 : 0;
}

/** `--otlp`: the example app with `delivery: "otlp"`, its spans decoded by a local OTLP receiver. */
async function otlpDemo(protocol: "http/protobuf" | "grpc") {
  const receiver = await startOtlpReceiver(protocol);
  console.log(`OTLP receiver (${protocol}) on ${receiver.url}: it decodes every export with the official opentelemetry-proto definitions.`);
  const apitoolkit = new APIToolkit({
    apiKey: API_KEY, // sent as the resource attribute at-project-key; no client_metadata call
    ...exampleOptions,
    delivery: "otlp",
    otlp: { endpoint: receiver.url, protocol },
    publishIntervalMs: 50,
    monitorOutgoing: false,
  });
  const server = http.createServer(createExampleApp(apitoolkit));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`Example Express app on ${base}\n`);
  await sendTraffic(base);
  await apitoolkit.flush(5000);
  const spans = await receiver.waitForSpans(TRAFFIC.length).catch(() => receiver.spans());
  console.log(`\n${spans.length} span(s) received over OTLP (${receiver.exports.length} export request(s)), decoded:`);
  const decode = (b64: unknown) => Buffer.from(String(b64 ?? ""), "base64").toString("utf8");
  const KIND = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"];
  const STATUS = ["UNSET", "OK", "ERROR"];
  for (const s of spans.sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1))) {
    const a = s.attributes;
    const ms = Number(s.endTimeUnixNano - s.startTimeUnixNano) / 1e6;
    console.log(`\n${s.name} ${KIND[s.kind]} trace=${s.traceId} span=${s.spanId} status=${STATUS[s.status.code]} ${ms.toFixed(2)} ms`);
    console.log(`  ${a["http.request.method"]} ${a["http.target"]} -> ${a["http.response.status_code"]}  http.route=${JSON.stringify(a["http.route"])}  path_params=${a["http.request.path_params"]}`);
    const redacted = Object.entries(a).filter(([k, v]) => k.includes(".header.") && Array.isArray(v) && v[0] === "[CLIENT_REDACTED]").map(([k]) => k);
    if (redacted.length) console.log(`  redacted: ${redacted.join(", ")}`);
    if (a["http.request.body"]) console.log(`  http.request.body:  ${decode(a["http.request.body"])}`);
    console.log(`  http.response.body: ${decode(a["http.response.body"]).replace(/\s+/g, " ").slice(0, 160)}`);
    for (const e of s.events) console.log(`  event ${e.name}: ${e.attributes["exception.type"]}: ${e.attributes["exception.message"]}`);
  }
  const received = JSON.stringify(spans.map((s) => [s.attributes, s.events.map((e) => e.attributes), decode(s.attributes["http.request.body"]), decode(s.attributes["http.response.body"])]));
  const leaked = ["SECRET", "4242424242424242", '"123"'].filter((x) => received.includes(x));
  console.log(leaked.length ? `\nLEAKED: ${leaked.join(", ")}` : "\nNo secret (tokens, cookies, passwords, card number, cvv) left the process: all show [CLIENT_REDACTED].");
  console.log("resource:", JSON.stringify(spans[0]?.resource ?? {}));
  console.log("stats:", JSON.stringify(apitoolkit.stats()));
  await apitoolkit.close(3000);
  server.close();
  await receiver.close();
  process.exitCode = leaked.length || spans.length !== TRAFFIC.length ? 1 : 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

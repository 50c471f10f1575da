// When the app runs OpenTelemetry (@opentelemetry/api with a context manager and an active span
// when the request starts, as its HTTP instrumentation makes it), the SDK's spans join that trace:
// the request's span is a child of the active span, an outgoing call's span a child of the
// request's, all in one trace id. The SDK's own exports run with OpenTelemetry's suppress-tracing
// key set, so the app's instrumentations do not trace them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import diagnostics from "node:diagnostics_channel";
import { AsyncLocalStorage } from "node:async_hooks";
import { context, trace, ROOT_CONTEXT, TraceFlags, type Context, type ContextManager } from "@opentelemetry/api";
import express from "express5";
import Fastify from "fastify5";
import type { AddressInfo } from "node:net";
import { APIToolkit } from "../src/index.js";
import { expressMiddleware } from "../src/integrations/express/index.js";
import { fastifyPlugin } from "../src/integrations/fastify/index.js";
import { startOtlpReceiver, type OtlpReceiver } from "./helpers/otlp-receiver.js";
import { listen, rawRequest } from "./helpers/server.js";
import { quietLogger } from "./helpers/logger.js";

/** The context manager an OpenTelemetry SDK registers (AsyncLocalStorage-based), in a few lines. */
class AlsContextManager implements ContextManager {
  private readonly als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.als.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.als.disable();
    return this;
  }
}

const SUPPRESS = Symbol.for("OpenTelemetry SDK Context Key SUPPRESS_TRACING");
/** The span an HTTP instrumentation would have started for the incoming request. */
const INSTRUMENTED = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: TraceFlags.SAMPLED };
/** Each incoming request runs with INSTRUMENTED active, as under @opentelemetry/instrumentation-http. */
const instrumented = (listener: http.RequestListener): http.RequestListener =>
  (req, res) => context.with(trace.setSpanContext(ROOT_CONTEXT, INSTRUMENTED), () => listener(req, res));

let receiver: OtlpReceiver;
let upstream: Awaited<ReturnType<typeof listen>>;
/** For every node:http client request to the receiver: was tracing suppressed when it was made? */
const exportSuppressed: boolean[] = [];
const onClientRequest = (msg: unknown): void => {
  const req = (msg as { request: http.ClientRequest }).request;
  if (req.getHeader("host") === new URL(receiver.url).host) exportSuppressed.push(context.active().getValue(SUPPRESS) === true);
};

before(async () => {
  assert.ok(context.setGlobalContextManager(new AlsContextManager()), "the context manager is registered");
  receiver = await startOtlpReceiver("http/protobuf");
  upstream = await listen(http.createServer((_req, res) => res.end("up")));
  diagnostics.subscribe("http.client.request.start", onClientRequest);
});
after(async () => {
  diagnostics.unsubscribe("http.client.request.start", onClientRequest);
  context.disable();
  await upstream?.close();
  await receiver?.close();
});

for (const framework of ["Express", "Fastify"] as const) {
  test(`${framework}: the request's span joins the active OpenTelemetry span's trace, its outgoing call below it`, async () => {
    const apitoolkit = new APIToolkit({ apiKey: "k", delivery: "otlp", otlp: { endpoint: receiver.url }, publishIntervalMs: 20, logger: quietLogger });
    const call = async () => (await fetch(`${upstream.url}/down?f=${framework}`)).text();
    let srv: { url: string; close(): Promise<void> };
    if (framework === "Express") {
      const app = express();
      app.use(expressMiddleware(apitoolkit));
      app.get("/traced/:id", async (_req, res) => void res.send(await call()));
      srv = await listen(http.createServer(instrumented(app)));
    } else {
      const app = Fastify({ serverFactory: (handler) => http.createServer(instrumented(handler)) });
      await app.register(fastifyPlugin(apitoolkit));
      app.get("/traced/:id", async () => call());
      await app.listen({ port: 0, host: "127.0.0.1" });
      srv = { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
    }
    const before = receiver.spans().length;
    try {
      assert.equal((await rawRequest(`${srv.url}/traced/9`)).body, "up");
      await apitoolkit.flush(5000);
      const spans = (await receiver.waitForSpans(before + 3)).slice(before);
      const server = spans.find((s) => s.kind === 2 && s.attributes["http.route"] === "/traced/:id");
      const down = spans.find((s) => s.kind === 3 && s.attributes["http.target"] === `/down?f=${framework}`);
      assert.ok(server && down, "the request's span and its outgoing call's span");
      assert.equal(server.traceId, INSTRUMENTED.traceId, "the request's span is in the instrumentation's trace");
      assert.equal(server.parentSpanId, INSTRUMENTED.spanId, "as a child of the span active when the request started");
      assert.equal(down.traceId, INSTRUMENTED.traceId, "the outgoing call too");
      assert.equal(down.parentSpanId, server.spanId, "as a child of the request's span");
      assert.equal(down.parentSpanId, server.spanId, "the outgoing call's span is the request span's child");
      // The test's own request (made outside any span) is a root span of its own trace.
      const own = spans.find((s) => s.kind === 3 && s.attributes["http.target"] === "/traced/9")!;
      assert.equal(own.parentSpanId, "");
      assert.notEqual(own.traceId, INSTRUMENTED.traceId);
    } finally {
      await srv.close();
      await apitoolkit.close(2000);
    }
  });
}

test("the SDK's own OTLP exports are made with OpenTelemetry's suppress-tracing key set", () => {
  assert.ok(exportSuppressed.length > 0, "exports were observed");
  assert.ok(exportSuppressed.every(Boolean), "instrumentations see tracing suppressed on every export");
});

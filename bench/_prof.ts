import { messagesOf, template } from "./otlp-micro.js";
import { BENCH_EXCHANGES } from "./exchanges.js";
import { BufferPool, encodeRequests, requestTemplate } from "../src/transport/otlp/encode.js";
const ours = requestTemplate(template);
const messages = messagesOf(BENCH_EXCHANGES[0]![1], 200);
const pool = new BufferPool();
const t0 = Date.now();
let n = 0;
while (Date.now() - t0 < 4000) { encodeRequests(messages, ours, 4 << 20, [], pool).forEach((p) => pool.give(p.memory)); n++; }
console.log(((Date.now() - t0) * 1000 / n / 200).toFixed(2), "us/msg");

/**
 * Egress proxies for the SDK's own HTTPS calls (the Pub/Sub REST publisher): the standard
 * `HTTPS_PROXY` / `https_proxy` and `NO_PROXY` / `no_proxy` variables, as curl and Google's client
 * libraries read them, and an https.Agent that opens each connection as a CONNECT tunnel through
 * the proxy, then TLS to the real host inside it (the proxy sees only the host name and port).
 */
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import type { Duplex } from "node:stream";

/** `HOST:PORT` of a URL, the port made explicit. */
function hostPort(url: URL): { host: string; port: number } {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  return { host, port };
}

/** Whether `NO_PROXY` exempts `host:port`: `*`, a host, `.domain` or `domain` (and its subdomains), each with an optional `:port`. */
export function exempt(host: string, port: number, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const h = host.toLowerCase();
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    const colon = entry.lastIndexOf(":");
    if (colon > 0 && /^\d+$/.test(entry.slice(colon + 1)) && !entry.includes("]", colon)) {
      if (Number(entry.slice(colon + 1)) !== port) continue;
      entry = entry.slice(0, colon);
    }
    entry = entry.replace(/^\*?\./, "").replace(/^\[(.*)\]$/, "$1");
    if (h === entry || h.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/**
 * The proxy an HTTPS call to `target` goes through, from `env`: `HTTPS_PROXY` (or `https_proxy`)
 * unless `NO_PROXY` (or `no_proxy`) exempts the host. A value without a scheme is taken as
 * `http://`. Undefined: connect directly. Throws on a value that is not a URL.
 */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv): URL | undefined {
  if (target.protocol !== "https:") return undefined;
  const value = env.HTTPS_PROXY ?? env.https_proxy;
  if (value === undefined || value.trim() === "") return undefined;
  const { host, port } = hostPort(target);
  if (exempt(host, port, env.NO_PROXY ?? env.no_proxy)) return undefined;
  const proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim()) ? value.trim() : `http://${value.trim()}`);
  if (proxy.protocol !== "http:" && proxy.protocol !== "https:") throw new Error(`HTTPS_PROXY must be an http:// or https:// URL, not ${proxy.protocol}`);
  return proxy;
}

/** The proxy with its credentials hidden, for messages. */
function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

type Callback = (err: Error | null, socket?: Duplex) => void;

/** An https.Agent whose connections are CONNECT tunnels through `proxy` (keep-alive and maxSockets as given). */
class TunnelingAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    private readonly connectTimeoutMs: number,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  // Node's Agent takes the socket from the callback when createConnection returns nothing.
  override createConnection(options: tls.ConnectionOptions & { host?: string; port?: number }, callback: Callback): undefined {
    const target = `${options.host}:${options.port}`;
    const { host, port } = hostPort(this.proxy);
    const headers: Record<string, string> = { host: target };
    if (this.proxy.username !== "") {
      const user = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers["proxy-authorization"] = `Basic ${Buffer.from(user).toString("base64")}`;
    }
    const client = this.proxy.protocol === "https:" ? https : http;
    let done = false;
    const finish = (err: Error | null, socket?: Duplex): void => {
      if (done) return;
      done = true;
      callback(err, socket);
    };
    const req = client.request({ host, port, method: "CONNECT", path: target, headers, agent: false, servername: this.proxy.protocol === "https:" ? host : undefined });
    req.setTimeout(this.connectTimeoutMs, () => req.destroy(new Error(`the proxy ${proxyLabel(this.proxy)} did not open a tunnel to ${target} within ${this.connectTimeoutMs} ms`)));
    req.once("connect", (res, socket, head) => {
      req.setTimeout(0);
      if (res.statusCode !== 200) {
        socket.destroy();
        finish(new Error(`the proxy ${proxyLabel(this.proxy)} answered CONNECT ${target} with HTTP ${res.statusCode}`));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      const secure = tls.connect({ ...options, socket, servername: options.servername ?? (options.host as string) });
      finish(null, secure);
    });
    req.once("error", (err) => finish(err));
    req.end();
    return undefined;
  }
}

/**
 * The agent for HTTPS calls to `target`: a tunneling one when `env` names a proxy for it, else a
 * plain https.Agent with `options`.
 */
export function httpsAgentFor(target: URL, env: NodeJS.ProcessEnv, connectTimeoutMs: number, options: https.AgentOptions): https.Agent {
  const proxy = proxyFor(target, env);
  return proxy ? new TunnelingAgent(proxy, connectTimeoutMs, options) : new https.Agent(options);
}

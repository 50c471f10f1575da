/**
 * Egress proxies for every call the SDK makes (client_metadata, Pub/Sub, OTLP over HTTP and gRPC),
 * read from the environment as curl and `proxy-from-env` read it: `https_proxy`/`HTTPS_PROXY` for
 * an https:// target, `http_proxy`/`HTTP_PROXY` for http://, `all_proxy`/`ALL_PROXY` for either
 * (lower case first), unless `no_proxy`/`NO_PROXY` exempts the host. The tunnelling itself is
 * `https-proxy-agent` (CONNECT, then TLS to the host inside the tunnel: the proxy sees the host
 * name and port only) and `http-proxy-agent` (plain http:// targets, forwarded as absolute URLs).
 * gRPC opens its own CONNECT tunnel (grpc-js), to the proxy chosen here (`grpcProxyOptions`).
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { getProxyForUrl } from "proxy-from-env";
import { HttpsProxyAgent } from "https-proxy-agent";
import { HttpProxyAgent } from "http-proxy-agent";

/** The proxy with its credentials hidden, for messages. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/**
 * The proxy a call to `target` goes through, from process.env; undefined: connect directly.
 * A value without a scheme is taken as `http://` (as curl does). Throws, naming the variable's
 * value without its credentials, when it is not an http:// or https:// URL.
 */
export function proxyFor(target: URL): URL | undefined {
  const found = getProxyForUrl(target.href);
  if (!found) return undefined;
  // proxy-from-env gives a value without a scheme the target's; curl (and this SDK) take http://.
  const scheme = target.protocol.slice(0, -1);
  const given = [`${scheme}_proxy`, `${scheme.toUpperCase()}_PROXY`, "all_proxy", "ALL_PROXY"].some((k) => process.env[k] === found);
  const value = given ? found : `http://${found.slice(found.indexOf("://") + 3)}`;
  let proxy: URL;
  try {
    proxy = new URL(value);
  } catch {
    throw new Error(`the proxy for ${target.protocol}// calls (${value.replace(/\/\/[^@/]*@/, "//")}) is not a URL`);
  }
  if (proxy.protocol !== "http:" && proxy.protocol !== "https:") {
    throw new Error(`the proxy for ${target.protocol}// calls must be an http:// or https:// URL, not ${proxy.protocol}//`);
  }
  return proxy;
}

/**
 * The agent for calls to `target`: through the environment's proxy for it (CONNECT tunnel for
 * https://, forwarding for http://), else a plain agent; `options` (keep-alive, maxSockets, ca)
 * apply either way. Throws like proxyFor.
 */
export function agentFor(target: URL, options: https.AgentOptions): http.Agent {
  const proxy = proxyFor(target);
  const secure = target.protocol === "https:";
  if (!proxy) return secure ? new https.Agent(options) : new http.Agent(options);
  return secure ? new TunnelAgent(proxy, options) : new HttpProxyAgent(proxy, options);
}

/**
 * https-proxy-agent, with the TLS to the target as an https.Agent would make it: the agent's own
 * options (ca...) apply to it, not only to the proxy's TLS, and a target given by IP address is
 * checked against that address (the library would check it against "localhost").
 */
type ConnectOpts = Parameters<HttpsProxyAgent<string>["connect"]>[1];

class TunnelAgent extends HttpsProxyAgent<string> {
  constructor(proxy: URL, private readonly tlsOptions: https.AgentOptions) {
    super(proxy, tlsOptions);
  }

  override connect(req: http.ClientRequest, opts: ConnectOpts): ReturnType<HttpsProxyAgent<string>["connect"]> {
    const host = opts.host;
    const checked = typeof host === "string" && net.isIP(host) !== 0
      ? { checkServerIdentity: (_name: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(host, cert) }
      : {};
    return super.connect(req, { ...this.tlsOptions, ...checked, ...opts } as ConnectOpts);
  }
}

/**
 * Watches one request made with an agentFor agent. The returned function, given the answer's
 * status, returns the error to report when that answer is the proxy's refusal rather than the
 * server's (a CONNECT not answered 200; a forwarding proxy's 407), else undefined. A refusal is
 * transient: the proxy may let the call through later.
 */
export function proxyRefusal(req: http.ClientRequest, agent: http.Agent): (status: number) => Error | undefined {
  let connectStatus: number | undefined;
  req.once("proxyConnect", (res: { statusCode?: number }) => {
    connectStatus = res.statusCode;
  });
  return (status) => {
    let proxy: URL | undefined;
    if (agent instanceof HttpsProxyAgent && connectStatus !== undefined && connectStatus !== 200) proxy = agent.proxy;
    else if (agent instanceof HttpProxyAgent && status === 407) proxy = agent.proxy;
    if (!proxy) return undefined;
    return new Error(`the proxy ${proxyLabel(proxy)} refused the call (HTTP ${connectStatus ?? status})`);
  };
}

/**
 * grpc-js channel options for a channel to `target` (`https:` or `http:` host:port): with a proxy,
 * the address to dial is the proxy's and grpc-js opens a CONNECT tunnel to the target through it
 * (`grpc.http_connect_target`, credentials as `grpc.http_connect_creds`). grpc-js's own reading
 * of the environment (`grpc_proxy`, lower case only, no `ALL_PROXY`) is turned off, so that gRPC
 * follows the same rules as every other call. grpc-js speaks plain HTTP to a proxy: an https://
 * proxy throws. Throws like proxyFor.
 */
export function grpcProxyOptions(target: URL, port: string): { address: string; options: Record<string, string | number> } {
  const direct = `${target.hostname}:${port}`;
  const options: Record<string, string | number> = { "grpc.enable_http_proxy": 0 };
  const proxy = proxyFor(new URL(`${target.protocol}//${direct}`));
  if (!proxy) return { address: direct, options };
  if (proxy.protocol !== "http:") throw new Error(`OTLP over gRPC reaches a proxy over plain HTTP only (grpc-js): ${proxyLabel(proxy)} is not http://`);
  options["grpc.http_connect_target"] = `dns:${direct}`;
  options["grpc.default_authority"] = direct;
  if (proxy.username !== "" || proxy.password !== "") {
    options["grpc.http_connect_creds"] = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  }
  return { address: `${proxy.hostname}:${proxy.port || "80"}`, options };
}

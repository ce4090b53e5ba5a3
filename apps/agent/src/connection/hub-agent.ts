import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { proxyFor, redactProxy } from './proxy';
import { guardPin, tlsOptions, type TlsPolicy } from './tls-policy';

/**
 * How this agent reaches its hub: one `http.Agent` used by every connection to it (the enroll
 * and status requests and the WebSocket), so the proxy and the trust policy are applied by one
 * code path and cannot drift apart between them.
 */
export interface HubRoute {
  agent: http.Agent;
  /** The proxy used, without credentials, for logs; undefined when direct. */
  proxy?: string;
}

export function hubRoute(
  hubUrl: string,
  policy: TlsPolicy,
  findProxy: (url: string) => string | undefined = proxyFor,
): HubRoute {
  const proxy = findProxy(hubUrl);
  if (proxy !== undefined) return { agent: new TrustingProxyAgent(proxy, policy), proxy: redactProxy(proxy) };
  if (new URL(hubUrl).protocol === 'https:') return { agent: new (trustingHttpsAgentClass())(policy) };
  return { agent: new http.Agent() };
}

let trustingHttpsAgent: ReturnType<typeof defineTrustingHttpsAgent> | undefined;

/**
 * Defined on first use: extending `https.Agent` loads `https` and `tls`, which the bundle loads
 * only when needed (apps/agent/esbuild.mjs), so an agent of a plain-HTTP hub never does.
 */
function trustingHttpsAgentClass(): ReturnType<typeof defineTrustingHttpsAgent> {
  return (trustingHttpsAgent ??= defineTrustingHttpsAgent());
}

function defineTrustingHttpsAgent() {
  /** Direct HTTPS with the policy's CAs, and its pin checked on every new connection. */
  return class TrustingHttpsAgent extends https.Agent {
    constructor(private readonly policy: TlsPolicy) {
      // No TLS session cache: a resumed session would skip the certificate the pin is checked on.
      super({ ...tlsOptions(policy), maxCachedSessions: 0 });
    }

    override createConnection(
      options: https.RequestOptions,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      const socket = super.createConnection(options, callback);
      if (socket instanceof TLSSocket) guardPin(socket, this.policy);
      return socket;
    }
  };
}

/**
 * Through an HTTP CONNECT proxy (`HTTPS_PROXY`): the tunnel is opened by https-proxy-agent, and
 * TLS to the hub inside it follows the same policy as a direct connection.
 */
class TrustingProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly policy: TlsPolicy,
  ) {
    super(proxy);
  }

  override async connect(
    req: http.ClientRequest,
    opts: Parameters<HttpsProxyAgent<string>['connect']>[1],
  ): ReturnType<HttpsProxyAgent<string>['connect']> {
    const secure = opts.secureEndpoint === true;
    const socket = await super.connect(req, secure ? { ...opts, ...tlsOptions(this.policy) } : opts);
    // Attached right after tls.connect() returned inside super.connect: no I/O has happened yet.
    if (secure && socket instanceof TLSSocket) guardPin(socket, this.policy);
    return socket;
  }
}

import http from 'node:http';
import https from 'node:https';
import { PIN_MISMATCH, trustsHostStore } from './tls-policy';

export interface HubResponse {
  status: number;
  statusText: string;
  body: string;
}

export interface HubRequestOptions {
  method: 'GET' | 'POST';
  /** Sent as JSON. */
  json?: unknown;
  agent: http.Agent;
  timeoutMs: number;
}

/** Bodies the hub answers these calls with are small; anything bigger is not the hub. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * One HTTP request to the hub through the hub route's agent (node:http/https rather than fetch,
 * so the proxy and the TLS policy are the very ones the WebSocket uses).
 */
export function hubRequest(url: string, options: HubRequestOptions): Promise<HubResponse> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  const send = new URL(url).protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: options.method,
        agent: options.agent,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
        },
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            request.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Certificate problems an operator fixes with --ca-file or --pin (OpenSSL's verify codes). */
const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Why a connection to the hub failed, in a few words an operator can act on, e.g.
 * "connect ECONNREFUSED 127.0.0.1:8080" or "self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT):
 * the hub's certificate is not trusted; give --ca-file or --pin" (and where this Node reads the
 * host's certificate store, "or add its CA to the host's certificate store").
 */
export function describeConnectionError(error: unknown, timeoutMs?: number): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') {
    return timeoutMs === undefined ? 'no answer in time' : `no answer within ${timeoutMs / 1_000} s`;
  }
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined && UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    // Node 24 adds advice about its own --use-system-ca; the agent reads the host's store already.
    const message = error.message.replace(/; if the root CA is installed locally, try running Node\.js with --use-system-ca$/, '');
    const store = trustsHostStore() ? ", or add its CA to the host's certificate store" : '';
    return `${message} (${code}): the hub's certificate is not trusted; give --ca-file or --pin${store}`;
  }
  if (code === PIN_MISMATCH) return error.message;
  if (code !== undefined && !error.message.includes(code)) return `${error.message} (${code})`;
  return error.message;
}

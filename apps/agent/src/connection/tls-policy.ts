import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { errorMessage } from '../errors';

/**
 * How the agent trusts the hub's certificate, applied to every connection (enroll, status, the
 * socket). Neither set: the system's CAs, as any HTTPS client. `ca`: these CAs instead (a
 * self-signed hub's own certificate works too). `pin`: exactly this certificate, whoever signed
 * it: a matching self-signed one is accepted, a different one refused even if a CA trusts it.
 */
export interface TlsPolicy {
  /** PEM text of the CA file, read once at start. */
  ca?: string;
  /** 64 lowercase hex digits: the SHA-256 fingerprint of the hub's (leaf) certificate. */
  pin?: string;
}

/** A value given to `--pin` or `--ca-file` that cannot be used, worded for the operator. */
export class TlsSettingError extends Error {}

/** Error code of a connection refused because the hub's certificate does not match the pin. */
export const PIN_MISMATCH = 'ERR_OUTPOST_PIN_MISMATCH';

/**
 * `--pin` as stored: `sha256:<64 lowercase hex>`. Accepts what people paste: with or without
 * the `sha256:` prefix, colons optional, any case, and openssl's own
 * `sha256 Fingerprint=AB:CD:…` line (`openssl x509 -noout -fingerprint -sha256`).
 */
export function normalizePin(input: string): string {
  const hex = input
    .trim()
    .replace(/^sha256(\s+fingerprint)?\s*[:=]/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new TlsSettingError(
      `invalid --pin ${JSON.stringify(input)}: expected sha256:<fingerprint>, the 64 hex digits (colons optional) that ` +
        '`openssl x509 -noout -fingerprint -sha256 -in hub.crt` prints',
    );
  }
  return `sha256:${hex}`;
}

/** The hex digits of a stored pin (`sha256:<hex>`). */
export function pinHex(pin: string): string {
  return pin.replace(/^sha256:/, '');
}

/** Compares a pin (hex) with a certificate's `fingerprint256` (`AB:CD:…`, as Node reports it). */
export function fingerprintMatches(pinHexDigits: string, fingerprint256: string): boolean {
  return fingerprint256.replace(/:/g, '').toLowerCase() === pinHexDigits.toLowerCase();
}

/** An absolute path for the config file, so the service finds the CA file whatever its working directory. */
export function absoluteCaFile(path: string, cwd: string = process.cwd()): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/** Reads the CA file named by the config; refuses one without a PEM certificate in it. */
export async function loadTlsPolicy(settings: { caFile?: string; pin?: string }): Promise<TlsPolicy> {
  const policy: TlsPolicy = {};
  if (settings.pin !== undefined) policy.pin = pinHex(normalizePin(settings.pin));
  if (settings.caFile !== undefined) {
    let pem: string;
    try {
      pem = await readFile(settings.caFile, 'utf8');
    } catch (error) {
      throw new TlsSettingError(`cannot read CA file ${settings.caFile}: ${errorMessage(error)}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new TlsSettingError(`CA file ${settings.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
    policy.ca = pem;
  }
  return policy;
}

/** TLS options for a connection under `policy` (the pin itself is checked by `guardPin`). */
export function tlsOptions(policy: TlsPolicy): { ca?: string; rejectUnauthorized: boolean } {
  return {
    ...(policy.ca !== undefined ? { ca: policy.ca } : {}),
    // With a pin the chain is not what we trust, the certificate is: a self-signed hub has no
    // chain to verify. guardPin refuses anything else before a byte of the request is sent.
    rejectUnauthorized: policy.pin === undefined,
  };
}

/**
 * Destroys `socket` as soon as its handshake completes if the peer's certificate is not the
 * pinned one. 'secureConnect' is emitted before the TLS layer flushes anything the HTTP client
 * queued, so a mismatching server never sees the request (checked by a unit test).
 */
export function guardPin(socket: TLSSocket, policy: TlsPolicy): void {
  const pin = policy.pin;
  if (pin === undefined) return;
  socket.once('secureConnect', () => {
    const certificate = socket.getPeerCertificate();
    const fingerprint = certificate?.fingerprint256 ?? '';
    if (fingerprint !== '' && fingerprintMatches(pin, fingerprint)) return;
    const actual = fingerprint === '' ? 'none' : `sha256:${fingerprint.replace(/:/g, '').toLowerCase()}`;
    socket.destroy(
      Object.assign(
        new Error(`the hub's certificate (${actual}) does not match the pinned sha256:${pin}`),
        { code: PIN_MISMATCH },
      ),
    );
  });
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { errorMessage } from '../errors';

/**
 * How the agent trusts the hub's certificate, applied to every connection (enroll, status, the
 * socket). Neither set: the host's certificate store, as curl on it (`trustsHostStore`). `ca`:
 * these CAs instead (a self-signed hub's own certificate works too). `pin`: exactly this
 * certificate, whoever signed it: a matching self-signed one is accepted, a different one refused
 * even if a CA trusts it.
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
export function tlsOptions(policy: TlsPolicy): { ca?: string | string[]; rejectUnauthorized: boolean } {
  const ca = policy.ca ?? (policy.pin === undefined ? hostStoreStandIn() : undefined);
  return {
    ...(ca !== undefined ? { ca } : {}),
    // With a pin the chain is not what we trust, the certificate is: a self-signed hub has no
    // chain to verify. guardPin refuses anything else before a byte of the request is sent.
    rejectUnauthorized: policy.pin === undefined,
  };
}

/**
 * Whether Node trusts the host's certificate store by itself: the binaries are built with
 * `--use-openssl-ca` (Linux) or `--use-system-ca` (Windows), see scripts/build-agent-binaries.mjs.
 * The bundle run by Node 20 from the source tree trusts Node's bundled list.
 */
export function trustsHostStore(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.includes('--use-openssl-ca') || execArgv.includes('--use-system-ca');
}

/** What an agent given neither `--ca-file` nor `--pin` trusts, for `status`. */
export function defaultTrust(execArgv: readonly string[] = process.execArgv): string {
  return trustsHostStore(execArgv) ? "the host's certificate store" : "Node's bundled CA list (run the agent binary to trust the host's store)";
}

/** What the host's file system shows of OpenSSL's default store. */
export interface StoreProbe {
  env: NodeJS.ProcessEnv;
  isFile(path: string): boolean;
  list(dir: string): string[];
}

/** OpenSSL's defaults in the binaries' Node, whose OPENSSLDIR is /etc/ssl. */
const OPENSSL_DEFAULT_FILE = '/etc/ssl/cert.pem';
const OPENSSL_DEFAULT_DIR = '/etc/ssl/certs';

/**
 * Where distributions keep their whole store in one file, for hosts whose layout OpenSSL's
 * defaults miss (Fedora and RHEL keep no hashed links in /etc/ssl/certs); Go's crypto/x509 looks
 * in the same places.
 */
export const DISTRIBUTION_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
];

/** `<hash>.<n>`: how a certificate is named in a directory OpenSSL looks up by subject. */
const HASHED_NAME = /^[0-9a-f]{8}\.\d+$/;

/**
 * Where OpenSSL's default store holds nothing (SSL_CERT_FILE and SSL_CERT_DIR, or /etc/ssl/cert.pem
 * and the hashed /etc/ssl/certs), what to trust instead: a distribution's bundle file, else Node's
 * bundled list. Undefined where OpenSSL finds certificates by itself.
 */
export function hostStoreFallback(probe: StoreProbe): { file: string } | 'bundled' | undefined {
  const file = probe.env.SSL_CERT_FILE || OPENSSL_DEFAULT_FILE;
  const dirs = (probe.env.SSL_CERT_DIR || OPENSSL_DEFAULT_DIR).split(':').filter((dir) => dir !== '');
  if (probe.isFile(file) || dirs.some((dir) => probe.list(dir).some((name) => HASHED_NAME.test(name)))) return undefined;
  const bundle = DISTRIBUTION_BUNDLES.find((candidate) => probe.isFile(candidate));
  return bundle !== undefined ? { file: bundle } : 'bundled';
}

/** The parts of `node:tls` the fallback reads: Node 22.15 and later (the binaries' Node 24). */
interface CaSource {
  getCACertificates(type: 'bundled' | 'extra'): string[];
}

const hostProbe: StoreProbe = {
  env: process.env,
  isFile: (path) => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false,
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
};

let standIn: { ca: string[] | undefined } | undefined;

/**
 * The CAs given explicitly when the Linux binary's OpenSSL store is empty on this host
 * (`hostStoreFallback`), with NODE_EXTRA_CA_CERTS, which an explicit list would otherwise drop.
 * Looked up once, on the first TLS connection.
 */
function hostStoreStandIn(): string[] | undefined {
  standIn ??= { ca: process.execArgv.includes('--use-openssl-ca') ? readStandIn() : undefined };
  return standIn.ca;
}

function readStandIn(): string[] | undefined {
  const fallback = hostStoreFallback(hostProbe);
  if (fallback === undefined) return undefined;
  const tls = process.getBuiltinModule('node:tls') as unknown as CaSource;
  const base = fallback === 'bundled' ? tls.getCACertificates('bundled') : [readFileSync(fallback.file, 'utf8')];
  return [...base, ...tls.getCACertificates('extra')];
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

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  absoluteCaFile,
  defaultTrust,
  DISTRIBUTION_BUNDLES,
  fingerprintMatches,
  hostStoreFallback,
  loadTlsPolicy,
  normalizePin,
  pinHex,
  type StoreProbe,
  tlsOptions,
  TlsSettingError,
  trustsHostStore,
} from './tls-policy';

const HEX = '16a48845e7c1aecae964ef32e89f63553e6dff018389bc526c67a13a4ddc5e44';
const OPENSSL = '16:A4:88:45:E7:C1:AE:CA:E9:64:EF:32:E8:9F:63:55:3E:6D:FF:01:83:89:BC:52:6C:67:A1:3A:4D:DC:5E:44';

describe('pin normalisation', () => {
  it.each([
    [`sha256:${HEX}`],
    [`sha256:${OPENSSL}`],
    [`SHA256:${OPENSSL.toLowerCase()}`],
    [OPENSSL],
    [HEX.toUpperCase()],
    [`sha256 Fingerprint=${OPENSSL}`],
    [`SHA256 Fingerprint=${OPENSSL}\n`],
  ])('accepts %s', (input) => {
    expect(normalizePin(input)).toBe(`sha256:${HEX}`);
  });

  it.each([[''], ['sha256:'], [`sha256:${HEX.slice(1)}`], [`sha256:${HEX}00`], [`sha1:${HEX}`], [`sha256:${HEX.replace('a', 'g')}`]])(
    'refuses %j, saying what it expects',
    (input) => {
      expect(() => normalizePin(input)).toThrow(TlsSettingError);
      expect(() => normalizePin(input)).toThrow(/expected sha256:<fingerprint>.*openssl x509 -noout -fingerprint -sha256/);
    },
  );

  it('matches a certificate fingerprint as Node reports it, in any case', () => {
    expect(fingerprintMatches(pinHex(`sha256:${HEX}`), OPENSSL)).toBe(true);
    expect(fingerprintMatches(HEX, OPENSSL.toLowerCase())).toBe(true);
    expect(fingerprintMatches(HEX, OPENSSL.replace(/^16/, '17'))).toBe(false);
    expect(fingerprintMatches(HEX, '')).toBe(false);
  });
});

describe('trust policy', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-tls-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses the default CAs when given nothing, the CA file when given one, and no chain check with a pin', async () => {
    expect(tlsOptions(await loadTlsPolicy({}))).toEqual({ rejectUnauthorized: true });
    const caFile = join(dir, 'ca.pem');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(caFile, pem);
    expect(tlsOptions(await loadTlsPolicy({ caFile }))).toEqual({ ca: pem, rejectUnauthorized: true });
    const pinned = await loadTlsPolicy({ pin: `sha256:${HEX}` });
    expect(pinned).toEqual({ pin: HEX });
    expect(tlsOptions(pinned)).toEqual({ rejectUnauthorized: false });
  });

  it("trusts OpenSSL's default store where it holds certificates, else a distribution's bundle, else Node's list", () => {
    const probe = (files: string[], dirs: Record<string, string[]>, env: NodeJS.ProcessEnv = {}): StoreProbe => ({
      env,
      isFile: (path) => files.includes(path),
      list: (dir) => dirs[dir] ?? [],
    });
    // Debian: hashed links in /etc/ssl/certs, no /etc/ssl/cert.pem.
    expect(hostStoreFallback(probe([DISTRIBUTION_BUNDLES[0]!], { '/etc/ssl/certs': ['ca-certificates.crt', '002c0b4f.0'] }))).toBeUndefined();
    // Alpine: /etc/ssl/cert.pem.
    expect(hostStoreFallback(probe(['/etc/ssl/cert.pem'], {}))).toBeUndefined();
    // Fedora and RHEL: a bundle, no hashed links where OpenSSL looks.
    const rhel = '/etc/pki/tls/certs/ca-bundle.crt';
    expect(hostStoreFallback(probe([rhel], { '/etc/ssl/certs': ['ca-bundle.crt'] }))).toEqual({ file: rhel });
    // SSL_CERT_FILE and SSL_CERT_DIR (a list) replace the defaults, as OpenSSL reads them.
    expect(hostStoreFallback(probe(['/opt/ca.pem', rhel], {}, { SSL_CERT_FILE: '/opt/ca.pem' }))).toBeUndefined();
    expect(hostStoreFallback(probe([rhel], { '/b': ['f88ed8fa.0'] }, { SSL_CERT_DIR: '/a:/b' }))).toBeUndefined();
    expect(hostStoreFallback(probe([], { '/etc/ssl/certs': ['002c0b4f.0'] }, { SSL_CERT_DIR: '/empty' }))).toBe('bundled');
    // A host with no store at all.
    expect(hostStoreFallback(probe([], {}))).toBe('bundled');
  });

  it('knows which agents trust the host store by themselves: the binaries, by their Node options', () => {
    expect(trustsHostStore(['--lite-mode', '--use-openssl-ca'])).toBe(true);
    expect(trustsHostStore(['--use-system-ca'])).toBe(true);
    expect(trustsHostStore([])).toBe(false);
    expect(defaultTrust(['--use-openssl-ca'])).toBe("the host's certificate store");
    expect(defaultTrust([])).toMatch(/^Node's bundled CA list/);
  });

  it('names a CA file it cannot read or that holds no certificate', async () => {
    const missing = join(dir, 'nope.pem');
    await expect(loadTlsPolicy({ caFile: missing })).rejects.toThrow(`cannot read CA file ${missing}`);
    const notPem = join(dir, 'key.pem');
    writeFileSync(notPem, '-----BEGIN PRIVATE KEY-----\n');
    await expect(loadTlsPolicy({ caFile: notPem })).rejects.toThrow(`CA file ${notPem} holds no PEM certificate`);
  });

  it('stores the CA file as an absolute path', () => {
    expect(absoluteCaFile('certs/ca.pem', '/home/op')).toBe('/home/op/certs/ca.pem');
    expect(absoluteCaFile('/etc/ssl/ca.pem', '/home/op')).toBe('/etc/ssl/ca.pem');
  });
});

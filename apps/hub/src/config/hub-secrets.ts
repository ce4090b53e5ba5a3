import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { HubConfig } from './hub-config';

export interface HubSecrets {
  jwtSecret: string;
  /** 32 bytes: the AES-256-GCM key that seals secret env values in the database. */
  dataKey: Buffer;
  /** The admin's initial password and where it came from, for the start-up message. */
  adminPassword: { value: string; source: 'env' | 'generated-now' | 'file'; file?: string };
}

export const HUB_SECRETS = Symbol('HUB_SECRETS');

/** A secret that was not configured is generated once and kept in the data dir, readable by the owner only. */
function keptSecret(file: string, generate: () => string): { value: string; createdNow: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), createdNow: false };
  const value = generate();
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, createdNow: true };
}

export function loadHubSecrets(config: HubConfig): HubSecrets {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const jwtSecret =
    config.jwtSecret ?? keptSecret(path.join(config.dataDir, 'jwt-secret'), () => randomBytes(48).toString('base64url')).value;
  // Kept beside the database's data, not in it: a stolen database (or backup) alone reveals no secret.
  const dataKey = Buffer.from(
    config.dataKey ?? keptSecret(path.join(config.dataDir, 'data-key'), () => randomBytes(32).toString('base64')).value,
    'base64',
  );
  if (config.adminPassword) {
    return { jwtSecret, dataKey, adminPassword: { value: config.adminPassword, source: 'env' } };
  }
  const file = path.join(config.dataDir, 'admin-password');
  const kept = keptSecret(file, () => randomBytes(12).toString('base64url'));
  return {
    jwtSecret,
    dataKey,
    adminPassword: { value: kept.value, source: kept.createdNow ? 'generated-now' : 'file', file },
  };
}

import { z } from 'zod';
import { isIP } from 'node:net';
import path from 'node:path';
import { DEFAULT_OUTPUT_CAP_BYTES, MIN_OUTPUT_CAP_BYTES } from '@outpost/protocol';

/** Integer environment value with bounds; empty means "use the default". */
const int = (def: number, min: number, max: number) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? def : Number(v)),
    z.number({ error: 'must be a number' }).int('must be a whole number').min(min).max(max),
  );

const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

const envSchema = z.object({
  HUB_PORT: int(8080, 0, 65535),
  HUB_HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  HUB_DATA_DIR: z.string().min(1).default('./data'),
  HUB_PUBLIC_URL: optionalString.pipe(z.url('must be an http(s) URL').optional()),
  HUB_JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  HUB_DATA_KEY: optionalString.pipe(
    z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
      .optional(),
  ),
  HUB_ADMIN_PASSWORD: optionalString.pipe(z.string().min(8, 'must be at least 8 characters').optional()),
  HUB_ACCESS_TOKEN_TTL_S: int(900, 5, 900),
  HUB_REFRESH_TOKEN_TTL_S: int(7 * 86400, 60, 90 * 86400),
  HUB_LOGIN_MAX_FAILURES_PER_ACCOUNT: int(5, 1, 1000),
  HUB_LOGIN_MAX_FAILURES_PER_ADDRESS: int(20, 1, 100000),
  HUB_LOGIN_FAILURE_WINDOW_S: int(900, 1, 86400),
  HUB_AGENT_HEARTBEAT_S: int(15, 1, 3600),
  HUB_AGENT_OFFLINE_AFTER_S: int(30, 2, 86400),
  HUB_AGENT_HEALTH_INTERVAL_S: int(15, 1, 3600),
  HUB_AGENT_EVENTS_PER_S: int(1000, 1, 1_000_000),
  HUB_EXECUTION_LEASE_S: int(600, 1, 30 * 86400),
  HUB_DELIVERY_TIMEOUT_S: int(3600, 1, 30 * 86400),
  HUB_OUTPUT_CAP_BYTES: int(DEFAULT_OUTPUT_CAP_BYTES, MIN_OUTPUT_CAP_BYTES, 1024 * 1024 * 1024),
  HUB_HEALTH_RETENTION_DAYS: int(7, 1, 3650),
  // Fractions allowed (0.001 days ≈ 86 s), so tests can watch the pruning happen.
  HUB_RUN_RETENTION_DAYS: z.preprocess(
    (v) => (v === undefined || v === '' ? 30 : Number(v)),
    z.number({ error: 'must be a number' }).positive('must be more than 0').max(36500),
  ),
  HUB_SCHEDULER_LEASE_S: int(10, 1, 300),
  HUB_TLS_CERT_FILE: optionalString,
  HUB_TLS_KEY_FILE: optionalString,
  HUB_AUDIT_RETENTION_DAYS: z.preprocess(
    (v) => (v === undefined || v === '' ? 365 : Number(v)),
    z.number({ error: 'must be a number' }).positive('must be more than 0').max(36500),
  ),
  HUB_RATE_LIMIT_REQUESTS: int(1200, 1, 100_000_000),
  HUB_RATE_LIMIT_WINDOW_S: int(60, 1, 86400),
  HUB_CORS_ORIGINS: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((o) => o.trim()).filter(Boolean) : []),
    z.array(z.url('must be a comma-separated list of origins like https://ops.example.com')),
  ),
  HUB_TRUST_PROXY: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  HUB_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  HUB_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  HUB_LOCAL_AGENT_CONFIG: optionalString,
});

export interface HubConfig {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  publicUrl: string;
  jwtSecret: string | undefined;
  /** AES-256 key for secret env values at rest (base64); generated into the data dir when unset. */
  dataKey: string | undefined;
  adminPassword: string | undefined;
  /** Access tokens live at most 15 minutes; sessions last as long as their refresh tokens. */
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Failed logins tolerated per account and per client address within the window, then 429. */
  loginThrottle: { maxFailuresPerAccount: number; maxFailuresPerAddress: number; windowSeconds: number };
  agentHeartbeatSeconds: number;
  agentOfflineAfterSeconds: number;
  agentHealthIntervalSeconds: number;
  /** Events one agent socket may send per second; the excess is dropped, and persistent excess disconnects it. */
  agentEventsPerSecond: number;
  /** A dispatched or running execution whose agent stays away this long is `lost`. */
  executionLeaseSeconds: number;
  /** Default time a queued execution may wait for its agent before it is `expired`. */
  deliveryTimeoutSeconds: number;
  /** Output kept per execution (head and tail), told to agents in the welcome. */
  outputCapBytes: number;
  runRetentionDays: number;
  healthRetentionDays: number;
  auditRetentionDays: number;
  /** Requests one principal (user, else client address) may make per window, across the API. */
  rateLimit: { requests: number; windowSeconds: number };
  /** Browser origins allowed to call the API cross-origin; empty: none. */
  corsOrigins: string[];
  /** Express `trust proxy`: which proxies' X-Forwarded-For is believed for the client address. */
  trustProxy: boolean | number | string[];
  /** The scheduler leader's lease: another hub takes over within about 4/3 of it after the leader dies. */
  schedulerLeaseSeconds: number;
  /** PEM files: when both are set the hub serves HTTPS and WSS itself. */
  tls: { certFile: string; keyFile: string } | undefined;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  /** Set by `npm start`: the hub keeps one local agent's identity in this file. */
  localAgentConfigPath: string | undefined;
}

export class ConfigError extends Error {}

/** Reads and validates the environment once, at start; nothing else reads process.env. */
export function loadHubConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${String(issue.path[0])}=${JSON.stringify(env[String(issue.path[0])] ?? '')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid hub configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.HUB_AGENT_OFFLINE_AFTER_S <= e.HUB_AGENT_HEARTBEAT_S) {
    throw new ConfigError(
      `Invalid hub configuration:\n  HUB_AGENT_OFFLINE_AFTER_S (${e.HUB_AGENT_OFFLINE_AFTER_S}) must be greater than HUB_AGENT_HEARTBEAT_S (${e.HUB_AGENT_HEARTBEAT_S})`,
    );
  }
  if (Boolean(e.HUB_TLS_CERT_FILE) !== Boolean(e.HUB_TLS_KEY_FILE)) {
    throw new ConfigError('Invalid hub configuration:\n  HUB_TLS_CERT_FILE and HUB_TLS_KEY_FILE must be set together');
  }
  if (e.HUB_EXECUTION_LEASE_S < 10 * e.HUB_AGENT_OFFLINE_AFTER_S) {
    // A short partition must never lose a result (DESIGN.md §4).
    throw new ConfigError(
      `Invalid hub configuration:\n  HUB_EXECUTION_LEASE_S (${e.HUB_EXECUTION_LEASE_S}) must be at least 10× HUB_AGENT_OFFLINE_AFTER_S (${e.HUB_AGENT_OFFLINE_AFTER_S})`,
    );
  }
  const dataDir = path.resolve(e.HUB_DATA_DIR);
  return {
    port: e.HUB_PORT,
    host: e.HUB_HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    publicUrl: (e.HUB_PUBLIC_URL ?? `${e.HUB_TLS_CERT_FILE ? 'https' : 'http'}://localhost:${e.HUB_PORT}`).replace(/\/+$/, ''),
    jwtSecret: e.HUB_JWT_SECRET,
    dataKey: e.HUB_DATA_KEY,
    adminPassword: e.HUB_ADMIN_PASSWORD,
    accessTokenTtlSeconds: e.HUB_ACCESS_TOKEN_TTL_S,
    refreshTokenTtlSeconds: e.HUB_REFRESH_TOKEN_TTL_S,
    loginThrottle: {
      maxFailuresPerAccount: e.HUB_LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerAddress: e.HUB_LOGIN_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: e.HUB_LOGIN_FAILURE_WINDOW_S,
    },
    agentHeartbeatSeconds: e.HUB_AGENT_HEARTBEAT_S,
    agentOfflineAfterSeconds: e.HUB_AGENT_OFFLINE_AFTER_S,
    agentHealthIntervalSeconds: e.HUB_AGENT_HEALTH_INTERVAL_S,
    agentEventsPerSecond: e.HUB_AGENT_EVENTS_PER_S,
    executionLeaseSeconds: e.HUB_EXECUTION_LEASE_S,
    deliveryTimeoutSeconds: e.HUB_DELIVERY_TIMEOUT_S,
    outputCapBytes: e.HUB_OUTPUT_CAP_BYTES,
    healthRetentionDays: e.HUB_HEALTH_RETENTION_DAYS,
    runRetentionDays: e.HUB_RUN_RETENTION_DAYS,
    auditRetentionDays: e.HUB_AUDIT_RETENTION_DAYS,
    rateLimit: { requests: e.HUB_RATE_LIMIT_REQUESTS, windowSeconds: e.HUB_RATE_LIMIT_WINDOW_S },
    corsOrigins: e.HUB_CORS_ORIGINS.map((origin) => new URL(origin).origin),
    trustProxy: parseTrustProxy(e.HUB_TRUST_PROXY),
    schedulerLeaseSeconds: e.HUB_SCHEDULER_LEASE_S,
    tls: e.HUB_TLS_CERT_FILE && e.HUB_TLS_KEY_FILE ? { certFile: path.resolve(e.HUB_TLS_CERT_FILE), keyFile: path.resolve(e.HUB_TLS_KEY_FILE) } : undefined,
    logLevel: e.HUB_LOG_LEVEL,
    logFormat: e.HUB_LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    localAgentConfigPath: e.HUB_LOCAL_AGENT_CONFIG ? path.resolve(e.HUB_LOCAL_AGENT_CONFIG) : undefined,
  };
}

const TRUST_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `HUB_TRUST_PROXY`: unset or `false` trusts no proxy (the socket's peer is the client); a number
 * trusts that many hops; otherwise a comma-separated list of addresses, CIDRs or `loopback`,
 * `linklocal`, `uniquelocal`. Checked here, so a typo stops the hub at start.
 */
function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  const bad = entries.filter((entry) => !TRUST_PROXY_NAMES.includes(entry) && !isIP(entry.split('/')[0]!));
  if (bad.length > 0 || entries.length === 0) {
    throw new ConfigError(
      `Invalid hub configuration:\n  HUB_TRUST_PROXY=${JSON.stringify(value)}: expected false, true, a hop count, or addresses/CIDRs/${TRUST_PROXY_NAMES.join('/')}`,
    );
  }
  return entries;
}

export const HUB_CONFIG = Symbol('HUB_CONFIG');

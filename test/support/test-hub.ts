import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent as Dispatcher } from 'undici';
import { inject } from 'vitest';
import { Child } from './child-process';
import { createPostgresDatabase, type DatabaseKind } from './databases';
import { HUB_MAIN } from './paths';
import { waitFor } from './wait';

export const ADMIN_PASSWORD = 'test-admin-password';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface HubOptions {
  database: DatabaseKind;
  /** Copy of a migrated embedded data folder, to skip the ~15 s first creation. */
  embeddedTemplate?: string;
  /**
   * A migrated PostgreSQL database the hub's own is copied from, to skip running every migration
   * on each start; by default the one the global setup made, null for an empty database.
   */
  postgresTemplate?: string | null;
  env?: Record<string, string>;
  /** PEM files: the hub serves HTTPS and WSS with them, and this test client trusts that certificate. */
  tls?: { certFile: string; keyFile: string };
  /** Another hub on the same PostgreSQL database (and JWT secret and data key): a second replica. */
  replicaOf?: TestHub;
}

const FINAL_RUN_STATUSES = ['succeeded', 'failed', 'canceled'];

/** Timers shrunk so protocol bounds are reached in seconds. */
const TEST_ENV = {
  HUB_HOST: '127.0.0.1',
  HUB_ADMIN_PASSWORD: ADMIN_PASSWORD,
  HUB_AGENT_HEARTBEAT_S: '1',
  HUB_AGENT_OFFLINE_AFTER_S: '3',
  HUB_LOG_FORMAT: 'json',
  HUB_LOG_LEVEL: 'info',
  // Tests call the API far faster than people; the rate limit has its own test that lowers it.
  HUB_RATE_LIMIT_REQUESTS: '1000000',
};

/** A real hub process on a free port, with its own data folder and database. */
export class TestHub {
  child!: Child;
  private token: string | undefined;
  private dropDatabase: (() => Promise<void>) | undefined;
  /** Trusts the hub's own certificate: fetch has no per-call CA option, and the system's CAs never signed it. */
  private readonly dispatcher: Dispatcher | undefined;

  private constructor(
    readonly database: DatabaseKind,
    readonly dataDir: string,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    tls: HubOptions['tls'],
  ) {
    if (tls) this.dispatcher = new Dispatcher({ connect: { ca: readFileSync(tls.certFile, 'utf8') } });
  }

  static async start(options: HubOptions): Promise<TestHub> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-hub-'));
    const env: NodeJS.ProcessEnv = { ...process.env, ...TEST_ENV, HUB_DATA_DIR: dataDir, ...options.env };
    if (options.tls) {
      env.HUB_TLS_CERT_FILE = options.tls.certFile;
      env.HUB_TLS_KEY_FILE = options.tls.keyFile;
    }
    let drop: (() => Promise<void>) | undefined;
    if (options.replicaOf) {
      if (!options.replicaOf.env.DATABASE_URL) throw new Error('replicas share a PostgreSQL database');
      env.DATABASE_URL = options.replicaOf.env.DATABASE_URL;
      env.HUB_JWT_SECRET = readFileSync(path.join(options.replicaOf.dataDir, 'jwt-secret'), 'utf8').trim();
      env.HUB_DATA_KEY = readFileSync(path.join(options.replicaOf.dataDir, 'data-key'), 'utf8').trim();
    } else if (options.database === 'postgres') {
      const db = await createPostgresDatabase(options.postgresTemplate === undefined ? inject('postgresTemplate') : options.postgresTemplate);
      env.DATABASE_URL = db.url;
      drop = db.drop;
    } else {
      delete env.DATABASE_URL;
      if (options.embeddedTemplate) cpSync(options.embeddedTemplate, dataDir, { recursive: true });
    }
    const port = await freePort();
    env.HUB_PORT = String(port);
    const hub = new TestHub(options.database, dataDir, port, env, options.tls);
    hub.dropDatabase = drop;
    await hub.launch();
    return hub;
  }

  /** The hub's own PostgreSQL database; undefined on the embedded one. */
  get databaseUrl(): string | undefined {
    return this.env.DATABASE_URL;
  }

  get url(): string {
    return `${this.dispatcher ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Starts the hub process (again) on the same data folder and database. */
  async launch(): Promise<void> {
    this.token = undefined;
    this.child = new Child(process.execPath, [HUB_MAIN], this.env);
    await waitFor(
      async () => {
        if (!this.child.running) throw new Error(`hub exited: ${this.child.output.slice(-2000)}`);
        const response = await this.fetch('/health/ready').catch(() => null);
        return response?.status === 200;
      },
      { timeoutMs: 90_000, what: 'the hub to be ready' },
    );
  }

  async stop(): Promise<void> {
    await this.child.stop('SIGTERM');
  }

  /** Runs a hub command (`node main.js <args>`) with this hub's configuration; resolves when it exits. */
  async runCommand(args: string[]): Promise<Child> {
    const command = new Child(process.execPath, [HUB_MAIN, ...args], this.env);
    await command.waitExit(60_000);
    return command;
  }

  async kill9(): Promise<void> {
    await this.child.stop('SIGKILL');
  }

  async destroy(): Promise<void> {
    await this.child.stop('SIGKILL').catch(() => undefined);
    await this.dropDatabase?.().catch(() => undefined);
    await this.dispatcher?.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async login(): Promise<string> {
    if (this.token) return this.token;
    const response = await this.request('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, null);
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
    this.token = response.body.accessToken as string;
    return this.token;
  }

  /** An authenticated API call as admin (pass token null for none). */
  async api<T = any>(method: string, urlPath: string, body?: unknown): Promise<ApiResponse<T>> {
    return this.request(method, urlPath, body, await this.login());
  }

  async request<T = any>(method: string, urlPath: string, body: unknown, token: string | null): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetch(urlPath, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers, text };
  }

  /** A plain fetch against this hub, for headers `request` does not set (cookies, origins). */
  fetchRaw(urlPath: string, init: RequestInit = {}): Promise<Response> {
    return this.fetch(urlPath, init);
  }

  private fetch(urlPath: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${urlPath}`, this.dispatcher ? { ...init, dispatcher: this.dispatcher } : init);
  }

  /** Waits until an execution is in one of `statuses`; returns it. */
  async waitForExecution(id: string, statuses: string[], timeoutMs = 30_000): Promise<any> {
    return waitFor(
      async () => {
        const response = await this.api('GET', `/api/v1/executions/${id}`);
        return statuses.includes(response.body.status) ? response.body : null;
      },
      { timeoutMs, what: `execution ${id} to be ${statuses.join(' or ')}` },
    );
  }

  /**
   * Waits until a run has ended; returns it. A run ends in its own statement after its last
   * execution's, so a read between the two still sees it going.
   */
  async waitForRun(id: string, timeoutMs = 30_000): Promise<any> {
    return waitFor(
      async () => {
        const response = await this.api('GET', `/api/v1/runs/${id}`);
        return FINAL_RUN_STATUSES.includes(response.body.status) ? response.body : null;
      },
      { timeoutMs, what: `run ${id} to end` },
    );
  }

  async waitForAgentStatus(agentId: string, status: 'online' | 'offline', timeoutMs = 20_000): Promise<any> {
    return waitFor(
      async () => {
        const response = await this.api('GET', `/api/v1/agents/${agentId}`);
        return response.body.status === status ? response.body : null;
      },
      { timeoutMs, what: `agent ${agentId} to be ${status}` },
    );
  }
}

// What every benchmark here needs: waits with deadlines, a free loopback port, /proc readings.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something truthy, or fails naming `what` after `timeoutMs`. */
export async function until(probe, timeoutMs, what, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** CPU ticks (user + system, all threads; and each apart) and resident memory of a process. */
export function procStat(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return { cpuTicks: userTicks + systemTicks, userTicks, systemTicks, rssBytes: Number(fields[21]) * 4096 };
}

/** A database of the benchmark's own on the server of `baseUrl`, and a client of the server (`admin`) for statistics; `drop()` removes it. */
export async function ownDatabase(baseUrl) {
  const { default: pg } = await import('pg');
  const name = `outpost_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    admin,
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end();
    },
  };
}

/** The environment of a hub the benchmark starts: loopback, a known admin password, quiet JSON logs. */
export function benchHubEnv(databaseUrl, port, dataDir) {
  return {
    ...process.env,
    DATABASE_URL: databaseUrl,
    HUB_PORT: String(port),
    HUB_HOST: '127.0.0.1',
    HUB_DATA_DIR: dataDir,
    HUB_ADMIN_PASSWORD: 'bench-admin-password',
    HUB_ACCESS_TOKEN_TTL_S: '900',
    HUB_RATE_LIMIT_REQUESTS: '100000000',
    HUB_LOG_LEVEL: 'warn',
    HUB_LOG_FORMAT: 'json',
  };
}

// Schedule benchmark (issue 5): how late the scheduler starts runs when --jobs jobs are due in the
// same second, against one hub on PostgreSQL. Prints fire lateness p50/p90/p99/max, where
// lateness = run.created_at − run.scheduled_at: created_at is when the leading hub created the
// run row (by the hub's clock, the one that decides what is due), in the same transaction as its
// queued executions, so that is the moment the run exists and dispatch can begin.
//
//   node scripts/bench/schedule-lateness.mjs [--jobs 1000] [--lead-seconds 40] [--target agent|nobody]
//
// Each job is a one-shot (`schedule: {"at": T}`) of `true`, all with the same T. `--target agent`
// (default) aims each at one enrolled agent that never connects, so every run gets a queued
// execution as a real one would; `nobody` aims at a label no agent has, so every run is recorded
// `failed` with reason NO_TARGETS.
//
// Needs `npm run build` and a PostgreSQL server (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/test); it creates and drops a database of its own.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { benchHubEnv, freePort, ownDatabase, procStat, until } from './bench-support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000' },
    'lead-seconds': { type: 'string', default: '40' },
    target: { type: 'string', default: 'agent' },
    'create-concurrency': { type: 'string', default: '16' },
  },
});
const JOBS = Number(args.jobs);
const LEAD_MS = Number(args['lead-seconds']) * 1000;
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const database = await ownDatabase(baseUrl);
const db = new pg.Client({ connectionString: database.url });

const port = await freePort();
const hubUrl = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-bench-schedules-'));
const hub = spawn(process.execPath, [path.join(root, 'dist/apps/hub/main.js')], {
  env: benchHubEnv(database.url, port, path.join(dataDir, 'hub')),
  stdio: ['ignore', 'ignore', 'inherit'],
});

let auth = { 'content-type': 'application/json' };
async function api(method, urlPath, body) {
  const response = await fetch(`${hubUrl}${urlPath}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

const quantile = (sorted, q) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];

try {
  await until(() => fetch(`${hubUrl}/health/ready`).then((r) => r.ok, () => false), 60_000, 'the hub');
  await db.connect();
  const login = await api('POST', '/api/v1/auth/login', { username: 'admin', password: 'bench-admin-password' });
  auth = { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' };

  let target = { labels: 'role=nobody' };
  if (args.target === 'agent') {
    const { token } = await api('POST', '/api/v1/enrollment-tokens', { labels: {}, maxUses: 1 });
    const agent = await api('POST', '/api/v1/agents/enroll', { token, hostname: 'bench-offline', os: 'linux', arch: 'x64', agentVersion: 'bench' });
    target = { agentIds: [agent.agentId] };
  }

  const at = Math.ceil((Date.now() + LEAD_MS) / 1000) * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(args['create-concurrency']) }, async () => {
      while (next < JOBS) {
        const i = next++;
        await api('POST', '/api/v1/jobs', { name: `due-${i}`, command: 'true', target, schedule: { at: new Date(at).toISOString() }, overlap: 'allow' });
      }
    }),
  );
  if (Date.now() > at - 2_000) throw new Error(`creating ${JOBS} jobs took past the due time: raise --lead-seconds`);
  console.log(`${JOBS} jobs due at ${new Date(at).toISOString()} (target: ${args.target}); load average ${os.loadavg()[0].toFixed(2)}`);

  await until(() => Date.now() >= at, at - Date.now() + 5_000, 'the due time', 5);
  const cpuBefore = procStat(hub.pid).cpuTicks;
  await until(async () => {
    const { rows } = await db.query(`select count(*)::int as n from runs where trigger = 'schedule'`);
    return rows[0].n >= JOBS;
  }, 120_000 + LEAD_MS, `${JOBS} scheduled runs`, 100);
  const cpuTicks = procStat(hub.pid).cpuTicks - cpuBefore;

  const { rows } = await db.query(
    `select extract(epoch from (created_at - scheduled_at)) * 1000 as late_ms, status from runs where trigger = 'schedule' order by 1`,
  );
  const late = rows.map((r) => Number(r.late_ms));
  const executions = (await db.query(`select count(*)::int as n from executions`)).rows[0].n;
  const fmt = (ms) => `${ms.toFixed(0)} ms`;
  console.log(`runs created: ${rows.length} (${executions} executions queued; statuses ${[...new Set(rows.map((r) => r.status))].join(', ')})`);
  console.log(
    `fire lateness (run created − scheduledAt): p50 ${fmt(quantile(late, 0.5))}, p90 ${fmt(quantile(late, 0.9))}, ` +
      `p99 ${fmt(quantile(late, 0.99))}, max ${fmt(late.at(-1))}, min ${fmt(late[0])}`,
  );
  // Jiffies are 1/100 s.
  console.log(`hub CPU from the due time until all runs existed: ${cpuTicks * 10} ms, over ${(late.at(-1) / 1000).toFixed(2)} s`);
} finally {
  if (hub.exitCode === null) {
    const exited = new Promise((r) => hub.once('exit', r));
    hub.kill('SIGTERM');
    await exited;
  }
  await db.end().catch(() => undefined);
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
}

// Run benchmark (issue 4): how fast runs of `true` complete, against one hub on PostgreSQL.
// Prints, for N = 1 and N = --real-agents real agent processes and N = --sim-agents simulated
// agents, the time from `POST /api/v1/runs` to every execution `succeeded` as a client waiting
// with `POST /api/v1/runs?wait=` sees it, the single-run latency p50/p99 on one real agent, and the sustained
// executions per second with --in-flight runs kept open against the simulated agents, each
// beside its target, with the CPU each party took meanwhile.
//
//   node scripts/bench/run-latency.mjs [--real-agents 100] [--sim-agents 1000] [--processes 4]
//     [--trials 5] [--single-runs 200] [--sustain-seconds 10] [--in-flight 4] [--cpu-profile <dir>]
//     [--agent bundle|binary]
//
// Real agents are `dist/apps/agent/main.cjs run` processes (or, with --agent binary, the linux-x64
// single binary from dist/agent-binaries), enrolled through the API, each with
// its own config and data dir, started --start-batch at a time. Simulated agents are socket.io
// clients in --processes worker processes (sim-agents-worker.mjs) that handshake like the fleet
// benchmark's and answer each assignment with its result, as the real agent reports `true`, without spawning anything.
// --real-agents 0 or --sim-agents 0 skips that part.
//
// --cpu-profile <dir> runs the hub with a CPU profiler (see hub-memory-probe.cjs) and writes one
// profile per phase there, hub-<n>.cpuprofile; the phase of each is printed at the end.
//
// Needs `npm run build` and a PostgreSQL server (DATABASE_URL, default
// postgres://postgres@127.0.0.1:5432/test); it creates and drops a database of its own.
import { fork, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchHubEnv, freePort, ownDatabase, sleep, until } from './bench-support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    'real-agents': { type: 'string', default: '100' },
    'sim-agents': { type: 'string', default: '1000' },
    processes: { type: 'string', default: '4' },
    trials: { type: 'string', default: '5' },
    'single-runs': { type: 'string', default: '200' },
    'sustain-seconds': { type: 'string', default: '10' },
    'in-flight': { type: 'string', default: '4' },
    'start-batch': { type: 'string', default: '10' },
    'enroll-concurrency': { type: 'string', default: '16' },
    'cpu-profile': { type: 'string' },
    agent: { type: 'string', default: 'bundle' },
  },
});
if (!['bundle', 'binary'].includes(args.agent)) throw new Error('--agent is bundle or binary');
const REAL = Number(args['real-agents']);
const SIM = Number(args['sim-agents']);
const P = Math.max(1, Math.min(Number(args.processes), SIM));
const TRIALS = Number(args.trials);
const SINGLE_RUNS = Number(args['single-runs']);
const SUSTAIN_S = Number(args['sustain-seconds']);
const IN_FLIGHT = Number(args['in-flight']);
const START_BATCH = Number(args['start-batch']);
const profileDir = args['cpu-profile'] ? path.resolve(args['cpu-profile']) : undefined;
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const agentCommand =
  args.agent === 'binary'
    ? [path.join(root, 'dist/agent-binaries/outpost-agent-linux-x64')]
    : [process.execPath, path.join(root, 'dist/apps/agent/main.cjs')];
const protocol = await import(path.join(root, 'libs/protocol/dist/index.js')).then((m) => m.default ?? m);
const { PROTOCOL_VERSION } = protocol;

// The simulated agents speak these events with these names (sim-agents-worker.mjs); refuse to
// measure anything if the wire contract has moved under them. Their payloads are checked by the
// hub itself: a refused report fails the benchmark.
for (const [actual, expected] of [
  [protocol.HubToAgentEvent.Welcome, 'agent.welcome'],
  [protocol.HubToAgentEvent.ExecutionAssign, 'execution.assign'],
  [protocol.AgentToHubEvent.ExecutionFinished, 'execution.finished'],
]) {
  if (actual !== expected) throw new Error(`sim-agents-worker.mjs speaks ${expected}, the protocol now says ${actual}`);
}

/** utime + stime, and with `children` also the CPU of its exited children (the agents' commands). */
const procTicks = (pid, children = false) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  } catch {
    return 0; // gone, or PostgreSQL runs on another host
  }
};
/**
 * CPU jiffies of who takes part: the hub, the PostgreSQL backends serving our database, the real
 * and the simulated agents, this process, and the whole machine (busy and total, /proc/stat).
 */
async function cpuTicks() {
  const backends = (await db.admin.query('select pid from pg_stat_activity where datname = $1', [db.name])).rows.map((r) => r.pid);
  const [, ...cols] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = cols.reduce((a, b) => a + b, 0);
  const own = process.cpuUsage();
  return {
    hub: procTicks(hub.pid),
    postgres: new Map(backends.map((pid) => [pid, procTicks(pid)])),
    agents: agents.reduce((sum, a) => sum + procTicks(a.pid, true), 0),
    sims: workers.reduce((sum, w) => sum + procTicks(w.pid), 0),
    bench: (own.user + own.system) / 10_000,
    machineBusy: total - cols[3] - cols[4],
    machineTotal: total,
    // Every statement outside an explicit transaction is one; the counters trail by up to a second.
    transactions: Number((await db.admin.query('select xact_commit + xact_rollback as n from pg_stat_database where datname = $1', [db.name])).rows[0].n),
  };
}
/** Percent of one core each took between two cpuTicks() (jiffies are 1/100 s). */
function cpuShares(before, after, seconds) {
  const names = { hub: 'hub', postgres: 'PostgreSQL backends', agents: 'real agents', sims: 'simulated agents', bench: 'benchmark' };
  const shares = Object.entries(names)
    .filter(([key]) => key !== 'agents' || after.agents > 0)
    .filter(([key]) => key !== 'sims' || after.sims > 0)
    .map(([key, name]) => {
      // Backends come and go with the hub's pool: one that started meanwhile counts from zero.
      const ticks = key === 'postgres' ? [...after.postgres].reduce((sum, [pid, t]) => sum + t - (before.postgres.get(pid) ?? 0), 0) : after[key] - before[key];
      return `${name} ${((ticks / 100 / seconds) * 100).toFixed(0)} %`;
    });
  const machine = ((after.machineBusy - before.machineBusy) / (after.machineTotal - before.machineTotal)) * 100;
  return `${shares.join(', ')} of a core; machine ${machine.toFixed(0)} % busy`;
}
const log = (line) => console.error(`[bench:runs] ${line}`);
const ms = (value) => `${value.toFixed(1)} ms`;
const median = (values) => percentile(values, 0.5);
function percentile(values, q) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}
const verdict = (ok) => (ok ? 'met' : 'MISSED');

const loadAtStart = os.loadavg()[0].toFixed(2);

/**
 * The machine's price of one command, before anything else runs: this Node process spawning
 * `true` as an agent does (libuv forks the whole process). It is most of an agent's CPU per
 * execution, and varies threefold between machines of the same kind (docs/architecture.md).
 */
async function spawnReferenceMs(count = 50) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => spawn('true', { stdio: 'ignore' }).once('error', reject).once('exit', resolve));
    times.push(performance.now() - t0);
  }
  return median(times);
}
const spawnAtStart = await spawnReferenceMs();

const db = await ownDatabase(baseUrl);
const port = await freePort();
const hubUrl = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-bench-runs-'));
const hubEnv = {
  ...benchHubEnv(db.url, port, path.join(dataDir, 'hub')),
  OUTPOST_BENCH_MEMORY_FILE: path.join(dataDir, 'hub-memory.json'),
  ...(profileDir ? { OUTPOST_BENCH_CPU_PROFILE: profileDir } : {}),
};
let hub;
async function startHub() {
  const probe = path.join(root, 'scripts/bench/hub-memory-probe.cjs');
  const profiling = profileDir ? ['--expose-gc', '--require', probe] : [];
  hub = spawn(process.execPath, [...profiling, path.join(root, 'dist/apps/hub/main.js')], { env: hubEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  await until(() => fetch(`${hubUrl}/health/ready`).then((r) => r.ok, () => false), 60_000, 'the hub');
}
async function stopHub() {
  const exited = new Promise((r) => hub.once('exit', r));
  hub.kill('SIGTERM');
  await exited;
}

/** With --cpu-profile: ends the hub's profile of the phase that just ended (hub-<n>.cpuprofile). */
const phases = [];
async function endPhase(name) {
  if (!profileDir) return;
  rmSync(hubEnv.OUTPOST_BENCH_MEMORY_FILE, { force: true });
  process.kill(hub.pid, 'SIGWINCH');
  await until(() => {
    try {
      return JSON.parse(readFileSync(hubEnv.OUTPOST_BENCH_MEMORY_FILE, 'utf8')) !== null;
    } catch {
      return false;
    }
  }, 30_000, 'the hub profile');
  phases.push(name);
}

let auth;
async function api(method, urlPath, body) {
  const response = await fetch(`${hubUrl}${urlPath}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

async function enroll(count, labels, prefix) {
  const { token } = await api('POST', '/api/v1/enrollment-tokens', { labels, maxUses: count });
  const identities = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(args['enroll-concurrency']) }, async () => {
      while (next < count) {
        const i = next++;
        const response = await fetch(`${hubUrl}/api/v1/agents/enroll`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token, name: `${prefix}-${i}`, hostname: `${prefix}-${i}`, os: 'linux', arch: 'x64', agentVersion: 'bench' }),
        });
        if (response.status !== 201) throw new Error(`enroll failed: ${response.status} ${await response.text()}`);
        identities[i] = await response.json();
      }
    }),
  );
  return identities;
}

const onlineCount = async (selector) =>
  (await api('GET', `/api/v1/agents?status=online&labels=${encodeURIComponent(selector)}&limit=1`)).total;

const OPEN = ['pending', 'queued', 'dispatched', 'running'];

/**
 * One run of `true`: the time from sending `POST /api/v1/runs?wait=` to its answer
 * (which answers as the run ends), and the same span by the hub's own timestamps (the run's
 * createdAt to the last execution's finishedAt), free of HTTP.
 */
async function timeRun(target, expected) {
  const started = performance.now();
  const view = await api('POST', '/api/v1/runs?wait=60', { command: 'true', target });
  const observedMs = performance.now() - started;
  if (view.executions.length !== expected) throw new Error(`run ${view.id} has ${view.executions.length} executions, expected ${expected}`);
  if (view.finishedAt === null) throw new Error(`run ${view.id} not finished after 60 s: ${summarize(view)}`);
  const failed = view.executions.filter((e) => e.status !== 'succeeded');
  if (failed.length > 0) throw new Error(`run ${view.id}: ${failed.length} executions did not succeed, e.g. ${JSON.stringify(failed[0])}`);
  const created = Date.parse(view.createdAt);
  const hubMs = Math.max(...view.executions.map((e) => Date.parse(e.finishedAt))) - created;
  return { observedMs, hubMs, view };
}
function summarize(view) {
  const counts = {};
  for (const e of view.executions) counts[e.status] = (counts[e.status] ?? 0) + 1;
  return JSON.stringify(counts);
}

/** One warm-up run (JIT, pools), then --trials timed ones. */
async function fanOut(target, n) {
  await timeRun(target, n);
  const trials = [];
  const cpu0 = await cpuTicks();
  const t0 = performance.now();
  for (let i = 0; i < TRIALS; i++) trials.push(await timeRun(target, n));
  const cpu = cpuShares(cpu0, await cpuTicks(), (performance.now() - t0) / 1000);
  const observed = trials.map((t) => t.observedMs);
  const hubSide = trials.map((t) => t.hubMs);
  log(`N=${n}: observed ${observed.map((v) => v.toFixed(0)).join(', ')} ms; hub-side ${hubSide.join(', ')} ms`);
  return { n, observed, hubSide, cpu };
}

const results = {};
const workers = [];
const agents = [];
let simCounts = [];
const simTotal = (key) => simCounts.reduce((sum, c) => sum + (c?.[key] ?? 0), 0);

function startAgent(identity, i) {
  const dir = path.join(dataDir, `agent-${i}`);
  mkdirSync(dir, { mode: 0o700 });
  const config = path.join(dir, 'agent.json');
  writeFileSync(config, `${JSON.stringify({ hubUrl, agentId: identity.agentId, credential: identity.credential, name: identity.name }, null, 2)}\n`, { mode: 0o600 });
  const child = spawn(
    agentCommand[0],
    [...agentCommand.slice(1), 'run', '--config', config, '--data-dir', dir, '--log-level', 'warn', '--max-concurrent', '8'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  agents.push(child);
}
async function stopAgents() {
  await Promise.all(
    agents.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }),
  );
  agents.length = 0;
}

try {
  await startHub();
  const login = await (await fetch(`${hubUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }),
  })).json();
  auth = { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' };

  const real = REAL > 0 ? await enroll(REAL, { bench: 'real' }, 'real') : [];
  if (REAL > 0) {
    // N = 1 and single-run latency on the first real agent, alone.
    startAgent(real[0], 0);
    await until(async () => (await onlineCount('bench=real')) === 1, 60_000, 'the first real agent to come online');
    await endPhase('setup: hub start, enroll, first real agent');
    results.one = await fanOut({ agentIds: [real[0].agentId] }, 1);
    await endPhase('N=1 fan-out');
  }
  if (REAL > 0 && SINGLE_RUNS > 0) {
    const single = [];
    const stages = { dispatched: [], started: [], finished: [] };
    const cpu0 = await cpuTicks();
    const agentTicks0 = procTicks(agents[0].pid);
    const t0 = performance.now();
    for (let i = 0; i < SINGLE_RUNS; i++) {
      const { observedMs, view } = await timeRun({ agentIds: [real[0].agentId] }, 1);
      single.push(observedMs);
      const created = Date.parse(view.createdAt);
      const [e] = view.executions;
      stages.dispatched.push(Date.parse(e.dispatchedAt) - created);
      stages.started.push(Date.parse(e.startedAt) - created);
      stages.finished.push(Date.parse(e.finishedAt) - created);
    }
    // The agent's own CPU (its commands' not counted), jiffies of 10 ms spread over the runs.
    const agentMsPerExecution = ((procTicks(agents[0].pid) - agentTicks0) * 10) / SINGLE_RUNS;
    results.single = { samples: single, stages, agentMsPerExecution, cpu: cpuShares(cpu0, await cpuTicks(), (performance.now() - t0) / 1000) };
    log(`single runs: p50 ${ms(percentile(single, 0.5))}, p99 ${ms(percentile(single, 0.99))}`);
    await endPhase('single-run latency');
  }
  if (REAL > 1) {
    // N = --real-agents: the rest started in batches, so two cores cope with the start-up.
    const startStarted = Date.now();
    for (let i = 1; i < REAL; i += START_BATCH) {
      const batch = real.slice(i, Math.min(REAL, i + START_BATCH));
      batch.forEach((identity, j) => startAgent(identity, i + j));
      const want = i + batch.length;
      await until(async () => (await onlineCount('bench=real')) >= want, 120_000, `${want} real agents to come online`);
    }
    log(`${REAL} real agents online after ${((Date.now() - startStarted) / 1000).toFixed(1)} s`);
    await sleep(5_000); // their connect-time reports (facts, health, inventory) go quiet
    if ((await onlineCount('bench=real')) !== REAL) throw new Error('a real agent went offline');
    await endPhase(`setup: ${REAL} real agents start`);
    results.real = await fanOut({ labels: 'bench=real' }, REAL);
    await endPhase(`N=${REAL} fan-out (real agents)`);
  }
  if (REAL > 0) {
    // Out of the way of the simulated agents: the CPU is theirs now.
    await stopAgents();
    await until(async () => (await onlineCount('bench=real')) === 0, 60_000, 'the real agents to go offline');
  }

  if (SIM > 0) {
    const identities = await enroll(SIM, { bench: 'sim' }, 'sim');
    simCounts = new Array(P).fill(undefined);
    for (let p = 0; p < P; p++) {
      const file = path.join(dataDir, `identities-${p}.json`);
      writeFileSync(file, JSON.stringify(identities.filter((_, i) => i % P === p)));
      const worker = fork(path.join(root, 'scripts/bench/sim-agents-worker.mjs'), [file, hubUrl, PROTOCOL_VERSION, '20'], { stdio: 'inherit' });
      worker.on('message', (m) => (simCounts[p] = m));
      workers.push(worker);
    }
    await until(async () => simTotal('connected') === SIM && (await onlineCount('bench=sim')) === SIM, 300_000, `all ${SIM} simulated agents to come online`);
    await sleep(3_000);
    await endPhase(`setup: enroll and connect ${SIM} simulated agents`);
    results.sim = await fanOut({ labels: 'bench=sim' }, SIM);
    await endPhase(`N=${SIM} fan-out (simulated agents)`);

    // Sustained: keep --in-flight runs of `true` on every simulated agent open, counting the
    // executions the simulated agents see acked as finished (the hub acks a result once it is
    // stored): no polling that would cost the hub CPU while it is measured.
    const body = { command: 'true', target: { labels: 'bench=sim' } };
    const fannedOut = SIM * (TRIALS + 1);
    await until(() => simTotal('finished') === fannedOut, 10_000, 'the simulated agents to count the fan-out results');
    const finishedBefore = fannedOut;
    let feeding = true;
    let runsPosted = 0;
    let executionsPosted = 0;
    const feeder = (async () => {
      while (feeding) {
        const outstanding = executionsPosted - (simTotal('finished') - finishedBefore);
        if (outstanding > (IN_FLIGHT - 1) * SIM) {
          await sleep(5);
          continue;
        }
        executionsPosted += (await api('POST', '/api/v1/runs', body)).executions.length;
        runsPosted += 1;
      }
    })();
    const feederFailed = feeder.then(() => new Promise(() => undefined));
    feederFailed.catch(() => undefined); // raced below, and awaited through `feeder`
    const race = (promise) => Promise.race([promise, feederFailed]);
    await race(sleep(2_000)); // ramp up
    const c0 = simTotal('finished');
    const t0 = performance.now();
    const cpu0 = await cpuTicks();
    await race(sleep(SUSTAIN_S * 1000));
    const c1 = simTotal('finished');
    const t1 = performance.now();
    const cpu1 = await cpuTicks();
    feeding = false;
    await feeder;
    await endPhase('sustained executions');
    await until(async () => (await api('GET', `/api/v1/executions?status=${OPEN.join(',')}&limit=1`)).total === 0, 120_000, 'the sustained runs to finish');
    const unsuccessful = (await api('GET', '/api/v1/executions?status=failed,timed_out,canceled,lost,expired&limit=1')).total;
    if (unsuccessful !== 0) throw new Error(`${unsuccessful} executions did not succeed`);
    await until(() => simTotal('finished') - finishedBefore === executionsPosted, 10_000, 'the simulated agents to count every result');
    const seconds = (t1 - t0) / 1000;
    results.sustained = {
      perSecond: (c1 - c0) / seconds,
      executions: c1 - c0,
      seconds,
      runsPosted,
      cpu: cpuShares(cpu0, cpu1, seconds),
      hubMsPerExecution: ((cpu1.hub - cpu0.hub) * 10) / (c1 - c0),
      transactionsPerExecution: (cpu1.transactions - cpu0.transactions) / (c1 - c0),
    };
    if (simTotal('refused') > 0) throw new Error(`the hub refused ${simTotal('refused')} simulated reports, e.g. ${simCounts.find((c) => c?.lastRefusal)?.lastRefusal}`);
  }

  const row = (label, r, target) =>
    console.log(
      `  ${label.padEnd(34)} median ${ms(median(r.observed))} (min ${ms(Math.min(...r.observed))}, max ${ms(Math.max(...r.observed))}; hub-side median ${median(r.hubSide)} ms)` +
        (target === undefined ? '' : `  target ≤ ${target} ms: ${verdict(median(r.observed) <= target)}`) +
        `\n  ${''.padEnd(34)} CPU during the trials: ${r.cpu}`,
    );
  console.log(
    `\nRun benchmark: \`true\` on real and simulated agents, hub on PostgreSQL (${os.cpus().length} cores, load average ${loadAtStart} at start, protocol ${PROTOCOL_VERSION})`,
  );
  console.log(
    `Machine reference: a Node process spawns \`true\` and sees it exit in ${ms(spawnAtStart)} (median of 50, before the hub started)`,
  );
  console.log(
    `POST /api/v1/runs → every execution succeeded, as POST /api/v1/runs?wait=60 answers it (1 warm-up + ${TRIALS} trials):`,
  );
  if (results.one) row('N=1 real agent:', results.one);
  if (results.real) row(`N=${REAL} real agents:`, results.real, 500);
  if (results.sim) row(`N=${SIM} simulated agents:`, results.sim, 1000);
  if (results.single) {
    const { samples, stages, agentMsPerExecution, cpu } = results.single;
    const p50 = percentile(samples, 0.5);
    const p99 = percentile(samples, 0.99);
    console.log(`Single-run latency, ${samples.length} sequential runs of \`true\` on 1 real agent (${args.agent}):`);
    console.log(`  p50 ${ms(p50)}  target ≤ 15 ms: ${verdict(p50 <= 15)}`);
    console.log(`  p99 ${ms(p99)}  target ≤ 50 ms: ${verdict(p99 <= 50)}   (max ${ms(Math.max(...samples))})`);
    console.log(
      `  hub timestamps, median from the run's createdAt: dispatch acked +${median(stages.dispatched)} ms, started +${median(stages.started)} ms, finished +${median(stages.finished)} ms`,
    );
    console.log(`  agent CPU per execution: ${ms(agentMsPerExecution)} (the agent process alone, without its command)`);
    console.log(`  CPU: ${cpu}`);
  }
  if (results.sustained) {
    const s = results.sustained;
    console.log(`Sustained, ${IN_FLIGHT} runs on all ${SIM} simulated agents kept in flight for ${s.seconds.toFixed(1)} s (${s.runsPosted} runs posted in all):`);
    console.log(`  ${s.perSecond.toFixed(0)} executions/s succeeded (${s.executions} executions)  target ≥ 1000/s: ${verdict(s.perSecond >= 1000)}`);
    console.log(`  CPU: ${s.cpu}`);
    console.log(
      `  per execution: ${s.hubMsPerExecution.toFixed(2)} ms of hub CPU, ~${s.transactionsPerExecution.toFixed(2)} PostgreSQL transactions (pg_stat_database)`,
    );
  }
  if (profileDir) {
    console.log(`Hub CPU profiles in ${profileDir}:`);
    phases.forEach((name, i) => console.log(`  hub-${i + 1}.cpuprofile  ${name}`));
  }
} finally {
  for (const w of workers) w.kill('SIGKILL');
  await stopAgents().catch(() => undefined);
  if (hub && hub.exitCode === null) await stopHub().catch(() => undefined);
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}

// Idle cost of the real agent (issue 3): RSS and CPU of one connected agent doing nothing but its
// heartbeats and health samples at the default intervals: the single binary against a plain-HTTP
// hub and against a wss:// one (a TLS front on loopback; needs openssl), trusted through
// --ca-file and through the host's certificate store, and the bundle on this machine's Node. Each
// runs with the environment its service would have, not this shell's.
//
//   node scripts/bench/agent-idle.mjs [--seconds 60] [--warmup-seconds 20]
//
// Needs `npm run build:agent` (the binary) and `npm run build`; the hub runs on its embedded database.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { freePort, procStat, sleep, until } from './bench-support.mjs';

const execFileAsync = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, 'warmup-seconds': { type: 'string', default: '20' } },
});
const binary = path.join(root, 'dist/agent-binaries/outpost-agent-linux-x64');
const bundle = path.join(root, 'dist/apps/agent/main.cjs');
/** OpenSSL's default directory of trusted certificates, each linked by its subject's hash. */
const SYSTEM_CERTS = '/etc/ssl/certs';


const dir = mkdtempSync(path.join(os.tmpdir(), 'outpost-agent-idle-'));
const port = await freePort();
const hubUrl = `http://127.0.0.1:${port}`;
const hub = spawn(process.execPath, [path.join(root, 'dist/apps/hub/main.js')], {
  env: { ...process.env, HUB_PORT: String(port), HUB_HOST: '127.0.0.1', HUB_DATA_DIR: path.join(dir, 'hub'), HUB_ADMIN_PASSWORD: 'bench-admin-password', HUB_RATE_LIMIT_REQUESTS: '100000000', HUB_LOG_LEVEL: 'warn', HUB_LOG_FORMAT: 'json', DATABASE_URL: '' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const agents = [];
let tlsFront;
// A service gets the environment its unit gives it (PATH, and the installer's proxy variables),
// not the shell's: this machine's NODE_EXTRA_CA_CERTS alone makes a TLS agent parse ~140 more
// certificates (+0.8 MB).
const serviceEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' };

/**
 * A TLS front on loopback for the hub, as a reverse proxy would be, with a self-signed certificate
 * made by openssl: the agent is enrolled with `--ca-file` and keeps a wss:// connection.
 */
async function tlsFrontFor(hubPort) {
  const caFile = path.join(dir, 'front.crt');
  const keyFile = path.join(dir, 'front.key');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
  tlsFront = tls.createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (client) => {
    const upstream = net.connect(hubPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const frontPort = await freePort();
  await new Promise((resolve) => tlsFront.listen(frontPort, '127.0.0.1', resolve));
  const hashedDir = path.join(dir, 'host-certs');
  mkdirSync(hashedDir);
  copyFileSync(caFile, path.join(hashedDir, 'outpost-front.crt'));
  const rehashed = spawnSync('openssl', ['rehash', hashedDir], { encoding: 'utf8' });
  if (rehashed.status !== 0) throw new Error(`openssl rehash failed: ${rehashed.stderr}`);
  return { url: `https://127.0.0.1:${frontPort}`, caFile, hashedDir };
}

try {
  await until(() => fetch(`${hubUrl}/health/ready`).then((r) => r.ok, () => false), 120_000, 'the hub');
  const login = await (await fetch(`${hubUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }),
  })).json();
  const auth = { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' };

  // The build writes the binary in one large write, and Linux keeps such a file in the page cache
  // in large folios, which a process maps whole: run from dist/ it shows ~15 MB more file-backed
  // RSS than the same file written the way a host gets it (downloaded, in small writes; or read
  // back from disk after a reboot). So it is measured as installed: copied in 64 KiB writes.
  const installed = path.join(dir, 'outpost-agent');
  if (existsSync(binary)) await pipeline(createReadStream(binary), createWriteStream(installed, { mode: 0o755 }));
  // Hubs in production speak wss://: TLS and its OpenSSL state cost the agent memory of their own.
  const front = existsSync(binary) ? await tlsFrontFor(port) : undefined;
  const variants = [
    ...(front
      ? [
          { name: 'single binary (Node 24)', command: [installed], url: hubUrl },
          { name: 'single binary, wss:// hub', command: [installed], url: front.url, enrollArgs: ['--ca-file', front.caFile] },
          // Trusted through the host's store instead, as `update-ca-certificates` leaves it: the
          // front's certificate linked by its hash in a directory OpenSSL searches after the system's.
          { name: 'binary, wss://, host CAs', command: [installed], url: front.url, env: { SSL_CERT_DIR: `${SYSTEM_CERTS}:${front.hashedDir}` } },
        ]
      : []),
    { name: `bundle on Node ${process.versions.node}`, command: [process.execPath, bundle], url: hubUrl },
  ];
  console.log(`\nAgent idle benchmark: ${args['warmup-seconds']} s warm-up, then ${args.seconds} s measured (heartbeat and health at the hub's defaults)`);
  for (const variant of variants) {
    const token = (await (await fetch(`${hubUrl}/api/v1/enrollment-tokens`, { method: 'POST', headers: auth, body: '{}' })).json()).token;
    const config = path.join(dir, `${agents.length}`, 'agent.json');
    const [command, ...prefix] = variant.command;
    // Not spawnSync: the TLS front runs in this process and must answer the enrollment.
    await execFileAsync(command, [...prefix, 'enroll', '--hub', variant.url, '--token', token, '--config', config, ...(variant.enrollArgs ?? [])], { env: { ...serviceEnv, ...variant.env } }).catch((error) => {
      throw new Error(`enroll failed: ${error.stderr}`);
    });
    const agentId = JSON.parse(readFileSync(config, 'utf8')).agentId;
    const agent = spawn(command, [...prefix, 'run', '--config', config, '--log-level', 'warn'], { env: { ...serviceEnv, ...variant.env }, stdio: ['ignore', 'ignore', 'inherit'] });
    agents.push(agent);
    await until(async () => (await (await fetch(`${hubUrl}/api/v1/agents/${agentId}`, { headers: auth })).json()).status === 'online', 30_000, 'the agent');
    await sleep(Number(args['warmup-seconds']) * 1000);
    const before = procStat(agent.pid);
    const started = Date.now();
    let peakRss = before.rssBytes;
    while (Date.now() - started < Number(args.seconds) * 1000) {
      await sleep(1000);
      peakRss = Math.max(peakRss, procStat(agent.pid).rssBytes);
    }
    const after = procStat(agent.pid);
    const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) / 1024;
    const cpuPercent = ((after.cpuTicks - before.cpuTicks) / 100 / ((Date.now() - started) / 1000)) * 100;
    console.log(`  ${variant.name.padEnd(27)} RSS ${(after.rssBytes / 2 ** 20).toFixed(1)} MB (peak ${(peakRss / 2 ** 20).toFixed(1)} MB, target ≤ 60 MB; anonymous ${kb('RssAnon').toFixed(1)} MB, file-backed ${kb('RssFile').toFixed(1)} MB), CPU ${cpuPercent.toFixed(2)} % of a core (target ≤ 0.5 %)`);
  }
} finally {
  tlsFront?.close();
  for (const agent of agents) agent.kill('SIGTERM');
  hub.kill('SIGTERM');
  await new Promise((r) => hub.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}

// `npm start`: the hub on its embedded database plus one local agent, ready to use.
// The local agent's identity is kept in the hub's data dir and reused on every start.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.resolve(process.env.HUB_DATA_DIR ?? 'data');
const port = process.env.HUB_PORT ?? '8080';
const localAgentConfig = path.join(dataDir, 'local-agent.json');
const hubUrl = `http://127.0.0.1:${port}`;
const publicUrl = (process.env.HUB_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
const READY_DEADLINE_MS = 120_000;

const hub = spawn(process.execPath, [path.join(root, 'dist/apps/hub/main.js')], {
  stdio: 'inherit',
  env: { ...process.env, HUB_DATA_DIR: dataDir, HUB_LOCAL_AGENT_CONFIG: localAgentConfig },
});
let agent = null;
let stopping = false;

function stop(signal) {
  if (stopping) return;
  stopping = true;
  agent?.kill(signal);
  hub.kill(signal);
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
hub.on('exit', (code) => {
  // A hub stopped by the signal we forwarded exits by that signal: that is a clean stop.
  const requested = stopping;
  if (!stopping) {
    stopping = true;
    agent?.kill('SIGTERM');
  }
  process.exitCode = code ?? (requested ? 0 : 1);
});

async function hubReady() {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (stopping) return false;
    const ok = await fetch(`${hubUrl}/health/ready`).then((r) => r.ok, () => false);
    if (ok && existsSync(localAgentConfig)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

if (await hubReady()) {
  agent = spawn(
    process.execPath,
    [path.join(root, 'dist/apps/agent/main.cjs'), 'run', '--config', localAgentConfig, '--data-dir', path.join(dataDir, 'local-agent')],
    { stdio: 'inherit' },
  );
  agent.on('exit', (code) => {
    if (!stopping) process.stderr.write(`The local agent exited (code ${code}); the hub keeps running.\n`);
  });
  const passwordFile = path.relative(process.cwd(), path.join(dataDir, 'admin-password'));
  const password = process.env.HUB_ADMIN_PASSWORD ? '$HUB_ADMIN_PASSWORD' : `$(cat ${passwordFile})`;
  process.stdout.write(`
A local agent is running next to the hub. Try it:

  TOKEN=$(curl -s ${publicUrl}/api/v1/auth/login -H 'content-type: application/json' \\
    -d "{\\"username\\":\\"admin\\",\\"password\\":\\"${password}\\"}" | sed -E 's/.*"accessToken":"([^"]+)".*/\\1/')
  AGENT=$(curl -s ${publicUrl}/api/v1/agents -H "authorization: Bearer $TOKEN" | sed -E 's/.*"id":"([^"]+)".*/\\1/')
  RUN=$(curl -s ${publicUrl}/api/v1/runs -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d "{\\"command\\":\\"echo hello\\",\\"target\\":{\\"agentIds\\":[\\"$AGENT\\"]}}")
  EXEC=$(echo "$RUN" | sed -E 's/.*"executions":\\[\\{"id":"([^"]+)".*/\\1/')
  sleep 1; curl -s ${publicUrl}/api/v1/executions/$EXEC -H "authorization: Bearer $TOKEN"; echo
  curl -s ${publicUrl}/api/v1/executions/$EXEC/output -H "authorization: Bearer $TOKEN"

Stop with Ctrl+C.
`);
} else if (!stopping) {
  process.stderr.write(`The hub did not become ready within ${READY_DEADLINE_MS / 1000} s; stopping.\n`);
  stop('SIGTERM');
}

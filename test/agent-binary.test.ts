import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MALLOC_TUNABLES } from '../apps/agent/src/malloc-tuning';
import { AGENT_BINARY, hasBinary } from './support/agent-binaries';
import { Child } from './support/child-process';
import { ROOT } from './support/paths';
import { TestHub } from './support/test-hub';

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const QEMU_AARCH64 = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).stdout.trim();
/** Where libc6-arm64-cross puts the aarch64 loader and libc that qemu-user needs for a dynamic binary. */
const AARCH64_SYSROOT = '/usr/aarch64-linux-gnu';

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** e_machine of a 64-bit little-endian ELF executable, or a description of what the file is instead. */
function elfMachine(file: string): number | string {
  const header = readFileSync(file).subarray(0, 20);
  if (header.toString('latin1', 0, 4) !== '\x7fELF') return 'not an ELF file';
  if (header[4] !== 2 || header[5] !== 1) return 'not a 64-bit little-endian ELF file';
  return header.readUInt16LE(18);
}

const EM_X86_64 = 62;
const EM_AARCH64 = 183;

describe.skipIf(!hasBinary(AGENT_BINARY.linuxX64))('the linux-x64 agent binary on its own', () => {
  let hub: TestHub;
  let dir: string;
  let binary: string;
  let configPath: string;
  let enrollOutput: string;
  const processes: Child[] = [];

  /**
   * `env -i` plus a home and temp directory of its own: no PATH entry exists, so neither the
   * binary nor the commands it runs can find a node (or anything else) on this machine.
   */
  const bareEnv = (): NodeJS.ProcessEnv => ({ PATH: '/nonexistent', HOME: path.join(dir, 'home'), TMPDIR: path.join(dir, 'tmp') });

  async function runBinary(args: string[]): Promise<Child> {
    const child = new Child(binary, args, bareEnv(), dir);
    processes.push(child);
    await child.waitExit(30_000);
    return child;
  }

  beforeAll(async () => {
    hub = await TestHub.start({ database: 'embedded', embeddedTemplate: inject('embeddedTemplate') });
    dir = mkdtempSync(path.join(os.tmpdir(), 'outpost-binary-'));
    mkdirSync(path.join(dir, 'home'));
    mkdirSync(path.join(dir, 'tmp'));
    binary = path.join(dir, 'outpost-agent');
    copyFileSync(AGENT_BINARY.linuxX64, binary);
    chmodSync(binary, 0o755);
    configPath = path.join(dir, 'agent.json');
    const token = await hub.api('POST', '/api/v1/enrollment-tokens', { labels: { via: 'binary' }, maxUses: 1 });
    if (token.status !== 201) throw new Error(`token creation failed: ${token.text}`);
    const enroll = await runBinary(['enroll', '--hub', hub.url, '--token', token.body.token, '--config', configPath, '--name', 'bare-binary']);
    if (enroll.exitCode !== 0) throw new Error(`enroll with the binary failed (${enroll.exitCode}): ${enroll.output}`);
    enrollOutput = enroll.output;
  });

  afterAll(async () => {
    await Promise.all(processes.map((child) => child.stop()));
    await hub?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const config = () => JSON.parse(readFileSync(configPath, 'utf8')) as { agentId: string; credential: string };

  it('binary --version prints the version of package.json and nothing else', async () => {
    const child = await runBinary(['--version']);
    expect(child.exitCode).toBe(0);
    // Also proves the SEA "experimental feature" warning is off: it would be on stderr.
    expect(child.output).toBe(`${VERSION}\n`);
  });

  it('the binary, copied alone into an empty directory with no PATH, enrolls, comes online and runs a command', async () => {
    const { agentId } = config();
    expect(enrollOutput).toContain(`enrolled as bare-binary (${agentId})`);
    expect(spawnSync('node', ['--version'], { env: bareEnv() }).error).toMatchObject({ code: 'ENOENT' });

    const agent = new Child(binary, ['run', '--config', configPath, '--data-dir', path.join(dir, 'data'), '--kill-grace-seconds', '1'], bareEnv(), dir);
    processes.push(agent);
    const online = await hub.waitForAgentStatus(agentId, 'online', 30_000);
    expect(online).toMatchObject({ name: 'bare-binary', version: VERSION, os: 'linux', arch: 'x64' });

    const run = async (command: string) => {
      const response = await hub.api('POST', '/api/v1/runs', { command, target: { agentIds: [agentId] } });
      expect(response.status, response.text).toBe(201);
      const id = response.body.executions[0].id as string;
      const execution = await hub.waitForExecution(id, ['succeeded', 'failed', 'timed_out']);
      const stdout = await hub.api('GET', `/api/v1/executions/${id}/output?stream=stdout`);
      return { execution, stdout: stdout.text };
    };
    const echo = await run('echo from-binary');
    expect(echo.execution, agent.output).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(echo.stdout).toBe('from-binary\n');
    // What the commands inherit is the binary's own bare environment.
    const lookup = await run('command -v node || echo "no node on PATH=$PATH"');
    expect(lookup.stdout).toBe('no node on PATH=/nonexistent\n');
    // The agent re-executed itself with its malloc tunables (same pid, so its exec environment
    // shows them), and took them out again before running anything.
    expect(readFileSync(`/proc/${agent.process.pid}/environ`, 'utf8').split('\0')).toContain(`GLIBC_TUNABLES=${MALLOC_TUNABLES}`);
    const inherited = await run('echo "tunables=${GLIBC_TUNABLES-unset} marker=${OUTPOST_AGENT_MALLOC_TUNED-unset}"');
    expect(inherited.stdout).toBe('tunables=unset marker=unset\n');
  });

  it('binary status shows the identity and a reachable hub, never the credential', async () => {
    const { agentId, credential } = config();
    expect(credential.length).toBeGreaterThanOrEqual(16);
    const child = await runBinary(['status', '--config', configPath]);
    expect(child.exitCode, child.output).toBe(0);
    expect(child.output).toContain(`agent id: ${agentId}`);
    expect(child.output).toContain(`hub url: ${hub.url}`);
    expect(child.output).toMatch(/^hub: reachable \(HTTP 200, \d+ ms\)$/m);
    expect(child.output).not.toContain(credential);
  });
});

describe('the agent binaries as built', () => {
  it.skipIf(!hasBinary(AGENT_BINARY.linuxX64) || !hasBinary(AGENT_BINARY.linuxArm64))(
    'each linux binary is a 64-bit ELF executable for its architecture',
    () => {
      expect(elfMachine(AGENT_BINARY.linuxX64)).toBe(EM_X86_64);
      expect(elfMachine(AGENT_BINARY.linuxArm64)).toBe(EM_AARCH64);
    },
  );

  it.skipIf(!hasBinary(AGENT_BINARY.linuxArm64))('the linux-arm64 binary prints the version under qemu-aarch64-static', async (context) => {
    if (!QEMU_AARCH64) context.skip('qemu-aarch64-static is not installed (apt-get install qemu-user-static libc6-arm64-cross)');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'outpost-arm64-'));
    const child = new Child(QEMU_AARCH64, [AGENT_BINARY.linuxArm64, '--version'], { PATH: '/nonexistent', QEMU_LD_PREFIX: AARCH64_SYSROOT }, dir);
    try {
      // Emulated, Node takes seconds to start.
      await child.waitExit(90_000);
      expect(child.exitCode, child.output).toBe(0);
      expect(child.output).toBe(`${VERSION}\n`);
    } finally {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const binaries = Object.values(AGENT_BINARY);
  it.skipIf(!binaries.every(hasBinary)).each(binaries.map((file) => [path.basename(file), file]))(
    'the checksum of binary %s is its SHA-256, in sha256sum format',
    async (name, file) => {
      const text = readFileSync(`${file}.sha256`, 'utf8');
      expect(text).toMatch(/^[0-9a-f]{64} {2}\S+\n$/);
      expect(text).toBe(`${await sha256Of(file)}  ${name}\n`);
      const check = spawnSync('sha256sum', ['--check', '--strict', `${name}.sha256`], { cwd: path.dirname(file), encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toBe(`${name}: OK\n`);
    },
  );
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { AGENT_BINARY, BUILD_HINT, hasBinary } from './support/agent-binaries';
import { Child } from './support/child-process';
import { FAKE_AGENT, FakeInstallHub, INSTALL_PS1_TEMPLATE, INSTALL_SH_TEMPLATE, withHubUrl } from './support/fake-install-hub';
import { TestHub } from './support/test-hub';

const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
const systemdRunning = existsSync('/run/systemd/system');
const TOKEN = 'opt_the-enrollment-token-never-printed';

/** Runs `curl -fsSL $HUB/install.sh | sh -s -- ARGS`, exactly as an operator pastes it. */
async function pipeInstall(hubUrl: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const quoted = args.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = new Child('sh', ['-c', `curl -fsSL '${hubUrl}/install.sh' | sh -s -- ${quoted}`], options.env ?? process.env, options.cwd);
  await child.waitExit(120_000);
  return child;
}

/** The `... run --config ...` line the script printed, split into words (no quoting needed in these paths). */
function manualStartLine(output: string): string[] {
  const line = output.split('\n').find((l) => /^ {2}\S+outpost-agent run --config /.test(l));
  if (!line) throw new Error(`no manual start line in:\n${output}`);
  return line.trim().split(' ');
}

describe('install.sh', () => {
  it.skipIf(!hasShellcheck)('passes shellcheck', () => {
    const result = spawnSync('shellcheck', ['--shell=sh', INSTALL_SH_TEMPLATE], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });

  it('refuses to run when it was not served by a hub (placeholder still there)', () => {
    const result = spawnSync('sh', [INSTALL_SH_TEMPLATE, '--token', TOKEN, '--prefix', os.tmpdir()], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('download this script from your hub');
  });

  it('names only the hub URL through the placeholder, and the download paths of the hub contract', () => {
    const script = withHubUrl(readFileSync(INSTALL_SH_TEMPLATE, 'utf8'), 'https://hub.example.com');
    expect(script).toContain("HUB_URL='https://hub.example.com'");
    expect(script).not.toContain('__OUTPOST_HUB_URL__');
    expect(script).toContain('"$HUB_URL/downloads/agent/$PLATFORM"');
    expect(script).toContain('"$HUB_URL/downloads/agent/$PLATFORM.sha256"');
  });
});

describe('install.sh against a stand-in hub (its own logic)', () => {
  let hub: FakeInstallHub;
  let dir: string;
  let log: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    hub = await FakeInstallHub.start({
      'linux-x64': { content: FAKE_AGENT },
      'linux-arm64': { content: FAKE_AGENT.replace('9.9.9-fake', '9.9.9-arm64') },
    });
  });
  afterAll(async () => {
    await hub.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'outpost-install-'));
    log = path.join(dir, 'calls.log');
    env = { ...process.env, OUTPOST_FAKE_LOG: log };
    hub.requests.length = 0;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const calls = (): string[] => readFileSync(log, 'utf8').trim().split('\n');

  it('installs, verifies, enrolls with every option, and says how to start the agent by hand', async () => {
    const prefix = path.join(dir, 'opt');
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, 'not used by the fake agent');
    const child = await pipeInstall(
      hub.url,
      ['--token', TOKEN, '--prefix', prefix, '--no-service', '--name', 'web-7', '--ca-file', caFile, '--pin', `sha256:${'AB:'.repeat(31)}AB`, '--replace'],
      { env },
    );
    expect(child.exitCode, child.output).toBe(0);
    const binary = path.join(prefix, 'bin/outpost-agent');
    expect(statSync(binary).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(prefix, 'var/lib/outpost')).mode & 0o777).toBe(0o700);
    const config = path.join(prefix, 'etc/outpost/agent.json');
    expect(calls()).toEqual([
      '--version',
      `enroll --hub ${hub.url} --token ${TOKEN} --config ${config} --name web-7 --ca-file ${caFile} --pin sha256:${'ab'.repeat(32)} --replace`,
    ]);
    expect(hub.requests).toEqual(['/install.sh', '/downloads/agent/linux-x64', '/downloads/agent/linux-x64.sha256']);
    expect(manualStartLine(child.output)).toEqual([binary, 'run', '--config', config, '--data-dir', path.join(prefix, 'var/lib/outpost')]);
    expect(child.output).toContain('checksum verified');
    expect(child.output).not.toContain(TOKEN);
  });

  it('keeps a relative --prefix under the directory it was run from', async () => {
    const child = await pipeInstall(hub.url, ['--token', TOKEN, '--prefix', 'here', '--no-service'], { env, cwd: dir });
    expect(child.exitCode, child.output).toBe(0);
    expect(existsSync(path.join(dir, 'here/bin/outpost-agent'))).toBe(true);
    expect(manualStartLine(child.output)[0]).toBe(path.join(dir, 'here/bin/outpost-agent'));
  });

  it.skipIf(systemdRunning)('without systemd, installs no service and says how to start the agent', async () => {
    const child = await pipeInstall(hub.url, ['--token', TOKEN, '--prefix', dir], { env });
    expect(child.exitCode, child.output).toBe(0);
    expect(child.output).toContain('systemd is not running on this host, so no service was installed');
    expect(manualStartLine(child.output)[1]).toBe('run');
    expect(calls().some((call) => call.startsWith('install'))).toBe(false);
  });

  it('refuses a binary whose checksum does not match, and installs nothing', async () => {
    const bad = await FakeInstallHub.start({ 'linux-x64': { content: FAKE_AGENT, sha256: 'f'.repeat(64) } });
    try {
      const child = await pipeInstall(bad.url, ['--token', TOKEN, '--prefix', dir, '--no-service'], { env });
      expect(child.exitCode).toBe(1);
      expect(child.output).toMatch(/checksum mismatch for the linux-x64 agent: expected f{64}, got [0-9a-f]{64}/);
      expect(existsSync(path.join(dir, 'bin/outpost-agent'))).toBe(false);
    } finally {
      await bad.close();
    }
  });

  it('fails when the enrollment fails, without printing the token', async () => {
    const child = await pipeInstall(hub.url, ['--token', TOKEN, '--prefix', dir, '--no-service'], {
      env: { ...env, OUTPOST_FAKE_ENROLL_FAILS: '1' },
    });
    expect(child.exitCode).toBe(1);
    expect(child.output).toContain('enroll failed: UNAUTHORIZED: enrollment token expired');
    expect(child.output).toContain('outpost: error: enrollment failed');
    expect(child.output).not.toContain(TOKEN);
  });

  it('explains a missing token, an unknown option and a malformed pin', async () => {
    const noToken = await pipeInstall(hub.url, ['--prefix', dir], { env });
    expect(noToken.exitCode).toBe(1);
    expect(noToken.output).toContain('--token is required');
    const unknown = await pipeInstall(hub.url, ['--token', TOKEN, '--frobnicate'], { env });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.output).toContain('unknown option: --frobnicate');
    const badPin = await pipeInstall(hub.url, ['--token', TOKEN, '--prefix', dir, '--pin', 'sha256:xyz'], { env });
    expect(badPin.exitCode).toBe(1);
    expect(badPin.output).toContain('invalid --pin');
  });

  /** A PATH holding only the tools the script may use (symlinks), with `uname -m` answering `machine`. */
  function restrictedPath(options: { machine?: string; without?: string[] } = {}): string {
    const bin = path.join(dir, 'path');
    mkdirSync(bin);
    const tools = ['sh', 'curl', 'wget', 'uname', 'id', 'mktemp', 'rm', 'cut', 'tr', 'sed', 'grep', 'cp', 'chmod', 'mv', 'mkdir', 'sha256sum', 'cat', 'dirname'];
    for (const tool of tools.filter((t) => !(options.without ?? []).includes(t))) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found) symlinkSync(found, path.join(bin, tool));
    }
    if (options.machine !== undefined) {
      rmSync(path.join(bin, 'uname'));
      writeFileSync(path.join(bin, 'uname'), `#!/bin/sh\n[ "$1" = -m ] && echo ${options.machine} || echo Linux\n`, { mode: 0o755 });
    }
    return bin;
  }

  it('downloads the arm64 agent on aarch64 and refuses an architecture the hub does not serve', async () => {
    const arm = await pipeInstall(hub.url, ['--token', TOKEN, '--prefix', dir, '--no-service'], {
      env: { ...env, PATH: restrictedPath({ machine: 'aarch64' }) },
    });
    expect(arm.exitCode, arm.output).toBe(0);
    expect(hub.requests).toContain('/downloads/agent/linux-arm64');
    expect(arm.output).toContain('installed outpost-agent 9.9.9-arm64');
    rmSync(path.join(dir, 'path'), { recursive: true });
    const mips = await pipeInstall(hub.url, ['--token', TOKEN, '--prefix', dir], { env: { ...env, PATH: restrictedPath({ machine: 'mips' }) } });
    expect(mips.exitCode).toBe(1);
    expect(mips.output).toContain('unsupported architecture mips');
  });

  it('falls back to wget when curl is missing', async () => {
    // The pipe's own curl runs with the normal PATH; the script below it sees no curl.
    const bin = restrictedPath({ without: ['curl'] });
    const script = path.join(dir, 'install.sh');
    writeFileSync(script, withHubUrl(readFileSync(INSTALL_SH_TEMPLATE, 'utf8'), hub.url));
    const child = new Child('sh', [script, '--token', TOKEN, '--prefix', path.join(dir, 'p'), '--no-service'], { ...env, PATH: bin });
    await child.waitExit(60_000);
    expect(child.exitCode, child.output).toBe(0);
    expect(existsSync(path.join(dir, 'p/bin/outpost-agent'))).toBe(true);
  });
});

describe('install.ps1 (Windows; it cannot run here, so its text is checked)', () => {
  const script = withHubUrl(readFileSync(INSTALL_PS1_TEMPLATE, 'utf8'), 'https://hub.example.com:8443');

  it('takes the contract’s parameters', () => {
    const params = /param\s*\(([\s\S]*?)\n\)/i.exec(script)?.[1] ?? '';
    for (const name of ['Token', 'Prefix', 'NoService', 'Name', 'CaFile', 'Pin', 'Replace']) {
      expect(params).toMatch(new RegExp(`\\$${name}\\b`));
    }
    expect(params).toMatch(/\[switch\]\s*\$NoService/);
    expect(params).toMatch(/\[switch\]\s*\$Replace/);
  });

  it('downloads the agent and the service wrapper from the hub and verifies both with Get-FileHash', () => {
    expect(script).not.toContain('__OUTPOST_HUB_URL__');
    expect(script).toContain("$HubUrl = 'https://hub.example.com:8443'");
    expect(script).toContain('"$HubUrl/downloads/agent/win-x64"');
    expect(script).toContain('"$HubUrl/downloads/agent/win-x64-service-wrapper"');
    expect(script).toMatch(/Get-FileHash\s+-Algorithm\s+SHA256/);
    expect(script).toContain('.sha256');
  });

  it('installs under Program Files, keeps the config in ProgramData, names the wrapper as WinSW needs', () => {
    expect(script).toContain("Join-Path $env:ProgramFiles 'Outpost'");
    expect(script).toContain("Join-Path $env:ProgramData 'Outpost'");
    expect(script).toContain("'outpost-agent.exe'");
    expect(script).toContain("'outpost-agent-service.exe'");
    expect(script).toMatch(/& \$Agent enroll /);
    expect(script).toMatch(/& \$Agent install /);
  });

  it('has balanced braces, brackets and parentheses outside strings and comments', () => {
    const code = script
      .replace(/<#[\s\S]*?#>/g, '')
      .replace(/#.*$/gm, '')
      .replace(/@'[\s\S]*?'@/g, "''")
      .replace(/'(?:[^']|'')*'/g, "''")
      .replace(/"(?:[^"`]|`.)*"/g, '""');
    const stack: string[] = [];
    const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
    for (const char of code) {
      if ('([{'.includes(char)) stack.push(char);
      else if (char in pairs) expect(stack.pop(), `unbalanced ${char}`).toBe(pairs[char]);
    }
    expect(stack).toEqual([]);
  });
});

describe.skipIf(!hasBinary(AGENT_BINARY.linuxX64))('install script with the real binary and hub', () => {
  let hub: TestHub;
  let dir: string;
  const agents: Child[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({ database: 'embedded', embeddedTemplate: inject('embeddedTemplate') });
  });
  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await hub?.destroy();
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'outpost-install-real-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the hub serves the script with its public URL written in', async () => {
    const served = await hub.request('GET', '/install.sh', undefined, null);
    expect(served.status).toBe(200);
    expect(served.text).not.toContain('__OUTPOST_HUB_URL__');
    expect(served.text).toMatch(/^HUB_URL='http:\/\/[^']+'$/m);
    const ps1 = await hub.request('GET', '/install.ps1', undefined, null);
    expect(ps1.status).toBe(200);
    expect(ps1.text).not.toContain('__OUTPOST_HUB_URL__');
  });

  it('curl | sh --token T --prefix DIR --no-service installs and enrolls the agent, which then runs', async () => {
    const token = await hub.api('POST', '/api/v1/enrollment-tokens', { labels: { via: 'install-sh' }, maxUses: 1 });
    expect(token.status, token.text).toBe(201);
    const child = await pipeInstall(hub.url, ['--token', token.body.token, '--prefix', dir, '--no-service']);
    expect(child.exitCode, child.output).toBe(0);
    expect(child.output).not.toContain(token.body.token);

    const binary = path.join(dir, 'bin/outpost-agent');
    expect(statSync(binary).mode & 0o111).not.toBe(0);
    const configPath = path.join(dir, 'etc/outpost/agent.json');
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as { agentId: string };
    const listed = await hub.api('GET', '/api/v1/agents?labels=via=install-sh');
    expect(listed.body.items.map((agent: { id: string }) => agent.id)).toEqual([config.agentId]);

    // The printed line is the whole story: run it as is, and the agent comes online.
    const [command, ...args] = manualStartLine(child.output);
    expect(command).toBe(binary);
    const agent = new Child(command!, args, { PATH: '/usr/bin:/bin' });
    agents.push(agent);
    await hub.waitForAgentStatus(config.agentId, 'online', 30_000);
  });
});

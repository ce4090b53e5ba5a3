import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_BINARY, hasBinary } from './support/agent-binaries';
import { AGENT_MAIN, ROOT } from './support/paths';

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const TEMPLATE = path.join(ROOT, 'deploy/systemd/outpost-agent.service');
const UNIT_PATH = '/etc/systemd/system/outpost-agent.service';

/** The agent as it is shipped: the bundle run by node, and the single binary when it was built. */
const agents: Array<[string, string[]]> = [
  ['the bundle', [process.execPath, AGENT_MAIN]],
  ...(hasBinary(AGENT_BINARY.linuxX64) ? [['the linux-x64 binary', [AGENT_BINARY.linuxX64]] as [string, string[]]] : []),
];

/**
 * deploy/systemd/outpost-agent.service is the template that `outpost-agent install` renders (it is
 * bundled into the agent), not a unit: its @PLACEHOLDER@ lines are not systemd syntax. So the
 * check is on what the shipped agent makes of it, with awkward but legal paths and proxy settings.
 */
describe.skipIf(!hasSystemdAnalyze).each(agents)('systemd unit from %s', (_name, agent) => {
  let dir: string;
  beforeAll(() => {
    // A space and a percent sign: both need escaping in a unit, and install.sh allows any --prefix.
    dir = mkdtempSync(path.join(os.tmpdir(), 'outpost unit 100%-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function printedUnit(extra: string[] = []): string {
    const [command, ...args] = agent;
    const configPath = path.join(dir, 'etc/outpost/agent.json');
    const dataDir = path.join(dir, 'var/lib/outpost');
    const result = spawnSync(command!, [...args, 'install', '--print', '--config', configPath, '--data-dir', dataDir, ...extra], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HTTPS_PROXY: 'http://user:p%40ss@proxy.corp:3128', NO_PROXY: 'localhost, .corp' },
    });
    expect(result.status, result.stderr).toBe(0);
    const [header, ...unit] = result.stdout.split('\n');
    expect(header).toBe(`# ${UNIT_PATH}`);
    return unit.join('\n');
  }

  function verify(unit: string): { status: number | null; output: string } {
    const file = path.join(dir, 'outpost-agent.service');
    writeFileSync(file, unit);
    const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  it('systemd-analyze verify passes on the unit install --print writes, sandboxed and with --no-sandbox', () => {
    const unit = printedUnit();
    // The shipped agent runs itself: node and the bundle, or the binary alone (it knows it is one).
    expect(unit).toContain(`\nExecStart=${agent.join(' ')} run --config "`);
    expect(unit).toContain('\nEnvironment="HTTPS_PROXY=http://user:p%%40ss@proxy.corp:3128"\n');
    expect(unit).toContain('\nProtectSystem=strict\n');
    expect(verify(unit)).toEqual({ status: 0, output: '' });
    const open = printedUnit(['--no-sandbox']);
    expect(open).not.toContain('ProtectSystem');
    expect(verify(open)).toEqual({ status: 0, output: '' });
  });

  it('systemd-analyze verify fails when ExecStart names no executable (so a pass above means something)', () => {
    const unit = printedUnit(['--binary', path.join(dir, 'missing-agent')]);
    const result = verify(unit);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('is not executable');
  });

  it('the systemd unit is the deploy template line for line, only its placeholders filled in', () => {
    const unit = printedUnit().split('\n');
    const template = readFileSync(TEMPLATE, 'utf8').trimEnd().split('\n');
    let at = 0;
    for (const line of template.filter((l) => !/@[A-Z_]+@/.test(l))) {
      const found = unit.indexOf(line, at);
      expect(found, `template line ${JSON.stringify(line)} missing from the unit (or out of order)`).toBeGreaterThanOrEqual(at);
      at = found + 1;
    }
  });
});

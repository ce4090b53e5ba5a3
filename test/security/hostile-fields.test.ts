import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Child } from '../support/child-process';
import { databaseKinds } from '../support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from '../support/test-agent';
import { TestHub } from '../support/test-hub';
import { userToken } from './support/database-user';

/** Each would do something if a shell ever re-read it: create PWNED in the probe's folder, say. */
function hostileValues(dir: string): string[] {
  const pwned = path.join(dir, 'PWNED');
  return [
    `"double" 'single' "unbalanced`,
    `$(touch ${pwned})`,
    `\`touch ${pwned}\``,
    `a; touch ${pwned}`,
    `x && touch ${pwned} || touch ${pwned}`,
    `| touch ${pwned} > /dev/null &`,
    'line one\nline two\r\nline three',
    '${HOME} $HOME %PATH% ~',
    'ünïcödé ✓ 日本語 ﷽ \u202e',
    '🚀👩‍👩‍👧 emoji',
    '--help',
    '-rf',
    '*',
    'back\\slash\\',
    '  spaces around  ',
    '',
  ];
}

/** Prints its arguments and every HOSTILE_* variable as JSON: what the process really received. */
const PROBE = `
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('HOSTILE_')).sort());
process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), env }));
`;

describe.each(databaseKinds())('hostile job fields on %s database', (database) => {
  let hub: TestHub;
  let agent: EnrolledAgent;
  let agentProcess: Child;
  let dir: string;
  let probe: string;
  let hostile: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'outpost-hostile-'));
    probe = path.join(dir, 'probe.cjs');
    writeFileSync(probe, PROBE);
    hostile = hostileValues(dir);
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
    agent = await enrollAgent(hub, { name: 'probe-host', labels: { tier: 'probe' } });
    agentProcess = startAgent(agent);
    await hub.waitForAgentStatus(agent.agentId, 'online');
  });

  afterAll(async () => {
    await agentProcess?.stop();
    await hub?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs on the probe host; returns the succeeded execution's output. */
  async function runAndRead(body: Record<string, unknown>): Promise<string> {
    const run = await hub.api('POST', '/api/v1/runs', { target: { agentIds: [agent.agentId] }, ...body });
    expect(run.status, run.text).toBe(201);
    const execution = await hub.waitForExecution(run.body.executions[0].id, ['succeeded', 'failed', 'timed_out']);
    const output = await hub.api('GET', `/api/v1/executions/${execution.id}/output?format=raw`);
    expect(execution.status, output.text).toBe('succeeded');
    return output.text;
  }

  const hostileEnv = () => Object.fromEntries(hostile.map((value, i) => [`HOSTILE_${String(i).padStart(2, '0')}`, value]));

  it('argv and env reach the process byte for byte, as data', async () => {
    const env = hostileEnv();
    const output = await runAndRead({ argv: [process.execPath, probe, ...hostile], env });
    expect(JSON.parse(output)).toEqual({ argv: hostile, env });
    expect(existsSync(path.join(dir, 'PWNED'))).toBe(false);
  });

  it('env values stay data inside a command and a bash script', async () => {
    const env = hostileEnv();
    const names = Object.keys(env);
    // The user's own text is the program; values only ever arrive through the environment.
    const printAll = names.map((name) => `printf '%s\\0' "$${name}"`).join('\n');
    const fromScript = await runAndRead({ script: printAll, shell: 'bash', env });
    expect(fromScript.split('\0').slice(0, -1)).toEqual(hostile);
    const fromCommand = await runAndRead({ command: printAll.replace(/\n/g, '; '), env });
    expect(fromCommand.split('\0').slice(0, -1)).toEqual(hostile);
    expect(existsSync(path.join(dir, 'PWNED'))).toBe(false);
  });

  it('refuses NUL in argv, env and cwd with VALIDATION_ERROR naming the field, for runs and jobs', async () => {
    /** The field, or a part of it (`env.GOOD.value` for `{"value": ...}`). */
    const names = (response: { body: any }, field: string) =>
      response.body.error.details.fields.some((f: { field: string }) => f.field === field || f.field.startsWith(`${field}.`));
    const runsBefore = (await hub.api('GET', '/api/v1/runs')).body.total;
    const target = { agentIds: [agent.agentId] };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ argv: ['echo', 'a\0b'] }, 'argv.1'],
      [{ command: 'echo a\0b' }, 'command'],
      [{ script: 'echo a\0b', shell: 'bash' }, 'script'],
      [{ argv: ['echo'], env: { GOOD: 'a\0b' } }, 'env.GOOD'],
      [{ argv: ['echo'], env: { GOOD: { value: 'a\0b', secret: true } } }, 'env.GOOD'],
      [{ argv: ['echo'], env: { 'BAD\0NAME': 'x' } }, 'env.BAD\0NAME'],
      [{ argv: ['echo'], cwd: '/tmp\0/x' }, 'cwd'],
    ];
    for (const [fields, field] of cases) {
      const run = await hub.api('POST', '/api/v1/runs', { target, ...fields });
      expect(run.status, JSON.stringify(fields)).toBe(400);
      expect(run.body.error.code).toBe('VALIDATION_ERROR');
      expect(names(run, field), run.text).toBe(true);
      const job = await hub.api('POST', '/api/v1/jobs', { name: `nul-${field}`, target, ...fields });
      expect(job.status, JSON.stringify(fields)).toBe(400);
      expect(names(job, field), job.text).toBe(true);
    }
    const job = await hub.api('POST', '/api/v1/jobs', { name: 'clean', target, argv: ['echo'] });
    expect(job.status, job.text).toBe(201);
    const override = await hub.api('POST', `/api/v1/jobs/${job.body.id}/run`, { env: { GOOD: 'a\0b' } });
    expect(override.status).toBe(400);
    expect(names(override, 'env.GOOD'), override.text).toBe(true);
    expect((await hub.api('GET', '/api/v1/runs')).body.total).toBe(runsBefore);
  });

  it('an empty or unmatched target is an error, never all hosts; {"all": true} is explicit', async () => {
    const before = (await hub.api('GET', '/api/v1/runs')).body.total;
    const refused: Array<[unknown, string]> = [
      [undefined, 'VALIDATION_ERROR'],
      [{}, 'VALIDATION_ERROR'],
      [{ agentIds: [] }, 'VALIDATION_ERROR'],
      [{ labels: '' }, 'VALIDATION_ERROR'],
      [{ labels: ' , ' }, 'VALIDATION_ERROR'],
      [{ all: false }, 'VALIDATION_ERROR'],
      [{ all: true, labels: 'tier=probe' }, 'VALIDATION_ERROR'],
      [{ labels: 'tier=nowhere' }, 'NO_TARGETS'],
      [{ agentIds: ['00000000-0000-4000-8000-000000000000'] }, 'NO_TARGETS'],
    ];
    for (const [target, code] of refused) {
      const run = await hub.api('POST', '/api/v1/runs', { argv: ['true'], target });
      expect(run.status, JSON.stringify(target)).toBe(400);
      expect(run.body.error.code, JSON.stringify(target)).toBe(code);
    }
    expect((await hub.api('GET', '/api/v1/runs')).body.total).toBe(before);
    const all = await hub.api('POST', '/api/v1/runs', { argv: ['true'], target: { all: true } });
    expect(all.status, all.text).toBe(201);
    expect(all.body.executions.map((e: { agentId: string }) => e.agentId)).toEqual([agent.agentId]);
  });

  it.runIf(database === 'postgres')('a viewer may not run anything', async () => {
    const viewer = await userToken(hub, 'viewer');
    const before = (await hub.api('GET', '/api/v1/runs')).body.total;
    for (const target of [{ all: true }, { agentIds: [agent.agentId] }]) {
      const run = await hub.request('POST', '/api/v1/runs', { argv: ['true'], target }, viewer);
      expect(run.status, run.text).toBe(403);
      expect(run.body.error.code).toBe('FORBIDDEN');
    }
    expect((await hub.request('GET', '/api/v1/runs', undefined, viewer)).status).toBe(200);
    expect((await hub.api('GET', '/api/v1/runs')).body.total).toBe(before);
  });
});

import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentToHubEvent,
  executionAssignSchema,
  type ExecutionAssign,
  type ExecutionFinished,
  type ExecutionOutput,
} from '@outpost/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxMessage } from '../connection/outbox';
import { isRunning, levelPids, TRAPPED_TREE } from '../testing/process-tree-fixture';
import { captureLogger, waitFor } from '../testing/test-support';
import { LeftoverProcesses } from './leftover-processes';
import { processTreeFor } from './process-tree';
import { Runner, type RunnerOptions } from './runner';

const RUN_ID = '00000000-0000-4000-8000-000000000001';

/** Accepted ids in memory, durable at once. */
function acceptedInMemory() {
  const ids = new Set<string>();
  return { has: (id: string) => ids.has(id), add: (id: string) => (ids.add(id), Promise.resolve()) };
}

/** A runner over real processes whose reports are recorded instead of sent. */
function harness(overrides: Partial<RunnerOptions> = {}) {
  const reports: OutboxMessage[] = [];
  const { logger, lines } = captureLogger();
  const dataDir = mkdtempSync(join(tmpdir(), 'outpost-runner-'));
  const runner = new Runner({
    report: (message) => reports.push(message),
    room: () => null,
    accepted: acceptedInMemory(),
    processTree: processTreeFor(process.platform),
    platform: process.platform,
    dataDir,
    maxConcurrent: 8,
    killGraceMs: 300,
    logger,
    leftovers: LeftoverProcesses.open(join(dataDir, 'process-groups'), process.platform),
    ...overrides,
  });
  const of = (executionId: string) => reports.filter((m) => m.payload.executionId === executionId);
  const finishedOf = (executionId: string) =>
    of(executionId).find((m) => m.event === AgentToHubEvent.ExecutionFinished)?.payload as ExecutionFinished | undefined;
  const outputOf = (executionId: string) =>
    of(executionId)
      .filter((m) => m.event === AgentToHubEvent.ExecutionOutput)
      .map((m) => m.payload as ExecutionOutput);
  const text = (executionId: string, stream = 'stdout') =>
    Buffer.concat(outputOf(executionId).filter((o) => o.stream === stream).map((o) => o.data)).toString();
  const finish = async (executionId: string, timeoutMs = 10_000) => {
    await waitFor(`execution ${executionId} to finish`, () => finishedOf(executionId) !== undefined, timeoutMs);
    return finishedOf(executionId) as ExecutionFinished;
  };
  return { runner, reports, lines, dataDir, of, outputOf, text, finish };
}

function assignOf(fields: Partial<ExecutionAssign> & Pick<ExecutionAssign, 'spec'>): ExecutionAssign {
  return executionAssignSchema.parse({ executionId: randomUUID(), runId: RUN_ID, ...fields });
}

const command = (text: string, fields: Partial<ExecutionAssign> = {}) =>
  assignOf({ spec: { kind: 'command', command: text }, ...fields });

describe.skipIf(process.platform === 'win32')('Runner', () => {
  let h: ReturnType<typeof harness>;
  beforeEach(() => {
    h = harness();
  });
  afterEach(async () => {
    await h.runner.shutdown(0);
    rmSync(h.dataDir, { recursive: true, force: true });
  });

  it('runs a command and reports started, output and success in that order', async () => {
    const assign = command('echo hello');
    expect(h.runner.assign(assign)).toEqual({ ok: true });
    const finished = await h.finish(assign.executionId);
    expect(h.of(assign.executionId).map((m) => m.event)).toEqual([
      'execution.started',
      'execution.output',
      'execution.finished',
    ]);
    expect(h.outputOf(assign.executionId)).toMatchObject([{ seq: 0, stream: 'stdout', offset: 0 }]);
    expect(h.text(assign.executionId)).toBe('hello\n');
    expect(finished).toMatchObject({ status: 'succeeded', exitCode: 0, signal: null, reason: null, outputChunks: 1 });
    expect(finished.startedAt).not.toBeNull();
  });

  it('reports a command that ends before the start report is due by its result alone, carrying its start and pid', async () => {
    // Due only after a minute here, so a slow machine cannot make `true` outlast it.
    const patient = harness({ startReportDelayMs: 60_000 });
    const assign = command('true');
    expect(patient.runner.assign(assign)).toEqual({ ok: true });
    const finished = await patient.finish(assign.executionId);
    rmSync(patient.dataDir, { recursive: true, force: true });
    expect(patient.of(assign.executionId).map((m) => m.event)).toEqual(['execution.finished']);
    expect(finished).toMatchObject({ status: 'succeeded', exitCode: 0, pid: expect.any(Number) });
    expect(Date.parse(finished.startedAt!)).toBeLessThanOrEqual(Date.parse(finished.finishedAt));
  });

  it('reports a command that runs on as started, before its result', async () => {
    const assign = command('sleep 0.3');
    expect(h.runner.assign(assign)).toEqual({ ok: true });
    await waitFor('the start report', () => h.of(assign.executionId).length === 1);
    const [started] = h.of(assign.executionId);
    expect(started).toMatchObject({ event: 'execution.started', payload: { pid: expect.any(Number) } });
    const finished = await h.finish(assign.executionId);
    expect(h.of(assign.executionId).map((m) => m.event)).toEqual(['execution.started', 'execution.finished']);
    expect(finished).toMatchObject({ status: 'succeeded', pid: (started.payload as { pid: number }).pid, startedAt: (started.payload as { startedAt: string }).startedAt });
  });

  it('acks before the acceptance is synced, and starts the command only once it is', async () => {
    let synced: () => void = () => undefined;
    const ids = new Set<string>();
    const slow = harness({
      accepted: {
        has: (id) => ids.has(id),
        add: (id) => {
          ids.add(id);
          return new Promise<void>((resolve) => {
            synced = resolve;
          });
        },
      },
    });
    try {
      const assign = command('true');
      expect(slow.runner.assign(assign)).toEqual({ ok: true });
      await new Promise((resolve) => setImmediate(resolve));
      expect(slow.of(assign.executionId)).toEqual([]);
      synced();
      expect(await slow.finish(assign.executionId)).toMatchObject({ status: 'succeeded' });
    } finally {
      await slow.runner.shutdown(0);
      rmSync(slow.dataDir, { recursive: true, force: true });
    }
  });

  it('never starts a command whose acceptance cannot be synced, and reports it failed', async () => {
    const failing = harness({
      accepted: { has: () => false, add: () => Promise.reject(new Error('EIO: i/o error, fdatasync')) },
    });
    try {
      const assign = command('echo ran');
      expect(failing.runner.assign(assign)).toEqual({ ok: true });
      const finished = await failing.finish(assign.executionId);
      expect(finished).toMatchObject({ status: 'failed', startedAt: null });
      expect(finished.reason).toMatch(/^agent_error: cannot record the execution on disk: EIO/);
      expect(failing.of(assign.executionId).map((m) => m.event)).toEqual(['execution.finished']);
    } finally {
      await failing.runner.shutdown(0);
      rmSync(failing.dataDir, { recursive: true, force: true });
    }
  });

  it('reports a non-zero exit as failed with its exit code, and keeps stderr apart', async () => {
    const assign = command('echo oops >&2; exit 3');
    h.runner.assign(assign);
    expect(await h.finish(assign.executionId)).toMatchObject({ status: 'failed', exitCode: 3, reason: null });
    expect(h.text(assign.executionId, 'stderr')).toBe('oops\n');
  });

  it('passes a command to sh as one argument and argv without any shell', async () => {
    const viaShell = command('printf "%s|" "$0" a\\ b');
    const direct = assignOf({ spec: { kind: 'argv', argv: ['printf', '%s|', '$HOME', 'a b', '; echo x'] } });
    h.runner.assign(viaShell);
    h.runner.assign(direct);
    await h.finish(viaShell.executionId);
    await h.finish(direct.executionId);
    expect(h.text(viaShell.executionId)).toBe('/bin/sh|a b|');
    expect(h.text(direct.executionId)).toBe('$HOME|a b|; echo x|');
  });

  it('applies env over the agent environment and runs in cwd', async () => {
    const cwd = realpathSync(tmpdir());
    const assign = command('echo "$GREETING"; pwd; test -n "$PATH" && echo has-path', {
      env: { GREETING: 'hi there' },
      cwd,
    });
    h.runner.assign(assign);
    await h.finish(assign.executionId);
    expect(h.text(assign.executionId)).toBe(`hi there\n${cwd}\nhas-path\n`);
  });

  it('runs a script from a private temp file and deletes it afterwards', async () => {
    const assign = assignOf({
      spec: { kind: 'script', shell: 'sh', script: 'echo "from $0"\nstat -c %a "$0"\n' },
    });
    h.runner.assign(assign);
    expect(await h.finish(assign.executionId)).toMatchObject({ status: 'succeeded' });
    const scriptPath = join(h.dataDir, 'scripts', `${assign.executionId}.sh`);
    expect(h.text(assign.executionId)).toBe(`from ${scriptPath}\n700\n`);
    expect(readdirSync(join(h.dataDir, 'scripts'))).toEqual([]);
  });

  it('reports a spawn failure without a start', async () => {
    const missing = assignOf({ spec: { kind: 'argv', argv: ['/nonexistent/tool'] } });
    const badCwd = command('true', { cwd: '/nonexistent/dir' });
    h.runner.assign(missing);
    h.runner.assign(badCwd);
    const first = await h.finish(missing.executionId);
    const second = await h.finish(badCwd.executionId);
    expect(first).toMatchObject({ status: 'failed', exitCode: null, signal: null, startedAt: null, outputChunks: 0 });
    expect(first.reason).toMatch(/^spawn_error: .*ENOENT/);
    expect(second.reason).toMatch(/^spawn_error: .*\/nonexistent\/dir/);
    expect(second.reason).not.toContain('\n');
    expect(h.of(missing.executionId).map((m) => m.event)).toEqual(['execution.finished']);
  });

  it('masks secret values in output, also when one is split across writes', async () => {
    const secret = 'sup3r-s3cret-v4lue';
    const assign = command(
      // Half the secret, a pause longer than the coalescing delay, then the other half.
      'printf "%s" "$TOKEN" | head -c 7; sleep 0.2; printf "%s\\n" "$TOKEN" | tail -c +8; echo "again $TOKEN" >&2',
      { env: { TOKEN: secret, PLAIN: 'visible' }, secretEnv: ['TOKEN'] },
    );
    h.runner.assign(assign);
    await h.finish(assign.executionId);
    expect(h.outputOf(assign.executionId).length).toBeGreaterThanOrEqual(2);
    expect(h.text(assign.executionId)).toBe('***\n');
    expect(h.text(assign.executionId, 'stderr')).toBe('again ***\n');
    expect(h.lines.join('')).not.toContain(secret);
  });

  it('numbers big output in chunks no larger than the limit', async () => {
    h.runner.setLimits({ maxChunkBytes: 10_000, outputCapBytes: 10 * 1024 * 1024 });
    const assign = command('head -c 100000 /dev/zero; echo done >&2; head -c 5 /dev/zero');
    h.runner.assign(assign);
    const finished = await h.finish(assign.executionId);
    const chunks = h.outputOf(assign.executionId);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(finished.outputChunks).toBe(chunks.length);
    expect(Math.max(...chunks.map((c) => c.data.byteLength))).toBeLessThanOrEqual(10_000);
    let next = 0;
    for (const chunk of chunks.filter((c) => c.stream === 'stdout')) {
      expect(chunk.offset).toBe(next);
      next += chunk.data.byteLength;
    }
    expect(next).toBe(100_005);
  });

  it('delivers output while the command is still running', async () => {
    const assign = command('echo first; sleep 30');
    h.runner.assign(assign);
    await waitFor('the first line', () => h.text(assign.executionId) === 'first\n');
    expect(h.runner.cancel(assign.executionId)).toEqual({ ok: true });
    await h.finish(assign.executionId);
  });

  it('times out a whole process tree, one level of which ignores SIGTERM', async () => {
    const assign = command(TRAPPED_TREE, { timeoutSeconds: 1 });
    h.runner.assign(assign);
    await waitFor('all three levels to start', () => levelPids(h.text(assign.executionId)).length === 3);
    const pids = levelPids(h.text(assign.executionId));
    expect(pids.every(isRunning)).toBe(true);
    const finished = await h.finish(assign.executionId);
    expect(finished).toMatchObject({ status: 'timed_out', reason: 'timeout' });
    expect(pids.filter(isRunning)).toEqual([]);
  });

  it('cancels a running execution', async () => {
    const assign = command('echo "L1 $$"; sleep 30 & wait');
    h.runner.assign(assign);
    await waitFor('the shell to start', () => levelPids(h.text(assign.executionId)).length === 1);
    expect(h.runner.cancel(assign.executionId)).toEqual({ ok: true });
    const finished = await h.finish(assign.executionId, 3_000);
    expect(finished).toMatchObject({ status: 'canceled', reason: 'canceled', signal: 'SIGTERM' });
    expect(h.runner.cancel(assign.executionId)).toEqual({ ok: true });
    expect(h.runner.cancel(randomUUID())).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('never runs the same execution twice', async () => {
    const assign = command('echo once');
    expect(h.runner.assign(assign)).toEqual({ ok: true });
    expect(h.runner.assign(assign)).toEqual({ ok: true });
    await h.finish(assign.executionId);
    expect(h.runner.assign(assign)).toEqual({ ok: true });
    expect(h.runner.runningCount).toBe(0);
    expect(h.of(assign.executionId).filter((m) => m.event === AgentToHubEvent.ExecutionStarted)).toHaveLength(1);
  });

  it('refuses work beyond --max-concurrent with CONFLICT, and takes it again once a slot frees', async () => {
    await h.runner.shutdown(0);
    rmSync(h.dataDir, { recursive: true, force: true });
    h = harness({ maxConcurrent: 1 });
    const long = command('sleep 30');
    expect(h.runner.assign(long)).toEqual({ ok: true });
    const refused = command('echo later');
    expect(h.runner.assign(refused)).toEqual({ ok: false, error: { code: 'CONFLICT', message: 'agent at capacity' } });
    expect(h.of(refused.executionId)).toEqual([]);
    h.runner.cancel(long.executionId);
    await h.finish(long.executionId);
    expect(h.runner.assign(refused)).toEqual({ ok: true });
    expect(await h.finish(refused.executionId)).toMatchObject({ status: 'succeeded' });
  });

  it('keeps the head and the tail of a flood, with a marker where bytes were dropped', async () => {
    h.runner.setLimits({ maxChunkBytes: 1_000, outputCapBytes: 2_000 });
    const assign = command('seq 1 100000');
    h.runner.assign(assign);
    const finished = await h.finish(assign.executionId);
    const all = Buffer.from(Array.from({ length: 100000 }, (_, i) => `${i + 1}\n`).join(''));
    const dropped = all.length - 2_000;
    expect(finished.outputDroppedBytes).toBe(dropped);
    expect(h.text(assign.executionId)).toBe(
      `${all.subarray(0, 1_000).toString()}\n[outpost: ${dropped} bytes dropped]\n${all.subarray(all.length - 1_000).toString()}`,
    );
    expect(finished.outputChunks).toBe(h.outputOf(assign.executionId).length);
  });

  it('stops reading output while there is no room for it, and goes on once there is', async () => {
    let open: () => void = () => undefined;
    let full = true;
    const room = new Promise<void>((resolve) => {
      open = () => {
        full = false;
        resolve();
      };
    });
    await h.runner.shutdown(0);
    rmSync(h.dataDir, { recursive: true, force: true });
    h = harness({ room: () => (full ? room : null) });
    // 1 MiB into a 64 KiB pipe: the command can only end once the agent reads again.
    const assign = command('head -c 1048576 /dev/zero; echo written >&2');
    h.runner.assign(assign);
    await waitFor('the command to start', () => h.of(assign.executionId).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.text(assign.executionId, 'stderr')).toBe('');
    expect(h.runner.runningCount).toBe(1);
    open();
    expect(await h.finish(assign.executionId)).toMatchObject({ status: 'succeeded', outputDroppedBytes: 0 });
    expect(h.text(assign.executionId, 'stderr')).toBe('written\n');
    expect(h.text(assign.executionId).length).toBe(1048576);
  });

  it('on shutdown refuses new work, lets quick executions finish and stops the rest', async () => {
    const quick = command('sleep 0.2; echo done');
    const slow = command('sleep 30');
    h.runner.assign(quick);
    h.runner.assign(slow);
    await waitFor('both to start', () => h.runner.runningCount === 2 && h.reports.length >= 2);
    await h.runner.shutdown(1_000);
    expect(h.runner.assign(command('true'))).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(await h.finish(quick.executionId)).toMatchObject({ status: 'succeeded' });
    expect(await h.finish(slow.executionId)).toMatchObject({ status: 'canceled', reason: 'agent_shutdown' });
  });
});

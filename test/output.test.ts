import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Child } from './support/child-process';
import { databaseKinds } from './support/databases';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

interface SseEvent {
  event: string;
  id?: string;
  data: any;
}

/** A live `GET /executions/:id/stream`, parsed as it arrives (what `curl -N` shows, as events). */
class SseFollower {
  readonly events: SseEvent[] = [];
  ended = false;
  private readonly abort = new AbortController();
  readonly done: Promise<void>;

  constructor(hub: TestHub, token: string, executionId: string, lastEventId?: string) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    this.done = this.read(`${hub.url}/api/v1/executions/${executionId}/stream`, headers);
  }

  output(): string {
    return this.events
      .filter((e) => e.event === 'output')
      .map((e) => (e.data.data as string | undefined) ?? Buffer.from(e.data.dataBase64, 'base64').toString('latin1'))
      .join('');
  }

  close(): void {
    this.abort.abort();
  }

  private async read(url: string, headers: Record<string, string>): Promise<void> {
    try {
      const response = await fetch(url, { headers, signal: this.abort.signal });
      if (response.status !== 200) throw new Error(`stream answered ${response.status}: ${await response.text()}`);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(bytes, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            frame
              .split('\n')
              .filter((line) => !line.startsWith(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
          );
          if (fields.event) this.events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data) });
        }
      }
    } catch (error) {
      if (!this.abort.signal.aborted) throw error;
    } finally {
      this.ended = true;
    }
  }
}

/** Resident memory of a process, in bytes, from /proc. */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

describe.each(databaseKinds())('execution output on %s database', (database) => {
  let hub: TestHub;
  let agent: EnrolledAgent;
  let agentProcess: Child;
  let token: string;
  let scratch: string;

  beforeAll(async () => {
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate') });
    agent = await enrollAgent(hub, { name: 'output' });
    agentProcess = startAgent(agent);
    await hub.waitForAgentStatus(agent.agentId, 'online');
    token = await hub.login();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'outpost-output-'));
  });

  afterAll(async () => {
    await agentProcess?.stop();
    await hub?.destroy();
    rmSync(agent?.dataDir ?? '', { recursive: true, force: true });
    rmSync(scratch ?? '', { recursive: true, force: true });
  });

  const run = async (body: Record<string, unknown>): Promise<string> => {
    const response = await hub.api('POST', '/api/v1/runs', { target: { agentIds: [agent.agentId] }, ...body });
    expect(response.status, response.text).toBe(201);
    return response.body.executions[0].id as string;
  };

  it('serves output as text, raw bytes or JSON lines, from a byte offset, one stream or both', async () => {
    // Pauses between the writes, so each lands in a chunk of its own whatever the scheduling.
    const id = await run({
      command: "printf 'h\\303\\251llo\\n'; sleep 0.1; printf '\\377\\376bin\\n' >&2; sleep 0.1; printf 'end\\n'",
    });
    await hub.waitForExecution(id, ['succeeded']);
    const raw = Buffer.concat([Buffer.from('h\u00e9llo\n'), Buffer.from([0xff, 0xfe]), Buffer.from('bin\nend\n')]);

    const text = await hub.api('GET', `/api/v1/executions/${id}/output`);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(text.text).toBe('h\u00e9llo\n\ufffd\ufffdbin\nend\n');
    expect(text.headers.get('x-output-next-offset')).toBe(String(raw.length));

    const bytes = await fetch(`${hub.url}/api/v1/executions/${id}/output?format=raw&offset=3`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bytes.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await bytes.arrayBuffer())).toEqual(raw.subarray(3));

    const stderr = await fetch(`${hub.url}/api/v1/executions/${id}/output?stream=stderr&format=raw`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(Buffer.from(await stderr.arrayBuffer())).toEqual(Buffer.from([0xff, 0xfe, ...Buffer.from('bin\n')]));

    const jsonl = await hub.api('GET', `/api/v1/executions/${id}/output?format=jsonl`);
    expect(jsonl.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = jsonl.text.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map(({ at, ...rest }: any) => rest)).toEqual([
      { seq: 0, stream: 'stdout', offset: 0, data: 'h\u00e9llo\n' },
      { seq: 1, stream: 'stderr', offset: 7, dataBase64: Buffer.from([0xff, 0xfe, ...Buffer.from('bin\n')]).toString('base64') },
      { seq: 2, stream: 'stdout', offset: 13, data: 'end\n' },
    ]);
    expect(lines.every((line: any) => !Number.isNaN(Date.parse(line.at)))).toBe(true);
    const tail = await hub.api('GET', `/api/v1/executions/${id}/output?format=jsonl&stream=stdout&offset=8`);
    expect(tail.text.trimEnd().split('\n').map((line) => JSON.parse(line))).toMatchObject([
      { seq: 2, stream: 'stdout', offset: 8, data: 'nd\n' },
    ]);
    expect(tail.headers.get('x-output-next-offset')).toBe('11');

    expect((await hub.api('GET', `/api/v1/executions/${id}/output?format=html`)).status).toBe(400);
    expect((await hub.api('GET', `/api/v1/executions/${id}/output?offset=-1`)).status).toBe(400);
    expect((await hub.api('GET', '/api/v1/executions/00000000-0000-4000-8000-000000000000/output')).status).toBe(404);
  });

  it('streams status, output and complete as Server-Sent Events, resumable after a seq', async () => {
    const go = path.join(scratch, 'sse-go');
    const id = await run({ command: `echo first; while [ ! -e '${go}' ]; do sleep 0.05; done; echo second` });
    const live = new SseFollower(hub, token, id);
    await waitFor(() => live.output() === 'first\n', { what: 'the first line over SSE while the command runs' });
    expect(live.events.some((e) => e.event === 'complete')).toBe(false);
    writeFileSync(go, '');
    await live.done;
    expect(live.output()).toBe('first\nsecond\n');
    expect(live.events.filter((e) => e.event === 'status').map((e) => e.data.status)).toContain('succeeded');
    expect(live.events.at(-1)).toMatchObject({ event: 'complete', data: { id, status: 'succeeded', exitCode: 0 } });
    const outputs = live.events.filter((e) => e.event === 'output');
    expect(outputs.map((e) => e.id)).toEqual(outputs.map((e) => String(e.data.seq)));
    expect(outputs[0].data).toMatchObject({ stream: 'stdout', seq: 0, ts: expect.any(String) });

    const resumed = new SseFollower(hub, token, id, outputs[0].id);
    await resumed.done;
    expect(resumed.output()).toBe('second\n');

    const bad = await fetch(`${hub.url}/api/v1/executions/${id}/stream`, {
      headers: { authorization: `Bearer ${token}`, 'last-event-id': 'x' },
    });
    expect(bad.status).toBe(400);
    expect((await fetch(`${hub.url}/api/v1/executions/${id}/stream`)).status).toBe(401);
  });

  it('masks a secret env value, also when printed in two writes, in stored output and in the stream', async () => {
    const secret = 'hunter2-s3cr3t-value';
    const [first, second] = [secret.slice(0, 9), secret.slice(9)];
    const id = await run({
      command: `echo "token=$TOKEN"; printf '%s' "$A"; sleep 0.3; printf '%s\\n' "$B"; echo done`,
      env: { TOKEN: { value: secret, secret: true }, A: first, B: second },
    });
    const live = new SseFollower(hub, token, id);
    await live.done;
    const stored = (await hub.api('GET', `/api/v1/executions/${id}/output`)).text;
    expect(stored).toBe('token=***\n***\ndone\n');
    expect(live.output()).toBe(stored);
    expect(JSON.stringify(live.events)).not.toContain(secret);
    expect((await hub.api('GET', `/api/v1/executions/${id}/output?format=jsonl`)).text).not.toContain(first + second);
  });

  it('keeps the first and last lines of 200 MiB of output with a marker between, in bounded memory, live', async () => {
    const lines = 25_000_000;
    const go = path.join(scratch, 'flood-go');
    const hubBefore = rssOf(hub.child.pid);
    const agentBefore = rssOf(agentProcess.pid);
    const peak = { hub: hubBefore, agent: agentBefore };
    const sampler = setInterval(() => {
      peak.hub = Math.max(peak.hub, rssOf(hub.child.pid));
      peak.agent = Math.max(peak.agent, rssOf(agentProcess.pid));
    }, 20);
    try {
      const id = await run({ command: `seq 1 ${lines}; while [ ! -e '${go}' ]; do sleep 0.05; done` });
      const live = new SseFollower(hub, token, id);
      // Output arrives while the command cannot have ended: it waits for the file written below.
      await waitFor(() => live.output().startsWith('1\n2\n3\n'), { timeoutMs: 60_000, what: 'the flood to stream live' });
      expect((await hub.api('GET', `/api/v1/executions/${id}`)).body.status).toBe('running');
      writeFileSync(go, '');
      const execution = await hub.waitForExecution(id, ['succeeded', 'failed'], 120_000);
      await live.done;

      let total = 0;
      for (let digits = 1, from = 1; from <= lines; digits += 1, from *= 10) {
        total += (Math.min(lines, from * 10 - 1) - from + 1) * (digits + 1);
      }
      const cap = 10 * 1024 * 1024;
      expect(total).toBeGreaterThan(200 * 1024 * 1024);
      expect(execution).toMatchObject({ status: 'succeeded', outputTruncated: true, outputDroppedBytes: total - cap });

      const stored = (await hub.api('GET', `/api/v1/executions/${id}/output`)).text;
      const marker = `\n[outpost: ${total - cap} bytes dropped]\n`;
      expect(stored.length).toBe(cap + marker.length);
      expect(stored.startsWith('1\n2\n3\n')).toBe(true);
      expect(stored.indexOf(marker)).toBe(cap / 2);
      expect(stored.endsWith(`\n${lines - 1}\n${lines}\n`)).toBe(true);
      expect(live.output()).toBe(stored);
    } finally {
      clearInterval(sampler);
    }
    const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
    console.log(
      `flood on ${database}: hub RSS ${mb(hubBefore)} → peak ${mb(peak.hub)} MB (+${mb(peak.hub - hubBefore)}), ` +
        `agent RSS ${mb(agentBefore)} → peak ${mb(peak.agent)} MB`,
    );
    expect(peak.hub - hubBefore).toBeLessThanOrEqual(150 * 1024 * 1024);
    expect(peak.agent).toBeLessThan(150 * 1024 * 1024);
  }, 240_000);
});

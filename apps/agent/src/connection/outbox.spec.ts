import { ACK_OK, ackError, AgentToHubEvent } from '@outpost/protocol';
import { describe, expect, it } from 'vitest';
import { captureLogger, waitFor } from '../testing/test-support';
import { MemoryOutboxStore } from '../testing/memory-outbox-store';
import { Outbox, type OutboxMessage, type OutboxOptions } from './outbox';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const T = '2025-01-01T00:00:00.000Z';

const started = (executionId: string): OutboxMessage => ({
  event: AgentToHubEvent.ExecutionStarted,
  payload: { executionId, pid: 1, startedAt: T },
});
const output = (executionId: string, seq: number): OutboxMessage => ({
  event: AgentToHubEvent.ExecutionOutput,
  payload: { executionId, seq, stream: 'stdout', offset: seq, data: Buffer.from('x') },
});
const finished = (executionId: string): OutboxMessage => ({
  event: AgentToHubEvent.ExecutionFinished,
  payload: {
    executionId,
    status: 'succeeded',
    exitCode: 0,
    signal: null,
    reason: null,
    startedAt: T,
    finishedAt: T,
    outputChunks: 0,
  },
});

/** A hub stand-in: every send waits until the test answers it. */
function fakeTransport() {
  const calls: Array<{ label: string; resolve: (ack: unknown) => void; reject: (error: Error) => void }> = [];
  const transport = (event: string, payload: OutboxMessage['payload']) =>
    new Promise<unknown>((resolve, reject) => {
      const seq = 'seq' in payload ? `#${payload.seq}` : '';
      calls.push({ label: `${event}${seq} ${payload.executionId.slice(-1)}`, resolve, reject });
    });
  const labels = () => calls.map((call) => call.label);
  const answer = async (index: number, ack: unknown) => {
    calls[index].resolve(ack);
    await Promise.resolve();
  };
  return { transport, calls, labels, answer };
}

const fastRetry: OutboxOptions = { window: 32, retry: { initialMs: 10, maxMs: 10, jitter: 0 } };

describe('Outbox', () => {
  it('sends in order and forgets what the hub acked', async () => {
    const outbox = new Outbox(new MemoryOutboxStore(), captureLogger().logger);
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    outbox.enqueue(started(A));
    outbox.enqueue(output(A, 0));
    expect(hub.labels()).toEqual(['execution.started a', 'execution.output#0 a']);
    await hub.answer(0, ACK_OK);
    await hub.answer(1, ACK_OK);
    await waitFor('an empty outbox', () => outbox.size === 0);
  });

  it('sends a new message as given and reads it back from the store only to resend it', async () => {
    const store = new MemoryOutboxStore();
    const loads: number[] = [];
    const load = store.load.bind(store);
    store.load = (id) => {
      loads.push(id);
      return load(id);
    };
    const outbox = new Outbox(store, captureLogger().logger, fastRetry);
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    outbox.enqueue(started(A));
    expect(hub.labels()).toEqual(['execution.started a']);
    expect(loads).toEqual([]);
    hub.calls[0].reject(new Error('ack timeout'));
    await waitFor('the resend', () => hub.calls.length === 2);
    expect(loads).toEqual([0]);
  });

  it('sends a result only once the store has synced it', async () => {
    const store = new MemoryOutboxStore();
    const add = store.add.bind(store);
    store.add = (message) => {
      const id = add(message);
      if (message.event === AgentToHubEvent.ExecutionFinished) store.unsyncedIds.add(id);
      return id;
    };
    const outbox = new Outbox(store, captureLogger().logger, fastRetry);
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    outbox.enqueue(finished(A));
    outbox.enqueue(started(B));
    expect(hub.labels()).toEqual(['execution.started b']);
    const load = store.load.bind(store);
    const loads: number[] = [];
    store.load = (id) => {
      loads.push(id);
      return load(id);
    };
    store.sync();
    expect(hub.labels()).toEqual(['execution.started b', 'execution.finished a']);
    expect(loads).toEqual([]);
  });

  it('keeps messages while disconnected and sends them on attach', () => {
    const outbox = new Outbox(new MemoryOutboxStore(), captureLogger().logger);
    outbox.enqueue(started(A));
    outbox.enqueue(output(A, 0));
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    expect(hub.labels()).toEqual(['execution.started a', 'execution.output#0 a']);
  });

  it('keeps at most `window` messages in flight', async () => {
    const outbox = new Outbox(new MemoryOutboxStore(), captureLogger().logger, { ...fastRetry, window: 3 });
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    for (let seq = 0; seq < 5; seq += 1) outbox.enqueue(output(A, seq));
    expect(hub.labels()).toEqual(['execution.output#0 a', 'execution.output#1 a', 'execution.output#2 a']);
    await hub.answer(1, ACK_OK);
    await waitFor('the next send', () => hub.calls.length === 4);
    expect(hub.labels()[3]).toBe('execution.output#3 a');
  });

  it('sends `finished` after its `started` without waiting for the ack: the hub takes a result first', async () => {
    const outbox = new Outbox(new MemoryOutboxStore(), captureLogger().logger);
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    outbox.enqueue(started(A));
    outbox.enqueue(finished(A));
    expect(hub.labels()).toEqual(['execution.started a', 'execution.finished a']);
    await hub.answer(1, ACK_OK);
    expect(outbox.size).toBe(1);
    await hub.answer(0, ACK_OK);
    expect(outbox.size).toBe(0);
  });

  it('sends `finished` only after every earlier output chunk of its execution is acked', async () => {
    const outbox = new Outbox(new MemoryOutboxStore(), captureLogger().logger);
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    outbox.enqueue(output(A, 0));
    outbox.enqueue(finished(A));
    outbox.enqueue(output(B, 0));
    outbox.enqueue(finished(B));
    // B's finished is held too: its output is still in flight. A's output blocks only A.
    expect(hub.labels()).toEqual(['execution.output#0 a', 'execution.output#0 b']);
    await hub.answer(1, ACK_OK);
    await waitFor("B's finished", () => hub.calls.length === 3);
    expect(hub.labels()[2]).toBe('execution.finished b');
    await hub.answer(0, ACK_OK);
    await waitFor("A's finished", () => hub.calls.length === 4);
    expect(hub.labels()[3]).toBe('execution.finished a');
  });

  it('drops a message the hub refuses for good, and logs it', async () => {
    const { logger, lines } = captureLogger();
    const outbox = new Outbox(new MemoryOutboxStore(), logger, fastRetry);
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    outbox.enqueue(output(A, 0));
    await hub.answer(0, ackError('NOT_FOUND', 'no such execution'));
    await waitFor('the drop', () => outbox.size === 0);
    expect(hub.calls).toHaveLength(1);
    expect(lines.join('')).toContain('NOT_FOUND');
  });

  it('resends after INTERNAL, an ack timeout or a malformed ack', async () => {
    const outbox = new Outbox(new MemoryOutboxStore(), captureLogger().logger, fastRetry);
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    outbox.enqueue(output(A, 0));
    await hub.answer(0, ackError('INTERNAL', 'database hiccup'));
    await waitFor('a resend after INTERNAL', () => hub.calls.length === 2);
    hub.calls[1].reject(new Error('operation has timed out'));
    await waitFor('a resend after a timeout', () => hub.calls.length === 3);
    await hub.answer(2, 'ok');
    await waitFor('a resend after a malformed ack', () => hub.calls.length === 4);
    await hub.answer(3, ACK_OK);
    await waitFor('an empty outbox', () => outbox.size === 0);
    expect(new Set(hub.labels())).toEqual(new Set(['execution.output#0 a']));
  });

  it('resends what was in flight when the connection dropped, and ignores the old failures', async () => {
    const outbox = new Outbox(new MemoryOutboxStore(), captureLogger().logger, fastRetry);
    const first = fakeTransport();
    outbox.attach(first.transport);
    outbox.enqueue(output(A, 0));
    outbox.enqueue(finished(A));
    outbox.detach();
    first.calls[0].reject(new Error('socket has been disconnected'));
    const second = fakeTransport();
    outbox.attach(second.transport);
    expect(second.labels()).toEqual(['execution.output#0 a']);
    await second.answer(0, ACK_OK);
    await waitFor('finished on the new connection', () => second.calls.length === 2);
    await second.answer(1, ACK_OK);
    await waitFor('an empty outbox', () => outbox.size === 0);
    expect(first.calls).toHaveLength(1);
  });

  it('flush resolves true once everything is acked, false at its deadline', async () => {
    const outbox = new Outbox(new MemoryOutboxStore(), captureLogger().logger);
    expect(await outbox.flush(10)).toBe(true);
    outbox.enqueue(started(A));
    expect(await outbox.flush(20)).toBe(false);
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    const flushed = outbox.flush(5_000);
    await hub.answer(0, ACK_OK);
    expect(await flushed).toBe(true);
  });

  it('has room until its store is full, then until an ack frees some', async () => {
    const outbox = new Outbox(new MemoryOutboxStore(2), captureLogger().logger);
    expect(outbox.room()).toBeNull();
    outbox.enqueue(output(A, 0));
    outbox.enqueue(output(A, 1));
    let roomy = false;
    void outbox.room()!.then(() => {
      roomy = true;
    });
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    await Promise.resolve();
    expect(roomy).toBe(false);
    await hub.answer(0, ACK_OK);
    await waitFor('room', () => roomy);
    expect(outbox.room()).toBeNull();
  });

  it('names the executions whose result it still holds', async () => {
    const outbox = new Outbox(new MemoryOutboxStore(), captureLogger().logger);
    outbox.enqueue(output(A, 0));
    outbox.enqueue(finished(A));
    outbox.enqueue(started(B));
    expect(outbox.heldResults()).toEqual([A]);
    const hub = fakeTransport();
    outbox.attach(hub.transport);
    await hub.answer(0, ACK_OK);
    await waitFor('the result to be sent', () => hub.calls.length === 3);
    await hub.answer(1, ACK_OK);
    expect(outbox.heldResults()).toEqual([A]);
    await hub.answer(2, ACK_OK);
    expect(outbox.heldResults()).toEqual([]);
  });
});

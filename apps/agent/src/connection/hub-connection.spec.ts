import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACK_OK,
  AGENT_NAMESPACE,
  AgentToHubEvent,
  HubToAgentEvent,
  MAX_OUTPUT_CHUNK_BYTES,
  PROTOCOL_VERSION,
  type Ack,
  type ExecutionAssign,
  type ExecutionFinished,
  type ExecutionOutput,
  agentFactsSchema,
  handshakeReportsSchema,
  healthSampleSchema,
} from '@outpost/protocol';
import { Server, type Socket } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../agent';
import { ExecutionLedger } from '../spool/execution-ledger';
import { SpoolStore } from '../spool/spool-store';
import { captureLogger, waitFor } from '../testing/test-support';

const AGENT_ID = '00000000-0000-4000-8000-0000000000a1';
const CREDENTIAL = 'cred-0123456789-abcdefghijklmnop';
const RUN_ID = '00000000-0000-4000-8000-000000000001';

const HEARTBEAT_MS = 200;

interface Received {
  event: string;
  payload: Record<string, unknown>;
  /** Whether the agent asked for an ack. */
  acked: boolean;
}

interface FakeHubOptions {
  port?: number;
  /** Sent in the welcome (protocol 1.1); absent like a 1.0 hub's when undefined. */
  healthIntervalSeconds?: number;
  /** The namespace to serve; the agent's own by default. */
  namespace?: string;
  /** Refuse every handshake with this `{code, message}` instead of accepting it. */
  refuse?: { code: string; message: string };
  /** Announced in the welcome; PROTOCOL_VERSION by default. */
  protocolVersion?: string;
  /** Says `transportHeartbeat` in the welcome and pings at its heartbeat interval, as a 1.3 hub does. */
  transportHeartbeat?: boolean;
  /** Says `handshakeReports` in the welcome: it took the handshake's facts and inventory, as a 1.5 hub does. */
  handshakeReports?: boolean;
  /** Runs for each accepted connection, after the welcome. */
  onConnection?: (socket: Socket) => void;
}

/**
 * A stand-in hub: a real socket.io server on an ephemeral loopback port with the agent
 * namespace, recording the handshake and every report, acking each with ACK_OK.
 */
class FakeHub {
  readonly handshakes: Array<{ at: number; auth: Record<string, unknown> }> = [];
  readonly received: Received[] = [];
  readonly welcomeAcks: unknown[] = [];
  /** The agent's WebSocket frames, one list per TCP read. */
  readonly reads: string[][] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly io: Server,
    readonly port: number,
  ) {}

  static async start(options: FakeHubOptions = {}): Promise<FakeHub> {
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], ...(options.transportHeartbeat ? { pingInterval: HEARTBEAT_MS } : {}) });
    await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
    const hub = new FakeHub(io, (http.address() as AddressInfo).port);
    // Before ws's own listener, which unmasks each read in place.
    http.on('upgrade', (_request, socket: Duplex) => socket.prependListener('data', (chunk: Buffer) => hub.reads.push(framesOf(chunk))));
    const namespace = io.of(options.namespace ?? AGENT_NAMESPACE);
    namespace.use((socket, next) => {
      hub.handshakes.push({ at: Date.now(), auth: socket.handshake.auth });
      if (options.refuse === undefined) return next();
      next(Object.assign(new Error(options.refuse.message), { data: options.refuse }));
    });
    namespace.on('connection', (socket) => {
      hub.sockets.add(socket);
      socket.on('disconnect', () => hub.sockets.delete(socket));
      socket.onAny((event: string, payload: Record<string, unknown>, ack?: (ack: Ack) => void) => {
        hub.received.push({ event, payload, acked: ack !== undefined });
        ack?.(ACK_OK);
      });
      void socket
        .timeout(5_000)
        .emitWithAck(HubToAgentEvent.Welcome, {
          agentId: AGENT_ID,
          protocolVersion: options.protocolVersion ?? PROTOCOL_VERSION,
          heartbeatIntervalSeconds: HEARTBEAT_MS / 1000,
          maxOutputChunkBytes: MAX_OUTPUT_CHUNK_BYTES,
          ...(options.healthIntervalSeconds !== undefined ? { healthIntervalSeconds: options.healthIntervalSeconds } : {}),
          ...(options.transportHeartbeat ? { transportHeartbeat: true } : {}),
          ...(options.handshakeReports ? { handshakeReports: true } : {}),
        })
        // A welcome the agent never answers (it was cut at once) is not an error of the test.
        .then((ack: unknown) => hub.welcomeAcks.push(ack), () => undefined);
      options.onConnection?.(socket);
    });
    return hub;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get connected(): boolean {
    return this.sockets.size > 0;
  }

  /** Cuts the live connection from the hub side, as a restart or a network drop would. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.conn.close();
  }

  events(event: string): Received[] {
    return this.received.filter((r) => r.event === event);
  }

  /** Sends a hub → agent event to the connected agent and returns its ack. */
  send(event: string, payload: unknown): Promise<Ack> {
    const [socket] = this.sockets;
    return socket.timeout(5_000).emitWithAck(event, payload);
  }

  of(executionId: string, event?: string): Received[] {
    return this.received.filter((r) => r.payload.executionId === executionId && (event === undefined || r.event === event));
  }

  finished(executionId: string): ExecutionFinished | undefined {
    return this.of(executionId, AgentToHubEvent.ExecutionFinished)[0]?.payload as ExecutionFinished | undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.io.close(() => resolve()));
  }
}

/** The client's WebSocket frames in one TCP read, unmasked, as text; a frame the read cuts ends the list. */
function framesOf(chunk: Buffer): string[] {
  const frames: string[] = [];
  let at = 0;
  while (at + 2 <= chunk.length) {
    const masked = (chunk[at + 1]! & 0x80) !== 0;
    let length = chunk[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      length = chunk.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      length = Number(chunk.readBigUInt64BE(at + 2));
      header = 10;
    }
    const start = at + header + (masked ? 4 : 0);
    if (start + length > chunk.length) break;
    const payload = Buffer.from(chunk.subarray(start, start + length));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= chunk[at + header + (i % 4)]!;
    frames.push(payload.toString('latin1'));
    at = start + length;
  }
  return frames;
}

function commandAssign(command: string, fields: Partial<ExecutionAssign> = {}): ExecutionAssign {
  return {
    executionId: randomUUID(),
    runId: RUN_ID,
    spec: { kind: 'command', command },
    env: {},
    secretEnv: [],
    ...fields,
  };
}

function outputText(received: Received[]): string {
  const chunks = received.map((r) => r.payload as unknown as ExecutionOutput).sort((a, b) => a.seq - b.seq);
  return Buffer.concat(chunks.map((c) => Buffer.from(c.data))).toString();
}

describe.skipIf(process.platform === 'win32')('HubConnection against a fake hub', () => {
  let dataDir: string;
  let hubs: FakeHub[];
  let agents: Agent[];
  let logLines: string[];
  let stored: string[];
  let storeFails: boolean;
  /** How many of the next reads of the host's facts fail. */
  let factsFailures: number;
  let samples: number;

  function startAgent(hubUrl: string, refusedInitialMs = 5_000, protocolVersion?: string): Agent {
    const captured = captureLogger();
    logLines = captured.lines;
    const agent = new Agent({
      config: { hubUrl, agentId: AGENT_ID, credential: CREDENTIAL },
      storeCredential: async (credential) => {
        if (storeFails) throw new Error('disk full');
        stored.push(credential);
      },
      protocolVersion,
      readFacts: async () => {
        if (factsFailures > 0) {
          factsFailures -= 1;
          throw new Error('release files unreadable');
        }
        return agentFactsSchema.parse({
          hostname: 'test-host', os: 'linux', platform: 'linux', distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0',
          arch: 'x64', cpuModel: 'test cpu', cpuCores: 2, memTotalBytes: 2048, ipAddresses: ['192.0.2.1'], agentVersion: '9.9.9-test',
        });
      },
      healthSampler: {
        sample: async () => {
          samples += 1;
          return {
            sampledAt: new Date().toISOString(),
            cpuPercent: 12.5,
            load1: 0.5,
            load5: 0.4,
            load15: 0.3,
            memUsedPercent: 50,
            memUsedBytes: 1024,
            memTotalBytes: 2048,
            swapUsedPercent: null,
            disks: [{ mount: '/', sizeBytes: 100, usedBytes: 40, usedPercent: 40 }],
            uptimeSeconds: 1000 + samples,
          };
        },
      },
      agentVersion: '9.9.9-test',
      facts: { hostname: 'test-host', os: 'linux', arch: 'x64' },
      dataDir,
      maxConcurrent: 8,
      killGraceMs: 300,
      logger: captured.logger,
      timing: {
        reconnectionDelayMs: 50,
        reconnectionDelayMaxMs: 200,
        refusedBackoff: { initialMs: refusedInitialMs, maxMs: 5 * 60_000, jitter: 0.5 },
        ackTimeoutMs: 2_000,
      },
      outbox: { window: 32, retry: { initialMs: 50, maxMs: 200, jitter: 0.5 } },
    });
    agents.push(agent);
    agent.start();
    return agent;
  }

  async function startHub(options: FakeHubOptions = {}): Promise<FakeHub> {
    const hub = await FakeHub.start(options);
    hubs.push(hub);
    return hub;
  }

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'outpost-agent-'));
    hubs = [];
    agents = [];
    logLines = [];
    stored = [];
    storeFails = false;
    factsFailures = 0;
    samples = 0;
  });

  afterEach(async () => {
    await Promise.all(agents.map((agent) => agent.stop(0)));
    await Promise.all(hubs.map((hub) => hub.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('handshakes, answers the welcome, heartbeats, and runs `echo hello` to success', async () => {
    const hub = await startHub();
    startAgent(hub.url);
    await waitFor('the agent to connect', () => hub.connected);
    expect(hub.handshakes[0].auth).toEqual({
      agentId: AGENT_ID,
      credential: CREDENTIAL,
      protocolVersion: PROTOCOL_VERSION,
      agentVersion: '9.9.9-test',
      capabilities: ['health', 'ping', 'credential-rotation', 'inventory', 'output-cap'],
      facts: { hostname: 'test-host', os: 'linux', arch: 'x64' },
      reports: { facts: expect.objectContaining({ agentVersion: '9.9.9-test' }), inventory: { running: [], results: [] } },
    });
    await waitFor('the welcome ack', () => hub.welcomeAcks.length === 1);
    expect(hub.welcomeAcks[0]).toEqual(ACK_OK);

    const assign = commandAssign('echo hello');
    expect(await hub.send(HubToAgentEvent.ExecutionAssign, assign)).toEqual(ACK_OK);
    await waitFor('the result', () => hub.finished(assign.executionId) !== undefined);
    expect(hub.of(assign.executionId).map((r) => r.event)).toEqual([
      'execution.started',
      'execution.output',
      'execution.finished',
    ]);
    const [output] = hub.of(assign.executionId, AgentToHubEvent.ExecutionOutput);
    // Binary on the wire: the hub receives bytes, not a string or a JSON-encoded Buffer.
    expect(Buffer.isBuffer(output.payload.data)).toBe(true);
    expect(output.payload).toMatchObject({ seq: 0, stream: 'stdout', offset: 0 });
    expect(Buffer.from(output.payload.data as Buffer).toString()).toBe('hello\n');
    expect(hub.finished(assign.executionId)).toMatchObject({ status: 'succeeded', exitCode: 0, outputChunks: 1 });

    await waitFor('two heartbeats', () => hub.received.filter((r) => r.event === AgentToHubEvent.Heartbeat).length >= 2);
    expect(hub.received.find((r) => r.event === AgentToHubEvent.Heartbeat)?.payload).toMatchObject({
      running: expect.any(Number),
      sentAt: expect.any(String),
    });
    expect(logLines.filter((line) => line.includes('"msg":"connected"'))).toHaveLength(1);
    expect(logLines.join('')).not.toContain(CREDENTIAL);
  });

  it('reports exit 3 as failed with exit code 3', async () => {
    const hub = await startHub();
    startAgent(hub.url);
    await waitFor('the agent to connect', () => hub.connected);
    const assign = commandAssign('exit 3');
    expect(await hub.send(HubToAgentEvent.ExecutionAssign, assign)).toEqual(ACK_OK);
    await waitFor('the result', () => hub.finished(assign.executionId) !== undefined);
    expect(hub.finished(assign.executionId)).toMatchObject({ status: 'failed', exitCode: 3, reason: null });
  });

  it('refuses an invalid message with VALIDATION_ERROR and keeps working', async () => {
    const hub = await startHub();
    startAgent(hub.url);
    await waitFor('the agent to connect', () => hub.connected);
    const refused = await hub.send(HubToAgentEvent.ExecutionAssign, { executionId: 'nope', spec: { kind: 'magic' } });
    expect(refused).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    expect(logLines.join('')).toContain('invalid message from hub');
    const assign = commandAssign('true');
    expect(await hub.send(HubToAgentEvent.ExecutionAssign, assign)).toEqual(ACK_OK);
    await waitFor('the result', () => hub.finished(assign.executionId) !== undefined);
  });

  it('cancels on the hub’s request', async () => {
    const hub = await startHub();
    startAgent(hub.url);
    await waitFor('the agent to connect', () => hub.connected);
    const assign = commandAssign('sleep 30');
    await hub.send(HubToAgentEvent.ExecutionAssign, assign);
    await waitFor('the start', () => hub.of(assign.executionId, AgentToHubEvent.ExecutionStarted).length === 1);
    expect(await hub.send(HubToAgentEvent.ExecutionCancel, { executionId: assign.executionId })).toEqual(ACK_OK);
    await waitFor('the result', () => hub.finished(assign.executionId) !== undefined);
    expect(hub.finished(assign.executionId)).toMatchObject({ status: 'canceled', reason: 'canceled' });
  });

  it('after a refused handshake retries with a growing delay, not in a tight loop', async () => {
    const hub = await startHub({ refuse: { code: 'PROTOCOL_MISMATCH', message: 'hub speaks 2.0.0, agent 1.0.0' } });
    startAgent(hub.url, 200);
    await waitFor('three refused attempts', () => hub.handshakes.length >= 3, 5_000);
    const gaps = hub.handshakes.slice(1, 3).map((h, i) => h.at - hub.handshakes[i].at);
    // 200 ms then 400 ms, each ±50 %.
    expect(gaps[0]).toBeGreaterThanOrEqual(100 - 5);
    expect(gaps[1]).toBeGreaterThanOrEqual(200 - 5);
    const refusals = logLines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'handshake refused');
    expect(refusals[0]).toMatchObject({ level: 50, code: 'PROTOCOL_MISMATCH', hubMessage: 'hub speaks 2.0.0, agent 1.0.0' });
    expect(logLines.join('')).not.toContain(CREDENTIAL);
  });

  it('comes back, unhurried, after the hub closes the connection itself', async () => {
    const hub = await startHub({ onConnection: (socket) => void socket.disconnect(true) });
    startAgent(hub.url, 200);
    await waitFor('three connections', () => hub.handshakes.length >= 3, 5_000);
    const gaps = hub.handshakes.slice(1, 3).map((h, i) => h.at - hub.handshakes[i].at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100 - 5);
    expect(logLines.join('')).toContain('io server disconnect');
  });

  it('loses nothing when the hub restarts mid-run, and never runs the execution twice', async () => {
    const marker = join(dataDir, 'runs.txt');
    const go = join(dataDir, 'go');
    const assign = commandAssign(
      `echo run >> "${marker}"; echo before; while [ ! -f "${go}" ]; do sleep 0.05; done; echo after`,
    );
    const first = await startHub();
    startAgent(first.url);
    await waitFor('the agent to connect', () => first.connected);
    await first.send(HubToAgentEvent.ExecutionAssign, assign);
    await waitFor('the start', () => first.of(assign.executionId, AgentToHubEvent.ExecutionStarted).length === 1);

    await first.close();
    // The command ends while the hub is away: its last output and result wait in the outbox.
    writeFileSync(go, '');
    await waitFor('the agent to notice', () => logLines.some((line) => line.includes('execution finished')));

    // The restarted hub redelivers the dispatch, as a hub does for one it has no result for.
    const second = await startHub({
      port: first.port,
      onConnection: (socket) => void socket.timeout(5_000).emitWithAck(HubToAgentEvent.ExecutionAssign, assign),
    });
    await waitFor('the result on the restarted hub', () => second.finished(assign.executionId) !== undefined);
    const finished = second.finished(assign.executionId) as ExecutionFinished;
    expect(finished).toMatchObject({ status: 'succeeded', exitCode: 0 });

    const outputs = [...first.of(assign.executionId), ...second.of(assign.executionId)].filter(
      (r) => r.event === AgentToHubEvent.ExecutionOutput,
    );
    const seqs = new Set(outputs.map((r) => r.payload.seq));
    expect([...seqs].sort((a, b) => Number(a) - Number(b))).toEqual([...Array(finished.outputChunks).keys()]);
    const unique = [...new Map(outputs.map((r) => [r.payload.seq, r])).values()];
    expect(outputText(unique)).toBe('before\nafter\n');
    expect(readFileSync(marker, 'utf8')).toBe('run\n');
    const starts = [...first.of(assign.executionId), ...second.of(assign.executionId)].filter(
      (r) => r.event === AgentToHubEvent.ExecutionStarted,
    );
    expect(new Set(starts.map((r) => r.payload.pid)).size).toBe(1);
  });
  it('after a restart sends what its spool holds, names it in its inventory, and never reruns a resent dispatch', async () => {
    const ran = commandAssign('echo should-not-run');
    const spool = SpoolStore.open({ dir: join(dataDir, 'spool'), maxBytes: 1 << 20, logger: captureLogger().logger });
    const result: ExecutionFinished = {
      executionId: ran.executionId,
      status: 'succeeded',
      exitCode: 0,
      signal: null,
      reason: null,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      outputChunks: 0,
      outputDroppedBytes: 0,
    };
    spool.add({ event: AgentToHubEvent.ExecutionFinished, payload: result });
    spool.close();
    const ledger = ExecutionLedger.open(join(dataDir, 'spool', 'executions.log'));
    ledger.add(ran.executionId);
    ledger.close();

    const hub = await startHub();
    startAgent(hub.url);
    await waitFor('the inventory', () => hub.events(AgentToHubEvent.Inventory).length === 1);
    expect(hub.events(AgentToHubEvent.Inventory)[0].payload).toEqual({ running: [], results: [ran.executionId] });
    await waitFor('the spooled result', () => hub.finished(ran.executionId) !== undefined);
    expect(hub.finished(ran.executionId)).toEqual(result);

    expect(await hub.send(HubToAgentEvent.ExecutionAssign, ran)).toEqual(ACK_OK);
    const fresh = commandAssign('echo fresh');
    await hub.send(HubToAgentEvent.ExecutionAssign, fresh);
    await waitFor('the fresh result', () => hub.finished(fresh.executionId) !== undefined);
    expect(hub.of(ran.executionId, AgentToHubEvent.ExecutionStarted)).toEqual([]);
  });

  it('gives a 1.5 hub its facts and the inventory of that moment in each handshake, and sends neither as an event', async () => {
    const hub = await startHub({ handshakeReports: true, healthIntervalSeconds: 0.2 });
    startAgent(hub.url);
    await waitFor('two health samples', () => hub.events(AgentToHubEvent.Health).length >= 2);
    const first = handshakeReportsSchema.parse(hub.handshakes[0]!.auth.reports);
    expect(first.facts).toMatchObject({ agentVersion: '9.9.9-test', os: 'linux' });
    expect(first.inventory).toEqual({ running: [], results: [] });

    const assign = commandAssign('sleep 5');
    expect(await hub.send(HubToAgentEvent.ExecutionAssign, assign)).toEqual(ACK_OK);
    await waitFor('the start', () => hub.of(assign.executionId, AgentToHubEvent.ExecutionStarted).length === 1);
    hub.dropConnections();
    await waitFor('the second handshake', () => hub.handshakes.length === 2);
    expect(handshakeReportsSchema.parse(hub.handshakes[1]!.auth.reports).inventory).toEqual({ running: [assign.executionId], results: [] });
    await waitFor('the second welcome ack', () => hub.welcomeAcks.length === 2);
    const samples = hub.events(AgentToHubEvent.Health).length;
    await waitFor('a sample on the new connection', () => hub.events(AgentToHubEvent.Health).length > samples);

    expect(hub.events(AgentToHubEvent.Facts)).toEqual([]);
    expect(hub.events(AgentToHubEvent.Inventory)).toEqual([]);
    expect(logLines.filter((line) => line.includes('"msg":"inventory sent"') && line.includes('"via":"handshake"'))).toHaveLength(2);
  });

  it('sends its facts and inventory as events, as well as in the handshake, to a hub that does not take them from there', async () => {
    const hub = await startHub({ healthIntervalSeconds: 0.2 });
    startAgent(hub.url);
    await waitFor('the inventory and the facts', () => hub.events(AgentToHubEvent.Inventory).length === 1 && hub.events(AgentToHubEvent.Facts).length === 1);
    expect(hub.handshakes[0]!.auth.reports).toBeDefined();
  });

  it('sends its facts and inventory as events when it could not read them for the handshake', async () => {
    factsFailures = 1;
    const hub = await startHub({ handshakeReports: true });
    startAgent(hub.url);
    await waitFor('the inventory and the facts', () => hub.events(AgentToHubEvent.Inventory).length === 1 && hub.events(AgentToHubEvent.Facts).length === 1);
    expect(hub.handshakes[0]!.auth.reports).toBeUndefined();
    expect(logLines.join('')).toContain('reports not read for the handshake');
  });

  it('carries no reports in the handshake when it announces protocol 1.4', async () => {
    const hub = await startHub({ handshakeReports: true });
    startAgent(hub.url, 5_000, '1.4.0');
    await waitFor('the inventory and the facts', () => hub.events(AgentToHubEvent.Inventory).length === 1 && hub.events(AgentToHubEvent.Facts).length === 1);
    expect(hub.handshakes[0]!.auth.reports).toBeUndefined();
  });

  it('sends no inventory to a hub older than protocol 1.2', async () => {
    const hub = await startHub({ protocolVersion: '1.1.0' });
    startAgent(hub.url);
    await waitFor('two heartbeats', () => hub.events(AgentToHubEvent.Heartbeat).length >= 2);
    expect(hub.events(AgentToHubEvent.Inventory)).toEqual([]);
  });

  it('sends no heartbeats to a hub that takes the transport\'s pongs for them (1.3)', async () => {
    const hub = await startHub({ transportHeartbeat: true, healthIntervalSeconds: 0.2 });
    startAgent(hub.url);
    // The welcome's heartbeat interval is 0.2 s: three samples take at least as long as two beats would.
    await waitFor('three health samples', () => hub.events(AgentToHubEvent.Health).length >= 3);
    expect(hub.events(AgentToHubEvent.Heartbeat)).toEqual([]);
  });

  it('writes each later health sample and the pong to the hub\'s next ping in one TCP segment (1.3)', async () => {
    // Samples a little slower than the pings, as at the defaults, so each waits for one ping.
    const hub = await startHub({ transportHeartbeat: true, healthIntervalSeconds: (1.5 * HEARTBEAT_MS) / 1000 });
    startAgent(hub.url);
    await waitFor('five health samples', () => hub.events(AgentToHubEvent.Health).length >= 5);
    const isSample = (frame: string): boolean => frame.includes(`"${AgentToHubEvent.Health}"`);
    const withPong = hub.reads.filter((frames) => frames.some((frame, i) => isSample(frame) && frames[i + 1] === '3'));
    // The first sample of a connection goes at once, alone.
    expect(withPong.length).toBeGreaterThanOrEqual(4);
  });

  it('answers a ping at once', async () => {
    const hub = await startHub();
    startAgent(hub.url);
    await waitFor('the agent to connect', () => hub.connected);
    expect(await hub.send(HubToAgentEvent.Ping, { sentAt: new Date().toISOString() })).toEqual(ACK_OK);
    const refused = await hub.send(HubToAgentEvent.Ping, { sentAt: 'yesterday' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
  });

  it('sends its facts once per connection, then health at the interval the welcome names', async () => {
    const hub = await startHub({ healthIntervalSeconds: 0.2 });
    startAgent(hub.url);
    await waitFor('three health samples', () => hub.events(AgentToHubEvent.Health).length >= 3);
    expect(hub.events(AgentToHubEvent.Facts)).toHaveLength(1);
    const [facts] = hub.events(AgentToHubEvent.Facts);
    expect(agentFactsSchema.parse(facts!.payload)).toMatchObject({ agentVersion: '9.9.9-test' });
    const sample = hub.events(AgentToHubEvent.Health)[0]!.payload;
    expect(healthSampleSchema.parse(sample)).toMatchObject({ cpuPercent: 12.5, disks: [{ mount: '/' }] });
    // Facts are acked (resent until the hub has them); samples are not: the next one replaces a lost one.
    expect(hub.events(AgentToHubEvent.Facts).map((r) => r.acked)).toEqual([true]);
    expect(hub.events(AgentToHubEvent.Health).every((r) => !r.acked)).toBe(true);
    // Facts come first on the wire: the hub has the host's details before its first sample.
    expect(hub.received.findIndex((r) => r.event === AgentToHubEvent.Facts)).toBeLessThan(
      hub.received.findIndex((r) => r.event === AgentToHubEvent.Health),
    );

    hub.dropConnections();
    await waitFor('facts on the new connection', () => hub.events(AgentToHubEvent.Facts).length === 2);
  });

  it('samples health every 15 s when the welcome does not say (a 1.0 hub)', async () => {
    const hub = await startHub();
    startAgent(hub.url);
    await waitFor('the first sample', () => hub.events(AgentToHubEvent.Health).length === 1);
    const heartbeats = hub.events(AgentToHubEvent.Heartbeat).length;
    await waitFor('ten more heartbeats (2 s)', () => hub.events(AgentToHubEvent.Heartbeat).length >= heartbeats + 10);
    expect(hub.events(AgentToHubEvent.Health)).toHaveLength(1);
  });

  it('queues no samples while disconnected', async () => {
    const first = await startHub({ healthIntervalSeconds: 0.1 });
    startAgent(first.url);
    await waitFor('a sample', () => first.events(AgentToHubEvent.Health).length >= 1);
    await first.close();
    const takenBefore = samples;
    await waitFor('the agent to notice', () => logLines.some((line) => line.includes('disconnected from hub')));
    const second = await startHub({ port: first.port, healthIntervalSeconds: 60 });
    await waitFor('the reconnect', () => second.events(AgentToHubEvent.Health).length >= 1);
    // One sample right after the welcome; none of the ticks of the outage were kept for later.
    expect(second.events(AgentToHubEvent.Health)).toHaveLength(1);
    expect(samples - takenBefore).toBeLessThanOrEqual(2);
  });

  it('stores a rotated credential before acking it, and reconnects with it', async () => {
    const hub = await startHub();
    startAgent(hub.url);
    await waitFor('the agent to connect', () => hub.connected);
    const rotated = 'rotated-credential-0123456789abcdef';
    expect(await hub.send(HubToAgentEvent.CredentialRotate, { credential: rotated })).toEqual(ACK_OK);
    expect(stored).toEqual([rotated]);
    hub.dropConnections();
    await waitFor('the reconnect', () => hub.handshakes.length === 2 && hub.connected);
    expect(hub.handshakes[1]!.auth.credential).toBe(rotated);
    expect(logLines.join('')).not.toContain(rotated);
  });

  it('keeps the old credential when the new one cannot be stored', async () => {
    const hub = await startHub();
    startAgent(hub.url);
    await waitFor('the agent to connect', () => hub.connected);
    storeFails = true;
    const refused = await hub.send(HubToAgentEvent.CredentialRotate, { credential: 'never-stored-0123456789abcdef' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'INTERNAL', message: expect.stringContaining('disk full') } });
    hub.dropConnections();
    await waitFor('the reconnect', () => hub.handshakes.length === 2 && hub.connected);
    expect(hub.handshakes[1]!.auth.credential).toBe(CREDENTIAL);
  });

  it('asks for the namespace of an overridden protocol major, announcing that version', async () => {
    const hub = await startHub({ namespace: '/agent/v2' });
    startAgent(hub.url, 5_000, '2.0.0');
    await waitFor('the handshake', () => hub.handshakes.length === 1);
    expect(hub.handshakes[0]!.auth).toMatchObject({ protocolVersion: '2.0.0' });
  });
});

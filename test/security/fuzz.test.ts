import { AGENT_NAMESPACE, AgentToHubEvent, PROTOCOL_VERSION } from '@outpost/protocol';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Child } from '../support/child-process';
import { ROOT } from '../support/paths';
import { enrollAgent, type EnrolledAgent, startAgent } from '../support/test-agent';
import { ADMIN_PASSWORD, TestHub } from '../support/test-hub';
import { waitFor } from '../support/wait';
import { junkValue, mutate, Prng, withUnstorableText } from './support/junk';
import { rawSession, type RawFrame } from './support/raw-engine-io';
import { connectRawAgent, enrollBody, enrollIdentity, handshakeAuth, type AgentIdentity } from './support/raw-agent';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const AGENT_MESSAGES = 10_000;
const REST_BODIES = 2_000;
/** Below the 1 MiB frame bound: a bigger frame closes the connection, which is tried separately. */
const MAX_MESSAGE_CHARS = 600_000;
const database = process.env.DATABASE_URL ? 'postgres' : 'embedded';

const now = () => new Date().toISOString();
const AGENT_TEMPLATES: Record<string, () => Record<string, unknown>> = {
  [AgentToHubEvent.Heartbeat]: () => ({ sentAt: now(), running: 0 }),
  [AgentToHubEvent.ExecutionStarted]: () => ({ executionId: randomUUID(), pid: 42, startedAt: now() }),
  [AgentToHubEvent.ExecutionOutput]: () => ({ executionId: randomUUID(), seq: 0, stream: 'stdout', offset: 0, data: randomBytes(32) }),
  [AgentToHubEvent.ExecutionFinished]: () => ({
    executionId: randomUUID(),
    status: 'succeeded',
    exitCode: 0,
    signal: null,
    reason: null,
    startedAt: now(),
    finishedAt: now(),
    outputChunks: 0,
  }),
  [AgentToHubEvent.Facts]: () => ({
    hostname: 'h',
    os: 'linux',
    platform: 'linux',
    distro: 'd',
    release: 'r',
    kernel: 'k',
    arch: 'x64',
    cpuModel: 'c',
    cpuCores: 2,
    memTotalBytes: 1,
    ipAddresses: [],
    agentVersion: 'v',
  }),
  [AgentToHubEvent.Health]: () => ({
    sampledAt: now(),
    cpuPercent: 1,
    load1: 0,
    load5: 0,
    load15: 0,
    memUsedPercent: 1,
    memUsedBytes: 1,
    memTotalBytes: 2,
    swapUsedPercent: null,
    disks: [],
    uptimeSeconds: 1,
  }),
  [AgentToHubEvent.Inventory]: () => ({ running: [randomUUID()], results: [] }),
};

/** The POST/PUT/PATCH routes of the one policy table, read from its source so a new route is fuzzed too. */
function writeRoutes(): string[] {
  const source = readFileSync(path.join(ROOT, 'apps/hub/src/auth/access-policy.ts'), 'utf8');
  return [...source.matchAll(/'((?:POST|PUT|PATCH) \/[^']*)'/g)].map((m) => m[1]!);
}

function restTemplate(route: string): Record<string, unknown> {
  const nowhere = { agentIds: [randomUUID()] };
  // Not the admin: failed logins may slow that account down for the rest of the test.
  if (route.includes('/auth/login')) return { username: 'nobody', password: 'not-the-password' };
  if (route.includes('/agents/enroll')) return enrollBody(`opt_${randomUUID()}`, 'fuzz');
  if (route.includes('/enrollment-tokens')) return { labels: { a: 'b' }, maxUses: 1 };
  if (route.includes('/agents/')) return { name: 'n', labels: { a: 'b' } };
  if (route.includes('/jobs/') && route.endsWith('/run')) return { env: { A: 'b' }, cwd: '/tmp' };
  if (route.includes('/rerun')) return { only: 'failed' };
  if (route.includes('/jobs')) return { name: `fuzz-${randomUUID()}`, description: 'd', command: 'true', target: nowhere, env: { A: { value: 'x', secret: true } } };
  // Runs only ever target agents that do not exist: nothing a mutation makes valid can run anywhere.
  return { command: 'true', target: nowhere, env: { A: 'b' }, timeoutSeconds: 5 };
}

/** A session of its own (not the hub helper's shared one), so what the fuzz does to its session cannot touch another. */
async function adminSession(hub: TestHub): Promise<string> {
  const login = await hub.request('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, null);
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return login.body.accessToken as string;
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function restBody(rng: Prng, route: string): { body: string | Buffer; type: string | null } {
  const json = (value: unknown) => ({ body: JSON.stringify(value) ?? 'null', type: 'application/json' });
  switch (rng.int(20)) {
    case 0:
      return { body: Buffer.alloc(3 * 1024 * 1024, 'a'), type: 'application/json' };
    case 1:
      return json({ ...restTemplate(route), pad: 'x'.repeat(1_500_000) });
    case 2:
      return { body: nested(rng.pick([100, 5_000, 50_000])), type: 'application/json' };
    case 3:
      return { body: '{"__proto__":{"role":"admin","polluted":true},"constructor":{"prototype":{"polluted":true}}}', type: 'application/json' };
    case 4:
      return { body: rng.pick(['{', '{"a":', '[1,,2]', "{'a':1}", '\u0000', '"\\ud800"', 'undefined', 'NaN', '{"a":1}}', '\ufeff{}']), type: 'application/json' };
    case 5:
      return { body: JSON.stringify(restTemplate(route)), type: rng.pick(['text/plain', 'application/x-www-form-urlencoded', null]) };
    case 6:
      return { body: randomBytes(rng.int(2048)), type: rng.pick(['application/json', 'application/octet-stream']) };
    case 7:
    case 8:
      return json(withUnstorableText(rng, restTemplate(route)));
    case 9:
    case 10:
    case 11:
      return json(junkValue(rng));
    default:
      return json(mutate(rng, restTemplate(route)));
  }
}

describe(`the hub under fuzz on ${database} database (seed ${SEED}; FUZZ_SEED=${SEED} replays it)`, () => {
  let hub: TestHub;
  let wellBehaved: EnrolledAgent;
  let wellBehavedProcess: Child;
  let fuzzer: AgentIdentity;
  const samples: Array<{ at: number; status: string; lastSeenAt: string; live: number }> = [];
  let sampler: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (set FUZZ_SEED=${SEED} to replay)`);
    hub = await TestHub.start({ database, embeddedTemplate: inject('embeddedTemplate'), env: { HUB_AGENT_EVENTS_PER_S: '1000000' } });
    wellBehaved = await enrollAgent(hub, { name: 'well-behaved' });
    wellBehavedProcess = startAgent(wellBehaved);
    await hub.waitForAgentStatus(wellBehaved.agentId, 'online');
    fuzzer = await enrollIdentity(hub, 'fuzzer');
    const token = await adminSession(hub);
    sampler = setInterval(() => {
      void Promise.all([
        hub.request('GET', `/api/v1/agents/${wellBehaved.agentId}`, undefined, token),
        fetch(`${hub.url}/health/live`).then((r) => r.status, () => 0),
      ]).then(
        ([agent, live]) => samples.push({ at: Date.now(), status: agent.body.status, lastSeenAt: agent.body.lastSeenAt, live }),
        () => samples.push({ at: Date.now(), status: 'unreachable', lastSeenAt: '', live: 0 }),
      );
    }, 500);
  });

  afterAll(async () => {
    clearInterval(sampler);
    await wellBehavedProcess?.stop();
    await hub?.destroy();
  });

  it(`takes ${AGENT_MESSAGES.toLocaleString('en')} malformed, oversized and wrong-typed messages from an authenticated agent`, async () => {
    const rng = new Prng(SEED);
    const socket = await connectRawAgent(hub, fuzzer);
    const events = Object.keys(AGENT_TEMPLATES);
    let known = 0;
    let unknown = 0;
    let acked = 0;
    for (let i = 0; i < AGENT_MESSAGES; i += 1) {
      let args: unknown[];
      let event = rng.pick(events);
      const kind = rng.int(20);
      if (kind < 12) args = [mutate(rng, AGENT_TEMPLATES[event]!())];
      else if (kind < 15) args = [junkValue(rng)];
      else if (kind < 16) args = [{ ...AGENT_TEMPLATES[event]!(), data: randomBytes(70 * 1024) }];
      else if (kind < 17) args = Array.from({ length: rng.int(4) }, () => junkValue(rng));
      else {
        event = rng.pick(['error', 'disconnect', 'disconnecting', 'newListener', '__proto__', 'constructor', 'execution.assign', 'x'.repeat(5_000), '']);
        args = [junkValue(rng)];
      }
      if ((JSON.stringify(args)?.length ?? 0) > MAX_MESSAGE_CHARS) args = [{ oversized: true }];
      if (events.includes(event)) known += 1;
      else unknown += 1;
      // socket.io-client refuses to emit its reserved names; they are sent below the client, in the raw test.
      const reserved = ['disconnect', 'disconnecting', 'newListener'].includes(event);
      if (reserved) event = `${event}-ish`;
      if (rng.chance(0.05)) {
        acked += 1;
        socket.emit(event, ...args, () => undefined);
      } else socket.emit(event, ...args);
      // Let the socket drain now and then, so the client's write buffer stays small.
      if (i % 500 === 499) await socket.timeout(30_000).emitWithAck(AgentToHubEvent.Heartbeat, { sentAt: now(), running: 0 });
    }
    const syncs = Math.floor(AGENT_MESSAGES / 500);
    const last = await socket.timeout(30_000).emitWithAck(AgentToHubEvent.Heartbeat, { sentAt: now(), running: 0 });
    expect(last).toEqual({ ok: true });
    socket.disconnect();

    // The hub counts per connection what it received, dropped, and handed to the validator.
    const line = await waitFor(
      () =>
        hub.child.output
          .split('\n')
          .filter((l) => l.includes('"agent disconnected"') && l.includes(fuzzer.agentId))
          .at(-1),
      { what: 'the hub to log the fuzzer’s disconnect', timeoutMs: 30_000 },
    );
    const counters = (JSON.parse(line) as { events: { received: number; dropped: number; unknown: number; validated: number } }).events;
    console.log(
      `agent namespace: sent ${AGENT_MESSAGES + syncs + 1} (${known} known event names, ${unknown} unknown, ${acked} with an ack callback); hub counted ${JSON.stringify(counters)}`,
    );
    expect(counters).toEqual({ received: AGENT_MESSAGES + syncs + 1, dropped: 0, unknown, validated: known + syncs + 1 });
    expect(counters.validated).toBeGreaterThanOrEqual(AGENT_MESSAGES * 0.8);
  });

  it('closes a connection that sends a frame over the bound, and stays up', async () => {
    const socket = await connectRawAgent(hub, fuzzer);
    const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    socket.emit(AgentToHubEvent.Inventory, { running: ['x'.repeat(2 * 1024 * 1024)], results: [] });
    expect(await closed).toBe('transport close');
    expect((await fetch(`${hub.url}/health/live`)).status).toBe(200);
  });

  it('refuses junk handshakes and survives garbage engine.io and socket.io packets', async () => {
    const rng = new Prng(SEED + 1);
    const auths: unknown[] = [
      {},
      { agentId: 1 },
      { agentId: fuzzer.agentId, credential: ['x'] },
      { agentId: fuzzer.agentId, credential: 'wrong-credential-of-some-length' },
      { ...handshakeAuth(fuzzer), credential: 'x'.repeat(100_000) },
      { ...handshakeAuth(fuzzer), capabilities: Array.from({ length: 20_000 }, () => 'c') },
      { ...handshakeAuth(fuzzer), protocolVersion: '999.0.0' },
      { ...handshakeAuth(fuzzer), protocolVersion: { toString: 1 } },
      JSON.parse(`{"__proto__": ${JSON.stringify(handshakeAuth(fuzzer))}}`),
      ...Array.from({ length: 150 }, () => (rng.chance(0.5) ? mutate(rng, handshakeAuth(fuzzer)) : junkValue(rng))),
    ];
    let connected = 0;
    const unanswered: string[] = [];
    // A handshake payload that is not an object is a malformed packet: the hub closes the transport.
    const refusals = ['UNAUTHORIZED', 'PROTOCOL_MISMATCH', 'transport', 'transport close'];
    const outcomes = new Map<string, number>();
    for (const auth of auths) {
      const socket: Socket = io(`${hub.url}${AGENT_NAMESPACE}`, { forceNew: true, transports: ['websocket'], reconnection: false, auth: auth as object });
      const outcome = await new Promise<string>((resolve) => {
        socket.on('connect', () => resolve('connected'));
        socket.on('connect_error', (error: Error & { data?: { code?: string } }) => resolve(error.data?.code ?? 'transport'));
        socket.on('disconnect', (reason) => resolve(reason));
        setTimeout(() => resolve('timeout'), 10_000);
      });
      socket.disconnect();
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (outcome === 'connected') connected += 1;
      else if (!refusals.includes(outcome)) unanswered.push(`${outcome}: ${JSON.stringify(auth)?.slice(0, 200)}`);
    }
    expect(unanswered).toEqual([]);
    // A mutation may leave a handshake intact (an extra key, say): those are the real identity.
    expect(connected).toBeLessThan(auths.length / 2);

    const namespace = AGENT_NAMESPACE;
    const junkFrames: RawFrame[] = [
      '',
      '0',
      '1',
      '2',
      '3',
      '5',
      '6',
      '9',
      '4',
      '40',
      `40${namespace},`,
      `40${namespace},{`,
      `40${namespace},[]`,
      `40${namespace},"x"`,
      `40${namespace},{"__proto__":{"agentId":"${fuzzer.agentId}"}}`,
      '40/nope,',
      `41${namespace},`,
      `42${namespace},["agent.heartbeat",{}]`,
      '42["error"]',
      `42${namespace},["error",{}]`,
      `42${namespace},["disconnect"]`,
      `42${namespace},["newListener","x"]`,
      `42${namespace},99999999999999999999999["agent.heartbeat",{}]`,
      `42${namespace},${nested(100_000)}`,
      `42${namespace},["execution.output",{"data":{"_placeholder":true,"num":0}}]`,
      `451-${namespace},["execution.output",{"executionId":"${randomUUID()}","data":{"_placeholder":true,"num":"__proto__"}}]`,
      `451-${namespace},["execution.output",{"_placeholder":true,"num":7}]`,
      `452-${namespace},0["execution.output",{"data":{"_placeholder":true,"num":0}}]`,
      `43${namespace},0[]`,
      `46${namespace},["x"]`,
      `4${'x'.repeat(100_000)}`,
      Buffer.from([0xff, 0x00, 0x42]),
      randomBytes(4096),
      ...Array.from({ length: 60 }, () => (rng.chance(0.5) ? randomBytes(1 + rng.int(512)).toString('latin1') : `4${rng.int(10)}${namespace},${JSON.stringify(junkValue(rng)) ?? ''}`)),
    ];
    const auth = { namespace, payload: handshakeAuth(fuzzer) };
    let sessions = 0;
    for (const frame of junkFrames) {
      for (const withAuth of [false, true]) {
        const result = await rawSession(hub.url, [frame], withAuth ? auth : undefined);
        sessions += 1;
        expect(result.opened).toBe(true);
        if (withAuth) expect(result.authenticated).toBe(true);
      }
    }
    // Partial binary packets: the attachment never comes, or is junk.
    await rawSession(hub.url, [`451-${namespace},["execution.output",{"_placeholder":true,"num":0}]`], auth);
    await rawSession(hub.url, [`452-${namespace},["execution.output",{"_placeholder":true,"num":1}]`, Buffer.from('a'), 'junk', Buffer.from('b')], auth);
    console.log(`handshakes: ${auths.length} junk auth payloads, outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; raw engine.io sessions: ${sessions + 2}`);
    expect((await fetch(`${hub.url}/health/live`)).status).toBe(200);
  });

  it(`answers ${REST_BODIES.toLocaleString('en')}+ hostile bodies on every write route without a 5xx`, async () => {
    const rng = new Prng(SEED + 2);
    const routes = writeRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(15);
    // A body may end this session (a logout route, say): a 401 then means "log in again", and is counted like any answer.
    let token = await adminSession(hub);
    const perRoute = Math.ceil(REST_BODIES / routes.length);
    const requests = routes.flatMap((route) => Array.from({ length: perRoute }, () => route));
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const route = requests[next++]!;
        const [method, pattern] = route.split(' ') as [string, string];
        const url = pattern.replace(/:[a-z]+/gi, () => randomUUID());
        const { body, type } = restBody(rng, route);
        const headers: Record<string, string> = { authorization: `Bearer ${token}` };
        if (type) headers['content-type'] = type;
        const response = await fetch(`${hub.url}${url}`, { method, headers, body }).catch((error: Error) => ({ status: 0, error }));
        const status = response.status;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if ('text' in response) await response.arrayBuffer();
        if (status >= 500 || status === 0) failures.push(`${route} → ${status}`);
        if (status === 401 && (await hub.request('GET', '/api/v1/agents?limit=1', undefined, token)).status === 401) token = await adminSession(hub);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    console.log(`REST: ${requests.length} bodies on ${routes.length} routes; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(failures).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(REST_BODIES);
  });

  it('stayed up, and the well-behaved agent kept heartbeating and online throughout', async () => {
    expect(hub.child.running).toBe(true);
    expect((await fetch(`${hub.url}/health/live`)).status).toBe(200);
    expect(wellBehavedProcess.running).toBe(true);
    expect(samples.length).toBeGreaterThan(10);
    expect(samples.filter((s) => s.status !== 'online' || s.live !== 200)).toEqual([]);
    const seen = samples.map((s) => Date.parse(s.lastSeenAt));
    expect(seen.every((t, i) => i === 0 || t >= seen[i - 1]!)).toBe(true);
    // It advanced during the fuzzing: at least one new value every few seconds of it.
    const span = (samples.at(-1)!.at - samples[0]!.at) / 1000;
    expect(new Set(seen).size).toBeGreaterThanOrEqual(Math.floor(span / 5));
    expect(hub.child.output).not.toMatch(/uncaught|unhandled/i);
    // Nothing the fuzz sent made a handler fail (an error-level line: a store that threw, say).
    expect(hub.child.output.split('\n').filter((line) => line.includes('"level":50'))).toEqual([]);
  });
});

// One process of simulated agents for the fleet and run benchmarks: real socket.io connections
// with real credentials, heartbeating and sending small health samples at the intervals the hub's
// welcome sets, as the real agent does; on every connection, as it does too, the host's facts and
// an inventory of what it runs (in the handshake from protocol 1.5, as events after the welcome
// before). An `execution.assign` is acked and answered at once with
// `execution.finished` (exit 0, no output), acked by the hub, without spawning anything: what
// the real agent sends of a command as quick as `true`. Reports counts
// to the parent over IPC.
import { readFileSync } from 'node:fs';
import { io } from 'socket.io-client';

const [identitiesFile, hubUrl, protocolVersion, reportMs = '200'] = process.argv.slice(2);
const identities = JSON.parse(readFileSync(identitiesFile, 'utf8'));
let connected = 0;
let connectsTotal = 0;
let assigned = 0;
let finished = 0;
let refused = 0;
let lastRefusal;

const ACK_TIMEOUT_MS = 30_000;
const reportsInHandshake = Number(protocolVersion.split('.')[1]) >= 5;
/** Sends a report and resends it until the hub acks it, as the real agent's outbox does. */
async function report(socket, event, payload) {
  for (;;) {
    const ack = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload).catch(() => null);
    if (ack?.ok === true) return;
    if (ack) {
      refused += 1;
      lastRefusal = `${event}: ${JSON.stringify(ack.error)}`;
      return;
    }
    if (!socket.connected) await new Promise((resolve) => socket.once('agent.welcome', resolve));
  }
}

/**
 * What the real agent reports of `true`: its result alone, succeeded with exit 0 and no output,
 * carrying the start (a command that ends within 10 ms of its spawn gets no start report).
 */
async function execute(socket, assign) {
  const startedAt = new Date().toISOString();
  await report(socket, 'execution.finished', {
    executionId: assign.executionId,
    status: 'succeeded',
    exitCode: 0,
    signal: null,
    reason: null,
    startedAt,
    finishedAt: new Date().toISOString(),
    outputChunks: 0,
    pid: null,
  });
  finished += 1;
}

const sample = () => ({
  sampledAt: new Date().toISOString(),
  cpuPercent: 3.5,
  load1: 0.2,
  load5: 0.1,
  load15: 0.1,
  memUsedPercent: 41.2,
  memUsedBytes: 3.2e9,
  memTotalBytes: 8e9,
  swapUsedPercent: null,
  disks: [{ mount: '/', sizeBytes: 5e10, usedBytes: 2e10, usedPercent: 40 }],
  uptimeSeconds: 1000,
});

/** The facts the real agent sends on each connect (agentFactsSchema), before its first sample. */
const factsOf = (identity) => ({
  hostname: identity.name,
  os: 'linux',
  platform: 'linux',
  distro: 'Debian GNU/Linux',
  release: '12',
  kernel: '6.1.0-bench',
  arch: 'x64',
  cpuModel: 'Simulated CPU',
  cpuCores: 2,
  memTotalBytes: 8e9,
  ipAddresses: ['192.0.2.10'],
  agentVersion: 'bench',
});

for (const identity of identities) {
  const socket = io(`${hubUrl}/agent/v1`, {
    forceNew: true,
    transports: ['websocket'],
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
    // Asked for on each connection attempt, as the real agent's: the inventory of that moment.
    auth: (send) =>
      send({
        agentId: identity.agentId,
        credential: identity.credential,
        protocolVersion,
        agentVersion: 'bench',
        capabilities: ['health'],
        facts: { hostname: identity.name, os: 'linux', arch: 'x64' },
        ...(reportsInHandshake ? { reports: { facts: factsOf(identity), inventory: inventory() } } : {}),
      }),
  });
  let timers = [];
  // As the real agent's HealthWithPong: after the first, each sample waits for the hub's next
  // ping and is written just before its pong, the socket corked across both (one TCP segment).
  let waitingSample;
  socket.io.on('open', () => {
    const engine = socket.io.engine;
    engine.on('packet', (packet) => {
      if (packet.type !== 'ping' || waitingSample === undefined) return;
      const raw = engine.transport?.ws?._socket;
      raw?.cork();
      if (socket.connected) socket.volatile.emit('agent.health', waitingSample);
      waitingSample = undefined;
      setImmediate(() => raw?.uncork());
    });
  });
  // Like the real agent: an execution id already held or run is acked again and not run twice.
  const seen = new Set();
  const running = new Set();
  const inventory = () => ({ running: [...running], results: [] });
  socket.on('execution.assign', (assign, ack) => {
    if (typeof ack === 'function') ack({ ok: true });
    if (seen.has(assign?.executionId)) return;
    seen.add(assign.executionId);
    assigned += 1;
    running.add(assign.executionId);
    void execute(socket, assign).finally(() => running.delete(assign.executionId));
  });
  socket.on('agent.welcome', (welcome) => {
    timers.forEach(clearInterval);
    waitingSample = undefined;
    const healthIntervalSeconds = welcome.healthIntervalSeconds ?? 15;
    const withPongs = welcome.transportHeartbeat && welcome.heartbeatIntervalSeconds <= healthIntervalSeconds;
    const sendSample = () => {
      if (withPongs && waitingSample === undefined) waitingSample = sample();
      else {
        waitingSample = undefined;
        socket.volatile.emit('agent.health', sample());
      }
    };
    // As the real agent: to a hub that did not take them from the handshake (1.5), its inventory,
    // then its facts and the first sample right after them, each sent once per connection (the
    // next connection sends its own); no heartbeats to a hub that takes the transport's pongs for
    // them (1.3), and samples without an ack.
    const sendOnce = (event, payload) => socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload).catch(() => undefined);
    if (reportsInHandshake && welcome.handshakeReports) socket.volatile.emit('agent.health', sample());
    else {
      void sendOnce('agent.inventory', inventory());
      void sendOnce('agent.facts', factsOf(identity)).then(() => socket.volatile.emit('agent.health', sample()));
    }
    timers = [
      ...(welcome.transportHeartbeat ? [] : [setInterval(() => socket.emit('agent.heartbeat', { sentAt: new Date().toISOString(), running: 0 }), welcome.heartbeatIntervalSeconds * 1000)]),
      setInterval(sendSample, healthIntervalSeconds * 1000),
    ];
    connected += 1;
    connectsTotal += 1;
  });
  socket.on('disconnect', (reason) => {
    timers.forEach(clearInterval);
    timers = [];
    connected -= 1;
    // The real agent comes back by itself after the hub closed the link on purpose too.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000 + Math.random() * 1000);
  });
}

const sendCounts = () => process.send?.({ connected, connectsTotal, assigned, finished, refused, lastRefusal });
setInterval(sendCounts, Number(reportMs));
process.on('message', (message) => {
  if (message === 'exit') process.exit(0);
});

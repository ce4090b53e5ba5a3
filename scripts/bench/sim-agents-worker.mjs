// One process of simulated agents for the fleet benchmark: real socket.io connections with real
// credentials, heartbeating and sending small health samples at the intervals the hub's welcome
// sets, as the real agent does. Reports counts to the parent over IPC.
import { readFileSync } from 'node:fs';
import { io } from 'socket.io-client';

const [identitiesFile, hubUrl, protocolVersion] = process.argv.slice(2);
const identities = JSON.parse(readFileSync(identitiesFile, 'utf8'));
let connected = 0;
let connectsTotal = 0;

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

for (const identity of identities) {
  const socket = io(`${hubUrl}/agent/v1`, {
    forceNew: true,
    transports: ['websocket'],
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
    randomizationFactor: 0.5,
    auth: {
      agentId: identity.agentId,
      credential: identity.credential,
      protocolVersion,
      agentVersion: 'bench',
      capabilities: ['health'],
      facts: { hostname: identity.name, os: 'linux', arch: 'x64' },
    },
  });
  let timers = [];
  socket.on('agent.welcome', (welcome) => {
    timers.forEach(clearInterval);
    timers = [
      setInterval(() => socket.emit('agent.heartbeat', { sentAt: new Date().toISOString(), running: 0 }), welcome.heartbeatIntervalSeconds * 1000),
      setInterval(() => socket.emit('agent.health', sample()), (welcome.healthIntervalSeconds ?? 15) * 1000),
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

setInterval(() => process.send?.({ connected, connectsTotal }), 200);
process.on('message', (message) => {
  if (message === 'exit') process.exit(0);
});

import { AgentToHubEvent } from '@outpost/protocol';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestHub } from '../support/test-hub';
import { waitFor } from '../support/wait';
import { connectRawAgent, enrollIdentity, type AgentIdentity } from './support/raw-agent';

const PER_SECOND = 20;

/** The per-socket event limit, seen from an agent: excess dropped unanswered and logged sparingly; persistent excess cut. */
describe('agent event rate limit', () => {
  let hub: TestHub;
  let identity: AgentIdentity;

  beforeAll(async () => {
    hub = await TestHub.start({ database: 'embedded', embeddedTemplate: inject('embeddedTemplate'), env: { HUB_AGENT_EVENTS_PER_S: String(PER_SECOND) } });
    identity = await enrollIdentity(hub, 'flooder');
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  const heartbeat = () => ({ sentAt: new Date().toISOString(), running: 0 });
  const logLines = (text: string) => hub.child.output.split('\n').filter((line) => line.includes(text) && line.includes(identity.agentId));

  it('drops the excess of a burst unanswered, logs it once, and keeps the connection', async () => {
    const socket = await connectRawAgent(hub, identity);
    const acks = await Promise.all(
      Array.from({ length: 3 * PER_SECOND }, () => socket.timeout(3_000).emitWithAck(AgentToHubEvent.Heartbeat, heartbeat()).then(() => 'acked', () => 'dropped')),
    );
    const acked = acks.filter((a) => a === 'acked').length;
    expect(acked).toBeGreaterThanOrEqual(PER_SECOND);
    expect(acked).toBeLessThan(3 * PER_SECOND);
    expect(socket.connected).toBe(true);
    const drops = logLines('agent events over the rate limit dropped');
    expect(drops).toHaveLength(1);
    expect(JSON.parse(drops[0]!)).toMatchObject({ agentId: identity.agentId, limitPerSecond: PER_SECOND, level: 40 });
    // Within its budget again, it is answered as before.
    await waitFor(() => socket.timeout(2_000).emitWithAck(AgentToHubEvent.Heartbeat, heartbeat()).then(() => true, () => false), {
      what: 'a heartbeat within the limit to be acked',
      timeoutMs: 10_000,
    });
    socket.disconnect();
  });

  it('disconnects an agent that keeps flooding', async () => {
    const socket = await connectRawAgent(hub, identity);
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    for (let i = 0; i < 20 * PER_SECOND && socket.connected; i += 1) socket.emit(AgentToHubEvent.Heartbeat, heartbeat());
    expect(await disconnected).toBe('io server disconnect');
    await waitFor(() => logLines('agent disconnected: persistently over the event rate limit').length === 1, { what: 'the cut to be logged' });
    expect((await fetch(`${hub.url}/health/live`)).status).toBe(200);
  });
});

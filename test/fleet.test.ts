import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { io } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION } from '@outpost/protocol';
import { readFileSync } from 'node:fs';
import { Child } from './support/child-process';
import { databaseKinds } from './support/databases';
import { AGENT_MAIN } from './support/paths';
import { enrollAgent, type EnrolledAgent, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

const OFFLINE_AFTER_S = 3;

function handshake(hub: TestHub, agentId: string, credential: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(`${hub.url}${AGENT_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      auth: { agentId, credential, protocolVersion: PROTOCOL_VERSION, agentVersion: 'test' },
    });
    socket.on('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      socket.disconnect();
      resolve(error.data?.code ?? error.message);
    });
  });
}

describe.each(databaseKinds())('agents as a fleet on %s database', (database) => {
  let hub: TestHub;
  const enrolled: Record<string, EnrolledAgent> = {};
  const processes: Record<string, Child> = {};

  beforeAll(async () => {
    hub = await TestHub.start({
      database,
      embeddedTemplate: inject('embeddedTemplate'),
      env: { HUB_AGENT_HEALTH_INTERVAL_S: '1', HUB_AGENT_OFFLINE_AFTER_S: String(OFFLINE_AFTER_S) },
    });
    const specs = {
      'web-prod': { env: 'prod', role: 'web' },
      'db-prod': { env: 'prod', role: 'db' },
      'web-dev': { env: 'dev', role: 'web' },
    };
    for (const [name, labels] of Object.entries(specs)) {
      enrolled[name] = await enrollAgent(hub, { name, labels });
      processes[name] = startAgent(enrolled[name]!);
    }
    for (const agent of Object.values(enrolled)) await hub.waitForAgentStatus(agent.agentId, 'online');
  });

  afterAll(async () => {
    await Promise.all(Object.values(processes).map((p) => p.stop()));
    await hub?.destroy();
  });

  it('filters by label selector, os and search; sorts and paginates', async () => {
    const ids = async (query: string) => (await hub.api('GET', `/api/v1/agents?${query}`)).body.items.map((a: any) => a.name);
    expect(await ids('labels=env=prod,role=web')).toEqual(['web-prod']);
    expect((await ids('labels=env=prod&sort=name&order=asc'))).toEqual(['db-prod', 'web-prod']);
    expect(await ids('labels=role=web&sort=name&order=desc')).toEqual(['web-prod', 'web-dev']);
    expect(await ids(`os=${process.platform}&sort=name&order=asc`)).toEqual(['db-prod', 'web-dev', 'web-prod']);
    expect(await ids('os=windows')).toEqual([]);
    expect(await ids('search=DB-')).toEqual(['db-prod']);
    const page = await hub.api('GET', '/api/v1/agents?sort=name&order=asc&limit=2&offset=2');
    expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 2 });
    expect(page.body.items.map((a: any) => a.name)).toEqual(['web-prod']);
    const bad = await hub.api('GET', '/api/v1/agents?sort=password');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toBe('sort');
  });

  it('renames and relabels an agent, and the selector follows', async () => {
    const id = enrolled['web-dev']!.agentId;
    const patched = await hub.api('PATCH', `/api/v1/agents/${id}`, { name: 'web-dev', labels: { env: 'staging', role: 'web' } });
    expect(patched.status).toBe(200);
    expect(patched.body.labels).toEqual({ env: 'staging', role: 'web' });
    const staging = await hub.api('GET', '/api/v1/agents?labels=env=staging');
    expect(staging.body.items.map((a: any) => a.id)).toEqual([id]);
    const invalid = await hub.api('PATCH', `/api/v1/agents/${id}`, { labels: { 'bad key': 'x' } });
    expect(invalid.status).toBe(400);
  });

  it('collects health samples: the latest in the list, the series on request', async () => {
    const id = enrolled['web-prod']!.agentId;
    const agent = await waitFor(
      async () => {
        const a = (await hub.api('GET', `/api/v1/agents/${id}`)).body;
        return a.health && a.facts ? a : null;
      },
      { what: 'a health sample and the facts of the agent', timeoutMs: 20_000 },
    );
    expect(agent.health).toMatchObject({
      cpuPercent: expect.any(Number),
      memUsedPercent: expect.any(Number),
      load1: expect.any(Number),
      uptimeSeconds: expect.any(Number),
      sampledAt: expect.any(String),
    });
    expect(agent.health.memUsedPercent).toBeGreaterThan(0);
    expect(agent.health.memUsedPercent).toBeLessThanOrEqual(100);
    expect(agent.facts.hostname).toBeTruthy();
    expect(agent.facts.kernel).toBeTruthy();
    expect(agent.capabilities).toEqual(expect.arrayContaining(['health', 'ping', 'credential-rotation']));
    const series = await waitFor(
      async () => {
        const s = (await hub.api('GET', `/api/v1/agents/${id}/health`)).body;
        return s.items.length >= 2 ? s : null;
      },
      { what: 'two samples in the series', timeoutMs: 20_000 },
    );
    expect(series.items[0].resolution).toBe('raw');
    expect(Date.parse(series.items[1].sampledAt)).toBeGreaterThan(Date.parse(series.items[0].sampledAt));
    const future = await hub.api('GET', `/api/v1/agents/${id}/health?from=2099-01-01T00:00:00Z&to=2099-01-02T00:00:00Z`);
    expect(future.body.items).toEqual([]);
    const backwards = await hub.api('GET', `/api/v1/agents/${id}/health?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`);
    expect(backwards.status).toBe(400);
    const list = await hub.api('GET', '/api/v1/agents?labels=role=web&sort=name&order=desc');
    expect(list.body.items[0].health).not.toBeNull();
  });

  it('pings through the live socket and checks the whole fleet', async () => {
    const ping = await hub.api('POST', `/api/v1/agents/${enrolled['db-prod']!.agentId}/ping`);
    expect(ping.status, ping.text).toBe(200);
    expect(ping.body.roundTripMs).toBeGreaterThan(0);
    expect(ping.body.roundTripMs).toBeLessThan(5000);
    const check = await hub.api('POST', '/api/v1/agents/check');
    expect(check.status).toBe(200);
    expect(check.body.summary).toEqual({ total: 3, online: 3, offline: 0 });
    expect(check.body.items.every((i: any) => i.status === 'online' && i.roundTripMs > 0)).toBe(true);
    const stats = await hub.api('GET', '/api/v1/stats');
    expect(stats.body.agents).toEqual({ total: 3, byStatus: { online: 3, offline: 0 }, byOs: { [process.platform]: 3 } });
  });

  it('keeps a connected agent online on its transport pongs alone (protocol 1.3: it sends no heartbeat)', async () => {
    const id = enrolled['web-dev']!.agentId;
    const first = (await hub.api('GET', `/api/v1/agents/${id}`)).body.lastSeenAt;
    // Twice the offline bound: without the pongs counting, the sweep would have taken it offline.
    const until = Date.now() + OFFLINE_AFTER_S * 2 * 1000;
    let latest = first;
    while (Date.now() < until) {
      const agent = (await hub.api('GET', `/api/v1/agents/${id}`)).body;
      expect(agent.status).toBe('online');
      latest = agent.lastSeenAt;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(Date.parse(latest)).toBeGreaterThan(Date.parse(first) + OFFLINE_AFTER_S * 1000);
  });

  it('marks a silent agent offline within the bound, and online again when it speaks', async () => {
    const name = 'web-dev';
    const id = enrolled[name]!.agentId;
    const before = (await hub.api('GET', `/api/v1/agents/${id}`)).body.lastSeenAt;
    expect(before).not.toBeNull();
    process.kill(processes[name]!.pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    try {
      // The bound: HUB_AGENT_OFFLINE_AFTER_S plus one sweep (a quarter of it), well under 2× the bound.
      await hub.waitForAgentStatus(id, 'offline', OFFLINE_AFTER_S * 2 * 1000);
      const took = Date.now() - stoppedAt;
      expect(took).toBeLessThanOrEqual(OFFLINE_AFTER_S * 2 * 1000);
      const ping = await hub.api('POST', `/api/v1/agents/${id}/ping`);
      expect(ping.status).toBe(409);
      expect(ping.body.error.code).toBe('AGENT_OFFLINE');
    } finally {
      process.kill(processes[name]!.pid, 'SIGCONT');
    }
    await hub.waitForAgentStatus(id, 'online', 20_000);
  });

  it('rotates a live agent credential without downtime; the old one stops working', async () => {
    const agent = enrolled['db-prod']!;
    const oldCredential = JSON.parse(readFileSync(agent.configPath, 'utf8')).credential as string;
    const rotated = await hub.api('POST', `/api/v1/agents/${agent.agentId}/rotate-credential`);
    expect(rotated.status, rotated.text).toBe(200);
    const newCredential = JSON.parse(readFileSync(agent.configPath, 'utf8')).credential as string;
    expect(newCredential).not.toBe(oldCredential);
    expect(processes['db-prod']!.output).not.toContain(newCredential);
    expect((await hub.api('GET', `/api/v1/agents/${agent.agentId}`)).body.status).toBe('online');
    expect(await handshake(hub, agent.agentId, oldCredential)).toBe('UNAUTHORIZED');
    // A restart of the agent uses the stored new credential.
    await processes['db-prod']!.stop();
    processes['db-prod'] = startAgent(agent);
    await waitFor(async () => (await hub.api('POST', `/api/v1/agents/${agent.agentId}/ping`)).status === 200, {
      what: 'the restarted agent to answer a ping',
    });
  });

  it('refuses expired, revoked and used-up enrollment tokens with a clear error', async () => {
    const body = { hostname: 'h', os: 'linux', arch: 'x64', agentVersion: 't' };
    const single = (await hub.api('POST', '/api/v1/enrollment-tokens', { maxUses: 1 })).body;
    const first = await hub.request('POST', '/api/v1/agents/enroll', { ...body, token: single.token }, null);
    expect(first.status).toBe(201);
    const usedUp = await hub.request('POST', '/api/v1/agents/enroll', { ...body, token: single.token }, null);
    expect(usedUp.status).toBe(401);
    expect(usedUp.body.error.message).toContain('used up');
    const revoked = (await hub.api('POST', '/api/v1/enrollment-tokens', {})).body;
    expect((await hub.api('DELETE', `/api/v1/enrollment-tokens/${revoked.id}`)).status).toBe(204);
    const refused = await hub.request('POST', '/api/v1/agents/enroll', { ...body, token: revoked.token }, null);
    expect(refused.body.error.message).toContain('revoked');
    const unknown = await hub.request('POST', '/api/v1/agents/enroll', { ...body, token: 'opt_nope' }, null);
    expect(unknown.body.error.message).toContain('not known');
    const tooShort = await hub.api('POST', '/api/v1/enrollment-tokens', { expiresInSeconds: 1 });
    expect(tooShort.status).toBe(400);
    expect(single.installCommands.linux).toBe(`curl -fsSL ${hub.url.replace('127.0.0.1', 'localhost')}/install.sh | sudo sh -s -- --token ${single.token}`);
    expect(single.installCommands.windows).toContain(`-Token ${single.token}`);
    // Leave the fleet as it was for the other tests.
    expect((await hub.api('DELETE', `/api/v1/agents/${first.body.agentId}`)).status).toBe(204);
  });

  it('re-enrolls a host into its existing record only when asked (--replace)', async () => {
    const agent = enrolled['web-prod']!;
    const total = (await hub.api('GET', '/api/v1/agents')).body.total;
    const token = (await hub.api('POST', '/api/v1/enrollment-tokens', { labels: { rack: 'r1' } })).body.token;
    const enroll = async (extra: string[]) => {
      const child = new Child(process.execPath, [AGENT_MAIN, 'enroll', '--hub', hub.url, '--token', token, '--config', agent.configPath, ...extra], process.env);
      await child.waitExit(30_000);
      return child;
    };
    const refused = await enroll([]);
    expect(refused.exitCode).toBe(1);
    expect(refused.output).toContain('use --replace');
    const replaced = await enroll(['--replace']);
    expect(replaced.exitCode, replaced.output).toBe(0);
    expect(JSON.parse(readFileSync(agent.configPath, 'utf8')).agentId).toBe(agent.agentId);
    const after = await hub.api('GET', `/api/v1/agents/${agent.agentId}`);
    expect(after.body.labels).toMatchObject({ env: 'prod', role: 'web', rack: 'r1' });
    expect((await hub.api('GET', '/api/v1/agents')).body.total).toBe(total);
  });
});

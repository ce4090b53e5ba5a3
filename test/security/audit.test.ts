import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { databaseKinds } from '../support/databases';
import { ADMIN_PASSWORD, TestHub } from '../support/test-hub';
import { waitFor } from '../support/wait';
import { embeddedTemplateWithUsers, seedPostgresUsers, type SeedUser } from './seed-users';

const USER_AGENT = 'outpost-audit-test/1';
const VIEWER: SeedUser = { username: 'audit-viewer', password: 'viewer-password-1', role: 'viewer' };
const OPERATOR: SeedUser = { username: 'audit-operator', password: 'operator-password-1', role: 'operator' };
const SECRET_ENV_VALUE = 'env-secret-4f1c9a';
const WRONG_PASSWORD = 'wrong-password-7d2e';

interface Call {
  status: number;
  body: any;
  requestId: string;
}

describe.each(databaseKinds())('audit log on %s database', (database) => {
  let hub: TestHub;
  let seededTemplate: string | undefined;
  let adminToken: string;
  let adminId: string;

  beforeAll(async () => {
    // Requests reach the hub from loopback, so a trusted X-Forwarded-For names the client.
    const env = { HUB_TRUST_PROXY: 'loopback' };
    if (database === 'embedded') {
      seededTemplate = await embeddedTemplateWithUsers(inject('embeddedTemplate'), [VIEWER, OPERATOR]);
      hub = await TestHub.start({ database, embeddedTemplate: seededTemplate, env });
    } else {
      hub = await TestHub.start({ database, env });
      await seedPostgresUsers(hub.databaseUrl!, [VIEWER, OPERATOR]);
    }
    adminToken = await hub.login();
    adminId = JSON.parse(Buffer.from(adminToken.split('.')[1]!, 'base64url').toString()).sub;
  });

  afterAll(async () => {
    await hub?.destroy();
    if (seededTemplate) rmSync(seededTemplate, { recursive: true, force: true });
  });

  async function call(method: string, path: string, body: unknown, token: string | null, forwardedFor?: string): Promise<Call> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (forwardedFor) headers['x-forwarded-for'] = forwardedFor;
    const response = await fetch(`${hub.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, requestId: response.headers.get('x-request-id')! };
  }

  /** The audit event of one request: written after the answer, so waited for. */
  const auditOf = (requestId: string) =>
    waitFor(
      async () => {
        const page = await call('GET', `/api/v1/audit?requestId=${encodeURIComponent(requestId)}`, undefined, adminToken);
        return page.body.items.length === 1 ? page.body.items[0] : null;
      },
      { timeoutMs: 10_000, what: `the audit event of request ${requestId}` },
    );

  const asAdmin = { actorType: 'user', actorId: () => adminId, actorName: 'admin' };
  const expectEvent = async (response: Call, expected: Record<string, unknown>) => {
    const event = await auditOf(response.requestId);
    expect(event).toMatchObject({ clientAddress: '127.0.0.1', userAgent: USER_AGENT, requestId: response.requestId, status: response.status, ...expected });
    expect(Date.parse(event.at)).toBeGreaterThan(Date.now() - 120_000);
    return event;
  };

  it('records logins, job changes, runs, cancels, enrollments and revokes: who, what, target, outcome, address, request id', async () => {
    const failedLogin = await call('POST', '/api/v1/auth/login', { username: 'admin', password: WRONG_PASSWORD }, null, '203.0.113.9');
    expect(failedLogin.status).toBe(401);
    await expectEvent(failedLogin, {
      actorType: 'user',
      actorId: null,
      actorName: 'admin',
      action: 'auth.login',
      outcome: 'failed',
      clientAddress: '203.0.113.9',
    });
    const login = await call('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD }, null);
    expect(login.status).toBe(200);
    await expectEvent(login, { actorType: 'user', actorName: 'admin', action: 'auth.login', outcome: 'succeeded' });

    const admin = { ...asAdmin, actorId: asAdmin.actorId() };
    const created = await call('POST', '/api/v1/jobs', { name: 'audited', command: 'true', target: { all: true } }, adminToken);
    expect(created.status).toBe(201);
    await expectEvent(created, { ...admin, action: 'job.create', targetType: 'job', targetId: created.body.id, outcome: 'succeeded' });
    const patched = await call('PATCH', `/api/v1/jobs/${created.body.id}`, { description: 'changed' }, adminToken);
    expect(patched.status).toBe(200);
    await expectEvent(patched, { ...admin, action: 'job.update', targetType: 'job', targetId: created.body.id, outcome: 'succeeded' });
    const deleted = await call('DELETE', `/api/v1/jobs/${created.body.id}`, undefined, adminToken);
    expect(deleted.status).toBe(204);
    await expectEvent(deleted, { ...admin, action: 'job.delete', targetType: 'job', targetId: created.body.id, outcome: 'succeeded' });
    const deletedAgain = await call('DELETE', `/api/v1/jobs/${created.body.id}`, undefined, adminToken);
    expect(deletedAgain.status).toBe(404);
    await expectEvent(deletedAgain, { ...admin, action: 'job.delete', targetId: created.body.id, outcome: 'failed' });

    const token = await call('POST', '/api/v1/enrollment-tokens', { maxUses: 1 }, adminToken);
    expect(token.status).toBe(201);
    await expectEvent(token, { ...admin, action: 'enrollment_token.create', targetType: 'enrollment_token', targetId: token.body.id });
    const enrollBody = { token: token.body.token, hostname: 'audited-host', os: 'linux', arch: 'x64', agentVersion: '0.0.0-test' };
    const enrolled = await call('POST', '/api/v1/agents/enroll', enrollBody, null);
    expect(enrolled.status).toBe(201);
    const agentId = enrolled.body.agentId as string;
    await expectEvent(enrolled, {
      actorType: 'agent',
      actorId: agentId,
      actorName: 'audited-host',
      action: 'agent.enroll',
      targetType: 'agent',
      targetId: agentId,
      outcome: 'succeeded',
    });
    const usedUp = await call('POST', '/api/v1/agents/enroll', enrollBody, null);
    expect(usedUp.status).toBe(401);
    await expectEvent(usedUp, { actorType: 'agent', actorId: null, actorName: 'audited-host', action: 'agent.enroll', outcome: 'failed' });

    // The agent never connects: its execution waits queued, and the cancel ends it at once.
    const run = await call(
      'POST',
      '/api/v1/runs',
      { command: 'echo "$API_KEY"', env: { API_KEY: { value: SECRET_ENV_VALUE, secret: true } }, target: { agentIds: [agentId] } },
      adminToken,
    );
    expect(run.status).toBe(201);
    await expectEvent(run, { ...admin, action: 'run.create', targetType: 'run', targetId: run.body.id, outcome: 'succeeded' });
    const cancel = await call('POST', `/api/v1/runs/${run.body.id}/cancel`, undefined, adminToken);
    expect(cancel.status).toBe(200);
    await expectEvent(cancel, { ...admin, action: 'run.cancel', targetType: 'run', targetId: run.body.id, outcome: 'succeeded' });

    const revoke = await call('DELETE', `/api/v1/agents/${agentId}`, undefined, adminToken);
    expect(revoke.status).toBe(204);
    await expectEvent(revoke, { ...admin, action: 'agent.revoke', targetType: 'agent', targetId: agentId, outcome: 'succeeded' });

    // Nothing secret in any row: passwords, tokens, the agent's credential, a secret env value.
    const all = await call('GET', '/api/v1/audit?limit=500', undefined, adminToken);
    const text = JSON.stringify(all.body);
    for (const secret of [ADMIN_PASSWORD, WRONG_PASSWORD, adminToken, login.body.accessToken, token.body.token, enrolled.body.credential, SECRET_ENV_VALUE]) {
      expect(text).not.toContain(secret);
    }
  });

  it('records refusals with the caller the guard identified, and shows the log to admins only', async () => {
    const viewer = await call('POST', '/api/v1/auth/login', { username: VIEWER.username, password: VIEWER.password }, null);
    const operator = await call('POST', '/api/v1/auth/login', { username: OPERATOR.username, password: OPERATOR.password }, null);
    expect([viewer.status, operator.status]).toEqual([200, 200]);

    const forbidden = await call('POST', '/api/v1/jobs', { name: 'not-mine', command: 'true', target: { all: true } }, viewer.body.accessToken);
    expect(forbidden.status).toBe(403);
    await expectEvent(forbidden, { actorType: 'user', actorName: VIEWER.username, action: 'job.create', targetId: null, outcome: 'failed' });
    const anonymous = await call('POST', '/api/v1/runs', { command: 'true', target: { all: true } }, null);
    expect(anonymous.status).toBe(401);
    await expectEvent(anonymous, { actorType: 'anonymous', actorId: null, action: 'run.create', outcome: 'failed' });

    for (const who of [viewer, operator]) {
      const refused = await call('GET', '/api/v1/audit', undefined, who.body.accessToken);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('FORBIDDEN');
    }
  });

  it('filters, sorts and pages like the other lists', async () => {
    const page = await call('GET', '/api/v1/audit?action=auth.login&outcome=failed&limit=1', undefined, adminToken);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ limit: 1, offset: 0 });
    expect(page.body.total).toBeGreaterThanOrEqual(1);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.items[0]).toMatchObject({ action: 'auth.login', outcome: 'failed' });

    const byActor = await call('GET', `/api/v1/audit?actor=${adminId}&targetType=job&sort=at&order=asc&limit=500`, undefined, adminToken);
    expect(byActor.body.items.map((e: any) => e.action)).toEqual(['job.create', 'job.update', 'job.delete', 'job.delete']);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await call('GET', `/api/v1/audit?since=${future}`, undefined, adminToken)).body.total).toBe(0);
    const until = await call('GET', `/api/v1/audit?until=${future}&limit=1`, undefined, adminToken);
    expect(until.body.total).toBeGreaterThan(10);
    const bad = await call('GET', `/api/v1/audit?since=${future}&until=2020-01-01T00:00:00Z&outcome=maybe`, undefined, adminToken);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['outcome.0']);
  });

  it('has no route that changes or deletes audit events', async () => {
    const before = (await call('GET', '/api/v1/audit?limit=1', undefined, adminToken)).body;
    const eventId = before.items[0].id;
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const path of ['/api/v1/audit', `/api/v1/audit/${eventId}`]) {
        const response = await call(method, path, method === 'DELETE' ? undefined : { action: 'forged' }, adminToken);
        expect(response.status, `${method} ${path}`).toBe(404);
      }
    }
    const after = (await call('GET', `/api/v1/audit?limit=500`, undefined, adminToken)).body;
    expect(after.items.find((e: any) => e.id === eventId)).toEqual(before.items[0]);
    expect(JSON.stringify(after)).not.toContain('forged');
    if (database === 'postgres') {
      // Below the API too: the table refuses UPDATE outright.
      const client = new Client({ connectionString: hub.databaseUrl });
      await client.connect();
      await expect(client.query(`update audit_events set action = 'forged' where id = $1`, [eventId])).rejects.toThrow(/append-only/);
      await client.end();
    }
  });
});

describe('audit retention', () => {
  let hub: TestHub;

  beforeAll(async () => {
    // 0.00005 days ≈ 4.3 s, pruned every ~1 s.
    hub = await TestHub.start({ database: 'embedded', embeddedTemplate: inject('embeddedTemplate'), env: { HUB_AUDIT_RETENTION_DAYS: '0.00005' } });
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  it('deletes events older than HUB_AUDIT_RETENTION_DAYS', async () => {
    const refused = await hub.request('POST', '/api/v1/auth/login', { username: 'nobody', password: 'nothing-here' }, null);
    expect(refused.status).toBe(401);
    const requestId = refused.headers.get('x-request-id')!;
    const count = async () => (await hub.api('GET', `/api/v1/audit?requestId=${requestId}`)).body.total as number;
    await waitFor(async () => (await count()) === 1, { timeoutMs: 5_000, what: 'the refused login to be recorded' });
    await waitFor(async () => (await count()) === 0, { timeoutMs: 30_000, what: 'the event to be pruned' });
  });
});

import { describe, expect, it } from 'vitest';
import { type AuditedRequestFacts, auditEventFor } from './audit-event';
import { AUDITED_ACTIONS } from './audited-actions';

const facts = (overrides: Partial<AuditedRequestFacts>): AuditedRequestFacts => ({
  at: new Date('2026-11-30T22:00:00Z'),
  requestId: 'req-1',
  params: {},
  user: undefined,
  claimedName: undefined,
  responseId: undefined,
  status: 200,
  clientAddress: '10.0.0.7',
  userAgent: 'curl/8',
  ...overrides,
});
const admin = { id: 'u-1', username: 'admin', role: 'admin' as const, credential: { kind: 'session' as const, id: 's-1' } };

describe('auditEventFor', () => {
  it('records a user, the target from the route param and the outcome from the status', () => {
    const event = auditEventFor(AUDITED_ACTIONS['DELETE /api/v1/jobs/:id']!, facts({ user: admin, params: { id: 'j-1' }, status: 404 }));
    expect(event).toEqual({
      at: new Date('2026-11-30T22:00:00Z'),
      actorType: 'user',
      actorId: 'u-1',
      actorName: 'admin',
      action: 'job.delete',
      targetType: 'job',
      targetId: 'j-1',
      outcome: 'failed',
      status: 404,
      clientAddress: '10.0.0.7',
      userAgent: 'curl/8',
      requestId: 'req-1',
    });
  });

  it('takes a created target from the answer, and names an API token as the actor', () => {
    const event = auditEventFor(
      AUDITED_ACTIONS['POST /api/v1/runs']!,
      facts({ user: { ...admin, credential: { kind: 'api-token', id: 't-9' } }, responseId: 'r-1', status: 201 }),
    );
    expect(event).toMatchObject({ actorType: 'api_token', actorId: 't-9', actorName: 'admin', targetType: 'run', targetId: 'r-1', outcome: 'succeeded' });
  });

  it('names a login by the username tried, cut short, and never anything else of the body', () => {
    const event = auditEventFor(AUDITED_ACTIONS['POST /api/v1/auth/login']!, facts({ claimedName: 'x'.repeat(5000), status: 401 }));
    expect(event).toMatchObject({ actorType: 'user', actorId: null, outcome: 'failed', status: 401 });
    expect(event!.actorName).toHaveLength(200);
    const typed = auditEventFor(AUDITED_ACTIONS['POST /api/v1/auth/login']!, facts({ claimedName: { $ne: 1 } }));
    expect(typed!.actorName).toBeNull();
  });

  it('names an enrolling agent by the id it was given, or by its hostname when refused', () => {
    const entry = AUDITED_ACTIONS['POST /api/v1/agents/enroll']!;
    expect(auditEventFor(entry, facts({ claimedName: 'web-1', responseId: 'a-1', status: 201 }))).toMatchObject({
      actorType: 'agent',
      actorId: 'a-1',
      actorName: 'web-1',
      targetType: 'agent',
      targetId: 'a-1',
    });
    expect(auditEventFor(entry, facts({ claimedName: 'web-1', status: 401 }))).toMatchObject({ actorId: null, targetId: null, outcome: 'failed' });
  });

  it('records only failures where the entry says so, and a client that left first as aborted', () => {
    const refresh = AUDITED_ACTIONS['POST /api/v1/auth/refresh']!;
    expect(auditEventFor(refresh, facts({ status: 200 }))).toBeNull();
    expect(auditEventFor(refresh, facts({ status: 401 }))).toMatchObject({ actorType: 'anonymous', outcome: 'failed' });
    expect(auditEventFor(AUDITED_ACTIONS['POST /api/v1/runs']!, facts({ user: admin, status: undefined }))).toMatchObject({
      outcome: 'aborted',
      status: null,
    });
  });
});

describe('auditEventFor, with text the database refuses', () => {
  it('stores a tried username holding NUL or a lone surrogate as replaced text', () => {
    const event = auditEventFor(AUDITED_ACTIONS['POST /api/v1/auth/login']!, facts({ claimedName: 'a\0b\ud800', status: 400 }));
    expect(event!.actorName).toBe('a\ufffdb\ufffd');
  });
});

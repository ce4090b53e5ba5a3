import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from './audit-event';
import { type AuditedRequest, AuditRecorder } from './audit-recorder.middleware';
import type { AuditWriter } from './audit-writer.service';

function harness(routePath: string | undefined) {
  const recorded: AuditEventInput[] = [];
  const recorder = new AuditRecorder({ record: (event: AuditEventInput) => recorded.push(event) } as unknown as AuditWriter);
  const req = {
    method: 'POST',
    route: routePath ? { path: routePath } : undefined,
    params: { id: 'run-1' },
    body: { password: 'never-read' },
    id: 'req-1',
    ip: '10.1.2.3',
    get: () => 'test-agent',
    user: { id: 'u-1', username: 'admin', role: 'admin', credential: { kind: 'session', id: 's-1' } },
  } as unknown as AuditedRequest;
  const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: false }) as unknown as Response & EventEmitter;
  let nextCalled = false;
  recorder.use(req, res, () => void (nextCalled = true));
  return { recorded, res, nextCalled: () => nextCalled };
}

describe('AuditRecorder', () => {
  it('records an audited route once when its response finishes, with the status', () => {
    const { recorded, res, nextCalled } = harness('/api/v1/runs/:id/cancel');
    expect(nextCalled()).toBe(true);
    expect(recorded).toHaveLength(0);
    Object.assign(res, { statusCode: 409, writableFinished: true });
    res.emit('finish');
    res.emit('close');
    expect(recorded).toEqual([expect.objectContaining({ action: 'run.cancel', targetId: 'run-1', outcome: 'failed', status: 409, actorId: 'u-1' })]);
    expect(JSON.stringify(recorded)).not.toContain('never-read');
  });

  it('records a request whose client left before the answer as aborted', () => {
    const { recorded, res } = harness('/api/v1/runs/:id/cancel');
    res.emit('close');
    expect(recorded).toEqual([expect.objectContaining({ outcome: 'aborted', status: null })]);
  });

  it('ignores routes that are not audited, and requests no route matched', () => {
    for (const path of ['/api/v1/agents/check', undefined]) {
      const { recorded, res } = harness(path);
      Object.assign(res, { writableFinished: true });
      res.emit('finish');
      expect(recorded).toHaveLength(0);
    }
  });
});

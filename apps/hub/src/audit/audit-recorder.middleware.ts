import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { routeKeyOf } from '../common/http/route-key';
import { auditEventFor } from './audit-event';
import { AuditWriter } from './audit-writer.service';
import { AUDITED_ACTIONS } from './audited-actions';

/** What the hook and the response interceptor leave on a request. */
export type AuditedRequest = Request & { id?: string; user?: AuthenticatedUser; auditResponseId?: string };

/**
 * Records every request to a route in AUDITED_ACTIONS when its response ends, whatever ended it:
 * refused by the guard (with the user, when the guard got that far), invalid, failed or done; or
 * the client leaving first (`aborted`, so a run cannot slip by unrecorded by hanging up). Runs
 * after the answer is sent, so the caller never waits for the audit write.
 */
@Injectable()
export class AuditRecorder implements NestMiddleware {
  constructor(private readonly writer: AuditWriter) {}

  use(req: AuditedRequest, res: Response, next: NextFunction): void {
    const at = new Date();
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      this.record(req, res, at);
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  }

  private record(req: AuditedRequest, res: Response, at: Date): void {
    const key = routeKeyOf(req);
    const entry = key === undefined ? undefined : AUDITED_ACTIONS[key];
    if (!entry) return;
    const body = req.body as Record<string, unknown> | undefined;
    const event = auditEventFor(entry, {
      at,
      requestId: String(req.id ?? ''),
      params: req.params as Record<string, string>,
      user: req.user,
      claimedName: entry.claimedActor && typeof body === 'object' && body !== null ? body[entry.claimedActor.nameField] : undefined,
      responseId: req.auditResponseId,
      status: res.writableFinished ? res.statusCode : undefined,
      clientAddress: req.ip,
      userAgent: req.get('user-agent'),
    });
    if (event) this.writer.record(event);
  }
}

import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { routeKeyOf } from '../common/http/route-key';
import { auditEventFor } from './audit-event';
import { AuditWriter } from './audit-writer.service';
import { AUDITED_ACTIONS } from './audited-actions';

/** What the hook and the response interceptor leave on a request. */
export type AuditedRequest = Request & {
  id?: string;
  user?: AuthenticatedUser;
  auditResponseId?: string;
  /** Records the request now with this status, instead of when its response ends. */
  auditNow?: (status: number) => void;
};

/**
 * For a request that created something and then goes on before it answers (`?wait=`): recorded
 * now, as created with `id`, so a crash or a client hanging up during the wait cannot leave the
 * creation unrecorded.
 */
export function auditCreatedNow(req: AuditedRequest, id: string): void {
  req.auditResponseId = id;
  req.auditNow?.(201);
}

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
    const record = (status = res.writableFinished ? res.statusCode : undefined): void => {
      if (recorded) return;
      recorded = true;
      this.record(req, at, status);
    };
    req.auditNow = record;
    res.once('finish', () => record());
    res.once('close', () => record());
    next();
  }

  private record(req: AuditedRequest, at: Date, status: number | undefined): void {
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
      status,
      clientAddress: req.ip,
      userAgent: req.get('user-agent'),
    });
    if (event) this.writer.record(event);
  }
}

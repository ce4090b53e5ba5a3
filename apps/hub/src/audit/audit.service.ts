import { Injectable } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { fetchPage } from '../common/database/list-query';
import type { Page } from '../common/validation/common-schemas';
import { AuditEvent } from './audit-event.entity';
import type { AuditQuery } from './audit-query.schema';

export type AuditEventView = ReturnType<typeof toAuditEventView>;

/** Reads the audit log. Nothing here or anywhere else in the API changes a recorded event. */
@Injectable()
export class AuditService {
  constructor(private readonly em: EntityManager) {}

  list(query: AuditQuery): Promise<Page<AuditEventView>> {
    const qb = this.em.fork().createQueryBuilder(AuditEvent, 'a');
    if (query.actor) qb.andWhere({ $or: [{ actorId: query.actor }, { actorName: query.actor }] });
    if (query.actorType) qb.andWhere({ actorType: { $in: query.actorType } });
    if (query.action) qb.andWhere({ action: { $in: query.action } });
    if (query.outcome) qb.andWhere({ outcome: { $in: query.outcome } });
    if (query.targetType) qb.andWhere({ targetType: query.targetType });
    if (query.targetId) qb.andWhere({ targetId: query.targetId });
    if (query.requestId) qb.andWhere({ requestId: query.requestId });
    if (query.since) qb.andWhere({ at: { $gte: query.since } });
    if (query.until) qb.andWhere({ at: { $lte: query.until } });
    return fetchPage(qb, query, toAuditEventView);
  }
}

function toAuditEventView(event: AuditEvent) {
  return {
    id: event.id,
    at: event.at.toISOString(),
    actorType: event.actorType,
    actorId: event.actorId,
    actorName: event.actorName,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    outcome: event.outcome,
    status: event.status,
    clientAddress: event.clientAddress,
    userAgent: event.userAgent,
    requestId: event.requestId,
  };
}

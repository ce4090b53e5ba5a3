import { z } from 'zod';
import { csvEnum, paginationSchema } from '../common/validation/common-schemas';
import { AUDIT_ACTOR_TYPES, AUDIT_OUTCOMES } from './audit-event.entity';

export const AUDIT_SORT_FIELDS = ['at', 'action', 'actorName', 'outcome'] as const;

const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const csvText = z
  .string()
  .max(1024)
  .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
  .pipe(z.array(z.string().max(128)).min(1));

export const auditQuerySchema = paginationSchema
  .extend({
    /** An actor's id (user, API token, agent) or name (username, attempted username, hostname). */
    actor: z.string().min(1).max(200).optional(),
    actorType: csvEnum(AUDIT_ACTOR_TYPES).optional(),
    action: csvText.optional(),
    outcome: csvEnum(AUDIT_OUTCOMES).optional(),
    targetType: z.string().min(1).max(64).optional(),
    targetId: z.string().min(1).max(200).optional(),
    requestId: z.string().min(1).max(128).optional(),
    since: instant.optional(),
    until: instant.optional(),
    sort: z.enum(AUDIT_SORT_FIELDS).default('at'),
  })
  .refine((q) => !q.since || !q.until || q.since <= q.until, { message: 'since must not be after until', path: ['since'] });

export type AuditQuery = z.infer<typeof auditQuerySchema>;

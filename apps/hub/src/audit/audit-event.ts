import { storableText } from '@outpost/protocol';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import type { AuditActorType, AuditOutcome } from './audit-event.entity';
import type { AuditedAction } from './audited-actions';

/** Free text from a request (a claimed username, a user agent) is cut to this many characters. */
const MAX_TEXT = 200;

/** What the hook saw of one finished request: never its body, only the one named field. */
export interface AuditedRequestFacts {
  at: Date;
  requestId: string;
  params: Record<string, string>;
  user: AuthenticatedUser | undefined;
  /** The claimed actor's name from the body (AuditedAction.claimedActor.nameField), if a string. */
  claimedName: unknown;
  /** The response field AuditedAction.target names, captured on success. */
  responseId: string | undefined;
  /** undefined: the client left before the answer was sent. */
  status: number | undefined;
  clientAddress: string | undefined;
  userAgent: string | undefined;
}

export interface AuditEventInput {
  at: Date;
  actorType: AuditActorType;
  actorId: string | null;
  actorName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: AuditOutcome;
  status: number | null;
  clientAddress: string | null;
  userAgent: string | null;
  requestId: string;
}

/** Cut to length, then made storable: a name tried at login may hold anything, and one bad row would fail its whole batch. */
const text = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? storableText(value.slice(0, MAX_TEXT)) : null;

function outcomeOf(status: number | undefined): AuditOutcome {
  if (status === undefined) return 'aborted';
  return status < 400 ? 'succeeded' : 'failed';
}

/** The audit row for one request to an audited route, or null when the entry records failures only and it succeeded. */
export function auditEventFor(entry: AuditedAction, facts: AuditedRequestFacts): AuditEventInput | null {
  const outcome = outcomeOf(facts.status);
  if (entry.failuresOnly && outcome === 'succeeded') return null;
  const target = entry.target;
  const targetId =
    target === undefined
      ? null
      : target === 'self'
        ? (facts.user?.id ?? null)
        : 'param' in target
          ? text(facts.params[target.param])
          : text(facts.responseId);
  return {
    at: facts.at,
    ...actorOf(entry, facts, targetId),
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId,
    outcome,
    status: facts.status ?? null,
    clientAddress: text(facts.clientAddress),
    userAgent: text(facts.userAgent),
    requestId: facts.requestId,
  };
}

function actorOf(entry: AuditedAction, facts: AuditedRequestFacts, targetId: string | null): Pick<AuditEventInput, 'actorType' | 'actorId' | 'actorName'> {
  const { user } = facts;
  if (user?.credential.kind === 'api-token') return { actorType: 'api_token', actorId: user.credential.id, actorName: user.username };
  if (user) return { actorType: 'user', actorId: user.id, actorName: user.username };
  const claimed = entry.claimedActor;
  if (!claimed) return { actorType: 'anonymous', actorId: null, actorName: null };
  // An enrolling agent is known by the id the enrollment gave it; a login is known only by the name tried.
  return { actorType: claimed.type, actorId: claimed.type === 'agent' ? targetId : null, actorName: text(facts.claimedName) };
}

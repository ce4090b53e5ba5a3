/** Where an audited route's target id comes from. */
export type AuditTargetSource =
  /** a route parameter, e.g. `:id` */
  | { param: string }
  /** a field of the JSON answer: the id of what a create made */
  | { response: string }
  /** the caller's own user (changing one's own password) */
  | 'self';

export interface AuditedAction {
  /** `noun.verb`, like the wire events: what happened. */
  action: string;
  targetType?: string;
  target?: AuditTargetSource;
  /**
   * Who acts on a route nobody is signed in to: a body field naming the claimed actor (truncated;
   * never a secret field). An enrolling agent's id is the target's id, once it exists.
   */
  claimedActor?: { type: 'user' | 'agent'; nameField: string };
  /** Routine successes are noise; only failures are recorded (refresh: reuse and forged tokens). */
  failuresOnly?: true;
}

const byId = (targetType: string): Pick<AuditedAction, 'targetType' | 'target'> => ({ targetType, target: { param: 'id' } });
const created = (targetType: string, field = 'id'): Pick<AuditedAction, 'targetType' | 'target'> => ({
  targetType,
  target: { response: field },
});

/**
 * Every state-changing route and what it records, keyed like ACCESS_POLICY (`METHOD path` as
 * Express registers it). The audit hook reads this on every finished response, so a route listed
 * here is recorded whatever its outcome (refused by the guard, invalid, failed or done). A unit
 * test fails when a non-GET route of ACCESS_POLICY is neither here nor in AUDIT_EXEMPT.
 */
export const AUDITED_ACTIONS: Readonly<Record<string, AuditedAction>> = {
  'POST /api/v1/auth/login': { action: 'auth.login', claimedActor: { type: 'user', nameField: 'username' } },
  'POST /api/v1/auth/refresh': { action: 'auth.refresh', failuresOnly: true },
  'POST /api/v1/auth/logout': { action: 'auth.logout', targetType: 'user', target: 'self' },
  'POST /api/v1/auth/password': { action: 'auth.password_change', targetType: 'user', target: 'self' },
  'POST /api/v1/users': { action: 'user.create', ...created('user') },
  'PATCH /api/v1/users/:id': { action: 'user.update', ...byId('user') },
  'DELETE /api/v1/users/:id': { action: 'user.delete', ...byId('user') },
  'POST /api/v1/tokens': { action: 'api_token.create', ...created('api_token') },
  'DELETE /api/v1/tokens/:id': { action: 'api_token.revoke', ...byId('api_token') },
  'POST /api/v1/enrollment-tokens': { action: 'enrollment_token.create', ...created('enrollment_token') },
  'DELETE /api/v1/enrollment-tokens/:id': { action: 'enrollment_token.revoke', ...byId('enrollment_token') },
  'POST /api/v1/agents/enroll': {
    action: 'agent.enroll',
    ...created('agent', 'agentId'),
    claimedActor: { type: 'agent', nameField: 'hostname' },
  },
  'PATCH /api/v1/agents/:id': { action: 'agent.update', ...byId('agent') },
  'DELETE /api/v1/agents/:id': { action: 'agent.revoke', ...byId('agent') },
  'POST /api/v1/agents/:id/rotate-credential': { action: 'agent.rotate_credential', ...byId('agent') },
  'POST /api/v1/runs': { action: 'run.create', ...created('run') },
  'POST /api/v1/runs/:id/cancel': { action: 'run.cancel', ...byId('run') },
  'POST /api/v1/runs/:id/rerun': { action: 'run.rerun', ...byId('run') },
  'POST /api/v1/executions/:id/cancel': { action: 'execution.cancel', ...byId('execution') },
  'POST /api/v1/jobs': { action: 'job.create', ...created('job') },
  'PUT /api/v1/jobs/:id': { action: 'job.replace', ...byId('job') },
  'PATCH /api/v1/jobs/:id': { action: 'job.update', ...byId('job') },
  'DELETE /api/v1/jobs/:id': { action: 'job.delete', ...byId('job') },
  'POST /api/v1/jobs/:id/run': { action: 'job.run', ...byId('job') },
  'POST /api/v1/jobs/:id/pause': { action: 'job.pause', ...byId('job') },
  'POST /api/v1/jobs/:id/resume': { action: 'job.resume', ...byId('job') },
  'POST /api/v1/scheduler/pause': { action: 'scheduler.pause', targetType: 'scheduler' },
  'POST /api/v1/scheduler/resume': { action: 'scheduler.resume', targetType: 'scheduler' },
};

/** Non-GET routes deliberately not audited, each with the reason. Keep it short. */
export const AUDIT_EXEMPT: Readonly<Record<string, string>> = {
  'POST /api/v1/agents/:id/ping': 'read-only: measures the round trip through the live socket, changes nothing',
  'POST /api/v1/agents/check': 'read-only: pings every online agent, changes nothing',
};

import { ROLES, type Role } from './roles';

export type Access = 'public' | Role;

/**
 * Who may call each route: the one role policy table (DESIGN.md §3). The guard refuses any
 * route missing here, and the security tests enumerate the router against this table.
 * Keys are `METHOD path` exactly as Express registers them.
 */
export const ACCESS_POLICY: Readonly<Record<string, Access>> = {
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'POST /api/v1/auth/login': 'public',
  'POST /api/v1/auth/refresh': 'public',
  'POST /api/v1/auth/logout': 'viewer',
  'GET /api/v1/auth/me': 'viewer',
  'POST /api/v1/auth/password': 'viewer',
  'GET /api/v1/users': 'admin',
  'GET /api/v1/users/:id': 'admin',
  'POST /api/v1/users': 'admin',
  'PATCH /api/v1/users/:id': 'admin',
  'DELETE /api/v1/users/:id': 'admin',
  'GET /api/v1/tokens': 'viewer',
  'POST /api/v1/tokens': 'viewer',
  'DELETE /api/v1/tokens/:id': 'viewer',
  'POST /api/v1/agents/enroll': 'public',
  'GET /install.sh': 'public',
  'GET /install.ps1': 'public',
  'GET /downloads/agent/:file': 'public',
  'GET /api/v1/enrollment-tokens': 'admin',
  'POST /api/v1/enrollment-tokens': 'admin',
  'DELETE /api/v1/enrollment-tokens/:id': 'admin',
  'GET /api/v1/agents': 'viewer',
  'GET /api/v1/agents/:id': 'viewer',
  'DELETE /api/v1/agents/:id': 'admin',
  'PATCH /api/v1/agents/:id': 'operator',
  'POST /api/v1/agents/:id/ping': 'operator',
  'POST /api/v1/agents/check': 'operator',
  'POST /api/v1/agents/:id/rotate-credential': 'admin',
  'GET /api/v1/agents/:id/health': 'viewer',
  'GET /api/v1/stats': 'viewer',
  'POST /api/v1/runs': 'operator',
  'GET /api/v1/runs': 'viewer',
  'POST /api/v1/runs/:id/cancel': 'operator',
  'POST /api/v1/runs/:id/rerun': 'operator',
  'GET /api/v1/jobs': 'viewer',
  'GET /api/v1/jobs/:id': 'viewer',
  'POST /api/v1/jobs': 'operator',
  'PUT /api/v1/jobs/:id': 'operator',
  'PATCH /api/v1/jobs/:id': 'operator',
  'DELETE /api/v1/jobs/:id': 'operator',
  'POST /api/v1/jobs/:id/run': 'operator',
  'POST /api/v1/jobs/:id/pause': 'operator',
  'POST /api/v1/jobs/:id/resume': 'operator',
  'GET /api/v1/jobs/:id/next-runs': 'viewer',
  'GET /api/v1/schedules/preview': 'viewer',
  'GET /api/v1/scheduler': 'viewer',
  'POST /api/v1/scheduler/pause': 'admin',
  'POST /api/v1/scheduler/resume': 'admin',
  'GET /api/v1/executions': 'viewer',
  'POST /api/v1/executions/:id/cancel': 'operator',
  'GET /api/v1/runs/:id': 'viewer',
  'GET /api/v1/executions/:id': 'viewer',
  'GET /api/v1/executions/:id/output': 'viewer',
  'GET /api/v1/executions/:id/stream': 'viewer',
  'GET /api/v1/audit': 'admin',
};

export function roleSatisfies(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/**
 * Routes the API-wide rate limit leaves alone, each with the reason (keys as in ACCESS_POLICY).
 * Everything else counts against its caller's allowance.
 */
export const RATE_LIMIT_EXEMPT: Readonly<Record<string, string>> = {
  'GET /health/live': 'load balancers and orchestrators probe every few seconds from one address',
  'GET /health/ready': 'load balancers and orchestrators probe every few seconds from one address',
  'POST /api/v1/agents/enroll':
    'a fleet rollout enrolls hundreds of hosts within a minute, often through one NAT address; each call is one SHA-256 lookup, and the enrollment token (uses, expiry) bounds what succeeds',
  'GET /install.sh': 'fetched by every host of a rollout, often through one NAT address; a static file',
  'GET /install.ps1': 'fetched by every host of a rollout, often through one NAT address; a static file',
  'GET /downloads/agent/:file': 'fetched by every host of a rollout, often through one NAT address; a static file',
};

import type { Request } from 'express';

/**
 * `METHOD /path/:pattern` of the route that matched, as Express registered it: the key of
 * ACCESS_POLICY, AUDITED_ACTIONS and the rate-limit exemptions. Undefined when no route matched.
 */
export function routeKeyOf(req: Pick<Request, 'method' | 'route'>): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.method} ${path}` : undefined;
}

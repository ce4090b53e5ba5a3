import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ACCESS_POLICY, type Access } from '../../apps/hub/src/auth/access-policy';
import { ROLES, type Role } from '../../apps/hub/src/auth/roles';
import { ROOT } from '../support/paths';
import { ADMIN_PASSWORD, type ApiResponse, TestHub } from '../support/test-hub';
import { createUser, login } from '../support/users';

/** Nest logs each route as the router maps it: the running app's own list, not ours. */
const MAPPED_ROUTE = /Mapped \{([^,}]+), (GET|POST|PUT|PATCH|DELETE)\} route/g;

function mappedRoutes(hubOutput: string): string[] {
  return [...hubOutput.matchAll(MAPPED_ROUTE)].map(([, routePath, method]) => `${method} ${routePath}`).sort();
}

function jwt(header: object, payload: object, key: Buffer | null): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(payload)}`;
  return `${unsigned}.${key ? createHmac('sha256', key).update(unsigned).digest('base64url') : ''}`;
}

function claimsOf(accessToken: string): { sub: string; sid: string } {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
}

/** Path parameters get ids that exist nowhere: the guard decides before any lookup could. */
function concretePath(route: string): string {
  return route.replace(/:file\b/g, 'no-such-file').replace(/:\w+/g, randomUUID());
}

const BAD_CREDENTIALS = ['no token', 'expired token', 'alg none', 'signed by another key'] as const;

describe('every route against the one role policy table', () => {
  let hub: TestHub;
  let routes: string[];
  const credentials: Record<string, string | null> = {};
  const roleOf: Record<string, Role> = {};
  /** Who each session credential belongs to, so a logout can be given a fresh session of the same user. */
  const passwordOf: Record<string, { username: string; password: string }> = {};

  beforeAll(async () => {
    hub = await TestHub.start({ database: 'embedded', embeddedTemplate: inject('embeddedTemplate') });
    routes = mappedRoutes(hub.child.output);
    const admin = await login(hub, 'admin', ADMIN_PASSWORD);
    const { sub, sid } = claimsOf(admin.accessToken);
    const now = Math.floor(Date.now() / 1000);
    const hubKey = Buffer.from(readFileSync(path.join(hub.dataDir, 'jwt-secret'), 'utf8').trim());
    credentials['no token'] = null;
    credentials['expired token'] = jwt({ alg: 'HS256', typ: 'JWT' }, { sub, sid, iat: now - 3600, exp: now - 1800 }, hubKey);
    credentials['alg none'] = jwt({ alg: 'none', typ: 'JWT' }, { sub, sid, iat: now, exp: now + 600 }, null);
    credentials['signed by another key'] = jwt({ alg: 'HS256', typ: 'JWT' }, { sub, sid, iat: now, exp: now + 600 }, randomBytes(48));
    credentials.admin = admin.accessToken;
    roleOf.admin = 'admin';
    passwordOf.admin = { username: 'admin', password: ADMIN_PASSWORD };
    for (const role of ['viewer', 'operator'] as const) {
      const user = await createUser(hub, `policy-${role}`, role);
      credentials[role] = user.accessToken;
      roleOf[role] = role;
      passwordOf[role] = { username: `policy-${role}`, password: user.password };
    }
    // An API token is held to the same table as a session of its role.
    const token = await hub.request('POST', '/api/v1/tokens', { name: 'policy-viewer-token', role: 'viewer' }, admin.accessToken);
    credentials['viewer API token'] = token.body.token;
    roleOf['viewer API token'] = 'viewer';
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  it('the router and the policy table list exactly the same routes', () => {
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.filter((route) => !(route in ACCESS_POLICY)), 'routes missing from ACCESS_POLICY').toEqual([]);
    expect(Object.keys(ACCESS_POLICY).filter((route) => !routes.includes(route)), 'policy entries no route has').toEqual([]);
  });

  it('the README documents the table as it is', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const undocumented = Object.entries(ACCESS_POLICY).filter(([route, access]) => !readme.includes(`| \`${route}\` | ${access} |`));
    expect(undocumented).toEqual([]);
  });

  async function call(route: string, credential: string): Promise<ApiResponse> {
    const [method, routePath] = route.split(' ');
    const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
    let token = credentials[credential];
    // Logging out ends the session it is called with: give it a session of its own.
    const user = passwordOf[credential];
    if (route === 'POST /api/v1/auth/logout' && user) token = (await login(hub, user.username, user.password)).accessToken;
    return hub.request(method, concretePath(routePath), body, token);
  }

  /** The guard's own refusals, told apart from a route that was reached and answered 401/403 itself. */
  const unauthenticated = (response: ApiResponse) =>
    response.status === 401 && /^Authentication required/.test(response.body?.error?.message ?? '');
  const forbidden = (response: ApiResponse) => response.status === 403 && /needs the \w+ role/.test(response.body?.error?.message ?? '');

  it('refuses every non-public route without a valid token, and answers public ones to anyone', async () => {
    const wrong: string[] = [];
    for (const [route, access] of Object.entries(ACCESS_POLICY) as [string, Access][]) {
      for (const name of BAD_CREDENTIALS) {
        const response = await call(route, name);
        if (access === 'public') {
          if (unauthenticated(response) || forbidden(response)) wrong.push(`${route} with ${name}: public, got ${response.status}`);
        } else if (!unauthenticated(response)) {
          wrong.push(`${route} with ${name}: expected 401, got ${response.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lets each role through exactly where the table says, and refuses it with 403 elsewhere', async () => {
    const wrong: string[] = [];
    for (const [route, access] of Object.entries(ACCESS_POLICY) as [string, Access][]) {
      for (const [name, role] of Object.entries(roleOf)) {
        const response = await call(route, name);
        const allowed = access === 'public' || ROLES.indexOf(role) >= ROLES.indexOf(access);
        if (allowed ? unauthenticated(response) || forbidden(response) : !forbidden(response)) {
          wrong.push(`${route} as ${name}: ${allowed ? 'allowed' : 'refused'} by the table, got ${response.status} ${response.text.slice(0, 120)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

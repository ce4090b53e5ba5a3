import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { databaseKinds } from '../support/databases';
import { TestHub } from '../support/test-hub';

const ALLOWED_ORIGIN = 'https://ops.example.com';
const RATE_LIMIT = 25;

describe.each(databaseKinds())('HTTP hardening on %s database', (database) => {
  let hub: TestHub;
  let token: string;

  beforeAll(async () => {
    hub = await TestHub.start({
      database,
      embeddedTemplate: inject('embeddedTemplate'),
      env: { HUB_RATE_LIMIT_REQUESTS: String(RATE_LIMIT), HUB_RATE_LIMIT_WINDOW_S: '600', HUB_CORS_ORIGINS: ALLOWED_ORIGIN },
    });
    token = await hub.login();
  });

  afterAll(async () => {
    await hub?.destroy();
  });

  const send = (path: string, init: RequestInit = {}) => fetch(`${hub.url}${path}`, init);
  const asAdmin = (path: string, init: RequestInit = {}) =>
    send(path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });

  async function expectEnvelope(response: Response, status: number, code: string) {
    expect(response.status).toBe(status);
    const body = (await response.json()) as any;
    expect(body.error).toMatchObject({ code, requestId: response.headers.get('x-request-id') });
    expect(body.error.requestId).toBeTruthy();
    return body;
  }

  it('sends security headers, and Swagger UI still loads under its CSP', async () => {
    for (const response of [await asAdmin('/api/v1/jobs'), await send('/api/docs')]) {
      expect(response.status).toBe(200);
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
    // The CSP allows scripts from this origin only: the UI page must load every script as a file.
    const page = await (await send('/api/docs')).text();
    const scripts = [...page.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const [, attributes, inline] of scripts) {
      expect(attributes).toMatch(/src=/);
      expect(inline!.trim()).toBe('');
      const src = /src=["']([^"']+)["']/.exec(attributes!)![1]!;
      const script = await send(new URL(src, `${hub.url}/api/docs`).pathname);
      expect(script.status, src).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
    }
    expect(await (await send('/api/docs-json')).json()).toMatchObject({ info: { title: 'Outpost hub API' } });
  });

  it('answers CORS for the allowed origin only, and refuses other origins\' preflights', async () => {
    const preflight = (origin: string) =>
      send('/api/v1/runs', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    await expectEnvelope(await preflight('https://evil.example'), 403, 'FORBIDDEN');

    const read = await asAdmin('/api/v1/jobs', { headers: { origin: ALLOWED_ORIGIN } });
    expect(read.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(read.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const foreign = await asAdmin('/api/v1/jobs', { headers: { origin: 'https://evil.example' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses oversized and non-JSON bodies with the error envelope', async () => {
    const huge = JSON.stringify({ name: 'x'.repeat(3 * 1024 * 1024) });
    const tooLarge = await asAdmin('/api/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge });
    await expectEnvelope(tooLarge, 413, 'PAYLOAD_TOO_LARGE');
    const text = await asAdmin('/api/v1/jobs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'name=x' });
    await expectEnvelope(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const form = await send('/api/v1/auth/login', { method: 'POST', body: new URLSearchParams({ username: 'admin', password: 'x' }) });
    await expectEnvelope(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const malformed = await asAdmin('/api/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    await expectEnvelope(malformed, 400, 'VALIDATION_ERROR');
  });

  it('limits each caller with X-RateLimit headers, then 429 RATE_LIMITED with Retry-After; probes stay exempt', async () => {
    // The address bucket (no token): calls that pass the guard count, wherever they end.
    const anonymous = () => send('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const first = await anonymous();
    expect(first.status).toBe(400);
    expect(Number(first.headers.get('x-ratelimit-limit'))).toBe(RATE_LIMIT);
    let remaining = Number(first.headers.get('x-ratelimit-remaining'));
    const reset = Number(first.headers.get('x-ratelimit-reset'));
    expect(reset).toBeGreaterThan(0);
    expect(reset).toBeLessThanOrEqual(600);
    while (remaining > 0) {
      const next = await anonymous();
      expect(next.status).toBe(400);
      expect(Number(next.headers.get('x-ratelimit-remaining'))).toBe(remaining - 1);
      remaining -= 1;
    }
    const limited = await anonymous();
    const body = await expectEnvelope(limited, 429, 'RATE_LIMITED');
    expect(body.error.details).toMatchObject({ limit: RATE_LIMIT, windowSeconds: 600 });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');

    // The signed-in user has an allowance of their own, not the address's.
    let user = await asAdmin('/api/v1/jobs');
    expect(user.status).toBe(200);
    for (let left = Number(user.headers.get('x-ratelimit-remaining')); left > 0; left -= 1) {
      user = await asAdmin('/api/v1/jobs');
      expect(user.status).toBe(200);
    }
    await expectEnvelope(await asAdmin('/api/v1/jobs'), 429, 'RATE_LIMITED');

    // Health probes and the fleet's install path are exempt.
    for (const path of ['/health/live', '/health/ready', '/install.sh']) {
      const probe = await send(path);
      expect(probe.status, path).toBe(200);
      expect(probe.headers.get('x-ratelimit-limit'), path).toBeNull();
    }
    const enroll = await send('/api/v1/agents/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(enroll.status).toBe(400);
  });
});

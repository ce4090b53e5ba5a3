import type { NextFunction, Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors/app-error';
import { loadHubConfig } from '../config/hub-config';
import { corsAllowList } from './cors-allow-list';

function run(origins: string[], method: string, headers: Record<string, string>) {
  const set: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string) => void (set[name.toLowerCase()] = value),
    getHeader: (name: string) => set[name.toLowerCase()],
    end: () => undefined,
    statusCode: 200,
  } as unknown as Response;
  let passed: unknown = 'not called';
  const next: NextFunction = (error?: unknown) => void (passed = error);
  corsAllowList(origins)({ method, headers } as Request, res, next);
  return { headers: set, passed };
}

describe('CORS allow-list', () => {
  it('is closed by default: no CORS headers, preflights refused', () => {
    expect(loadHubConfig({}).corsOrigins).toEqual([]);
    const simple = run([], 'GET', { origin: 'https://ops.example.com' });
    expect(simple.passed).toBeUndefined();
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = run([], 'OPTIONS', { origin: 'https://ops.example.com', 'access-control-request-method': 'POST' });
    expect(preflight.passed).toBeInstanceOf(AppError);
    expect((preflight.passed as AppError).code).toBe('FORBIDDEN');
  });

  it('answers a listed origin only, normalised from the configured URL', () => {
    const origins = loadHubConfig({ HUB_CORS_ORIGINS: 'https://ops.example.com/, http://localhost:5173' }).corsOrigins;
    expect(origins).toEqual(['https://ops.example.com', 'http://localhost:5173']);
    expect(run(origins, 'GET', { origin: 'https://ops.example.com' }).headers['access-control-allow-origin']).toBe('https://ops.example.com');
    expect(run(origins, 'GET', { origin: 'https://ops.example.com.evil.test' }).headers['access-control-allow-origin']).toBeUndefined();
    expect(() => loadHubConfig({ HUB_CORS_ORIGINS: 'ops.example.com' })).toThrow(/HUB_CORS_ORIGINS/);
  });
});

import { describe, expect, it } from 'vitest';
import { isDashboardRoute } from './serve-dashboard';

describe('isDashboardRoute', () => {
  it("answers the app's page paths", () => {
    for (const page of ['/', '/login', '/agents/3f1c', '/runs/new', '/jobs/abc', '/apiary']) expect(isDashboardRoute(page), page).toBe(true);
  });

  it("never shadows the hub's own paths or files", () => {
    for (const hubPath of ['/api', '/api/v1/agents', '/api/docs', '/health/ready', '/downloads/agent/linux-x64', '/install.sh', '/install.ps1', '/socket.io/', '/metrics', '/favicon.ico', '/assets/x.js']) {
      expect(isDashboardRoute(hubPath), hubPath).toBe(false);
    }
  });
});

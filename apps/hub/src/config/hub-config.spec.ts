import { describe, expect, it } from 'vitest';
import { loadHubConfig } from './hub-config';

describe('hub configuration of the HTTP edge', () => {
  it('reads HUB_TRUST_PROXY as off, a hop count or a list, and refuses nonsense', () => {
    expect(loadHubConfig({}).trustProxy).toBe(false);
    expect(loadHubConfig({ HUB_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadHubConfig({ HUB_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(() => loadHubConfig({ HUB_TRUST_PROXY: 'my-proxy' })).toThrow(/HUB_TRUST_PROXY/);
  });

  it('defaults the rate limit and audit retention to values meant for real use', () => {
    const config = loadHubConfig({});
    expect(config.rateLimit).toEqual({ requests: 1200, windowSeconds: 60 });
    expect(config.auditRetentionDays).toBe(365);
    expect(() => loadHubConfig({ HUB_RATE_LIMIT_REQUESTS: '0' })).toThrow(/HUB_RATE_LIMIT_REQUESTS/);
  });
});

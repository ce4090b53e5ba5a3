import { afterEach, describe, expect, it, vi } from 'vitest';
import { proxyFor, redactProxy } from './proxy';

const VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];

function environment(values: Record<string, string>): void {
  for (const name of VARIABLES) vi.stubEnv(name, values[name] ?? '');
  for (const name of Object.keys(process.env).filter((n) => n.startsWith('npm_config_'))) vi.stubEnv(name, '');
}

describe('proxy selection', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('goes direct when no proxy is set', () => {
    environment({});
    expect(proxyFor('https://hub.example.com')).toBeUndefined();
  });

  it('uses HTTPS_PROXY for an https hub and HTTP_PROXY for an http one, in either case', () => {
    environment({ HTTPS_PROXY: 'http://secure-proxy:3128', http_proxy: 'http://plain-proxy:3128' });
    expect(proxyFor('https://hub.example.com')).toBe('http://secure-proxy:3128');
    expect(proxyFor('http://hub.example.com:8080')).toBe('http://plain-proxy:3128');
    environment({ https_proxy: 'http://lower:3128' });
    expect(proxyFor('https://hub.example.com')).toBe('http://lower:3128');
  });

  it('falls back to ALL_PROXY and adds a missing scheme', () => {
    environment({ ALL_PROXY: 'proxy.corp:3128' });
    expect(proxyFor('https://hub.example.com')).toBe('https://proxy.corp:3128');
  });

  it.each([
    ['hub.example.com', 'https://hub.example.com', undefined],
    ['.example.com', 'https://hub.example.com', undefined],
    ['*.example.com', 'https://hub.example.com', undefined],
    ['example.com', 'https://hub.example.com', 'http://proxy:3128'],
    ['other.org, hub.example.com', 'https://hub.example.com', undefined],
    ['hub.example.com:8443', 'https://hub.example.com:8443', undefined],
    ['hub.example.com:8443', 'https://hub.example.com', 'http://proxy:3128'],
    ['127.0.0.1', 'https://127.0.0.1:9000', undefined],
    ['*', 'https://anything.example', undefined],
  ])('NO_PROXY=%s with %s → %s', (noProxy, url, expected) => {
    environment({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: noProxy });
    expect(proxyFor(url)).toBe(expected);
  });

  it('honours lowercase no_proxy too', () => {
    environment({ HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'hub.example.com' });
    expect(proxyFor('https://hub.example.com')).toBeUndefined();
  });

  it('never logs the proxy password', () => {
    expect(redactProxy('http://user:secret@proxy.corp:3128')).toBe('http://proxy.corp:3128');
    expect(redactProxy('not a url')).toBe('(unparseable proxy URL)');
  });
});

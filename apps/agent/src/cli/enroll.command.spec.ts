import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enroll, normalizeHubUrl } from './enroll.command';
import { status } from './status.command';

const facts = { hostname: 'web-1', os: 'linux', arch: 'x64' };
const identity = {
  agentId: '00000000-0000-4000-8000-000000000001',
  credential: 'the-credential-0123456789abcdef',
  name: 'web-1',
};

/** A stand-in hub answering every request with `handler`, recording what it was sent. */
async function fakeHub(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const requests: Array<{ method?: string; url?: string; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (data: Buffer) => (body += data.toString()));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function json(res: ServerResponse, statusCode: number, body: unknown): void {
  res.writeHead(statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

describe('enroll and status', () => {
  let dir: string;
  let printed: string[];
  const print = (line: string) => void printed.push(line);
  const context = () => ({ agentVersion: '1.2.3', facts, print });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-cli-'));
    printed = [];
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('enrolls, writes the config 0600 and never prints the credential', async () => {
    const hub = await fakeHub((_req, _body, res) => json(res, 201, identity));
    const configPath = join(dir, 'outpost', 'agent.json');
    try {
      await enroll({ hub: `${hub.url}/`, token: 'tok', config: configPath, name: 'web-1' }, context());
    } finally {
      await hub.close();
    }
    expect(hub.requests).toHaveLength(1);
    expect(hub.requests[0]).toMatchObject({ method: 'POST', url: '/api/v1/agents/enroll' });
    expect(JSON.parse(hub.requests[0].body)).toEqual({
      token: 'tok',
      name: 'web-1',
      hostname: 'web-1',
      os: 'linux',
      arch: 'x64',
      agentVersion: '1.2.3',
    });
    expect(JSON.parse(readFileSync(configPath, 'utf8'))).toEqual({ hubUrl: hub.url, ...identity });
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    expect(printed.join('\n')).toContain(identity.agentId);
    expect(printed.join('\n')).not.toContain(identity.credential);
  });

  it("reports the hub's error code and message", async () => {
    const hub = await fakeHub((_req, _body, res) =>
      json(res, 401, { error: { code: 'UNAUTHORIZED', message: 'enrollment token expired', requestId: 'r1' } }),
    );
    try {
      await expect(enroll({ hub: hub.url, token: 'old', config: join(dir, 'a.json') }, context())).rejects.toThrow(
        /^enroll failed: UNAUTHORIZED: enrollment token expired$/,
      );
    } finally {
      await hub.close();
    }
    expect(JSON.parse(hub.requests[0].body)).not.toHaveProperty('name');
  });

  it('says when the hub cannot be reached, and refuses a bad URL before trying', async () => {
    const hub = await fakeHub(() => undefined);
    await hub.close();
    await expect(enroll({ hub: hub.url, token: 't', config: join(dir, 'a.json') }, context())).rejects.toThrow(
      /^enroll failed: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
    expect(() => normalizeHubUrl('ftp://hub')).toThrow('invalid --hub URL');
    expect(() => normalizeHubUrl('hub:8080')).toThrow('invalid --hub URL');
    expect(normalizeHubUrl('https://hub.example.com//')).toBe('https://hub.example.com');
  });

  it('status shows the identity and a reachable hub, exit 0', async () => {
    const hub = await fakeHub((req, _body, res) =>
      req.url === '/health/live' ? json(res, 200, { status: 'ok' }) : json(res, 201, identity),
    );
    const configPath = join(dir, 'agent.json');
    try {
      await enroll({ hub: hub.url, token: 't', config: configPath }, context());
      printed = [];
      expect(await status({ config: configPath }, print)).toBe(0);
    } finally {
      await hub.close();
    }
    expect(printed.slice(0, 4)).toEqual([
      `agent id: ${identity.agentId}`,
      `name: ${identity.name}`,
      `hub url: ${hub.url}`,
      `config: ${configPath}`,
    ]);
    expect(printed[4]).toMatch(/^hub: reachable \(HTTP 200, \d+ ms\)$/);
    expect(printed.join('\n')).not.toContain(identity.credential);
  });

  it('status reports an unreachable hub, exit 1', async () => {
    const hub = await fakeHub((_req, _body, res) => json(res, 201, identity));
    const configPath = join(dir, 'agent.json');
    await enroll({ hub: hub.url, token: 't', config: configPath }, context());
    await hub.close();
    printed = [];
    expect(await status({ config: configPath }, print)).toBe(1);
    expect(printed[4]).toMatch(/^hub: unreachable \(.*ECONNREFUSED.*\)$/);
  });
  it('refuses to enroll a host that already holds an identity, unless asked to replace it', async () => {
    const hub = await fakeHub((_req, _body, res) => json(res, 201, identity));
    const configPath = join(dir, 'agent.json');
    try {
      await enroll({ hub: hub.url, token: 't1', config: configPath }, context());
      await expect(enroll({ hub: hub.url, token: 't2', config: configPath }, context())).rejects.toThrow(
        `already enrolled as web-1 (${identity.agentId}); use --replace to re-enroll this host`,
      );
      expect(hub.requests).toHaveLength(1);

      await enroll({ hub: `${hub.url}/`, token: 't3', config: configPath, replace: true }, context());
    } finally {
      await hub.close();
    }
    // The old identity proves who we were, so the hub keeps the same agent record.
    expect(JSON.parse(hub.requests[1]!.body)).toMatchObject({
      token: 't3',
      replace: true,
      previous: { agentId: identity.agentId, credential: identity.credential },
    });
    expect(printed.at(-1)).toBe(`re-enrolled as web-1 (${identity.agentId}); config written to ${configPath}`);
    expect(printed.join('\n')).not.toContain(identity.credential);
  });

  it('never hands the old credential to a different hub', async () => {
    const first = await fakeHub((_req, _body, res) => json(res, 201, identity));
    const second = await fakeHub((_req, _body, res) => json(res, 201, { ...identity, agentId: '00000000-0000-4000-8000-000000000002' }));
    const configPath = join(dir, 'agent.json');
    try {
      await enroll({ hub: first.url, token: 't', config: configPath }, context());
      await enroll({ hub: second.url, token: 't', config: configPath, replace: true }, context());
    } finally {
      await first.close();
      await second.close();
    }
    const body = JSON.parse(second.requests[0]!.body);
    expect(body).toMatchObject({ replace: true });
    expect(body).not.toHaveProperty('previous');
  });

  it('does not overwrite an unreadable config file without --replace', async () => {
    const configPath = join(dir, 'agent.json');
    writeFileSync(configPath, '{broken');
    await expect(enroll({ hub: 'http://127.0.0.1:9', token: 't', config: configPath }, context())).rejects.toThrow(
      /is not valid JSON.*use --replace to enroll anyway/,
    );
  });

  it('stores the CA file (absolute) and the pin (normalised) for every later connection', async () => {
    const hub = await fakeHub((_req, _body, res) => json(res, 201, identity));
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const configPath = join(dir, 'agent.json');
    const pin = 'AB:'.repeat(31) + 'AB';
    try {
      await enroll({ hub: hub.url, token: 't', config: configPath, caFile, pin: `sha256:${pin}` }, context());
    } finally {
      await hub.close();
    }
    expect(JSON.parse(readFileSync(configPath, 'utf8'))).toMatchObject({ caFile, pin: `sha256:${'ab'.repeat(32)}` });
  });

  it('refuses a malformed pin or a missing CA file before contacting the hub', async () => {
    const hub = await fakeHub((_req, _body, res) => json(res, 201, identity));
    try {
      await expect(enroll({ hub: hub.url, token: 't', config: join(dir, 'a.json'), pin: 'sha256:xyz' }, context())).rejects.toThrow(
        'invalid --pin',
      );
      await expect(
        enroll({ hub: hub.url, token: 't', config: join(dir, 'a.json'), caFile: join(dir, 'missing.pem') }, context()),
      ).rejects.toThrow('cannot read CA file');
    } finally {
      await hub.close();
    }
    expect(hub.requests).toEqual([]);
  });
});

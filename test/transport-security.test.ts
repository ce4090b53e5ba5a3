import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROTOCOL_VERSION } from '@outpost/protocol';
import { Child } from './support/child-process';
import { AGENT_BINARY, hasBinary } from './support/agent-binaries';
import { startConnectProxy, type ConnectProxy } from './support/connect-proxy';
import { enrollAgent, type EnrolledAgent, type EnrollOptions, startAgent } from './support/test-agent';
import { TestHub } from './support/test-hub';
import { waitFor } from './support/wait';

/** `.test` never resolves (RFC 2606): only the test's proxy knows where this name is. */
const HUB_NAME = 'hub.outpost.test';

interface Certificate {
  certFile: string;
  keyFile: string;
  /** `sha256:<hex>`, as `enroll --pin` stores it. */
  pin: string;
}

/** A self-signed certificate made the way an operator would, with the names the hub is reached by. */
function selfSignedCertificate(dir: string, name: string): Certificate {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', `subjectAltName=DNS:localhost,DNS:${HUB_NAME},IP:127.0.0.1`,
  ], { stdio: 'pipe' });
  const fingerprint = new X509Certificate(readFileSync(certFile)).fingerprint256;
  return { certFile, keyFile, pin: `sha256:${fingerprint.replace(/:/g, '').toLowerCase()}` };
}

/**
 * The agent's route settings: every variable proxy-from-env reads is blanked first, so a proxy
 * configured on the machine running the tests cannot decide where the agent's connections go;
 * then the test's own, under the names operators use.
 */
function routeEnv(route: { proxy?: string; noProxy?: string } = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['https_proxy', 'proxy', 'no_proxy']) {
    env[`npm_config_${name}`] = '';
    env[`NPM_CONFIG_${name.toUpperCase()}`] = '';
  }
  for (const name of ['https_proxy', 'all_proxy', 'no_proxy']) {
    env[name] = '';
    env[name.toUpperCase()] = '';
  }
  if (route.proxy !== undefined) env.HTTPS_PROXY = route.proxy;
  if (route.noProxy !== undefined) env.NO_PROXY = route.noProxy;
  return env;
}

/** The agent's JSON log lines (pino: `msg`, `time` in ms, and the fields of the call). */
function logLines(child: Child): Array<Record<string, any>> {
  return child.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);
}

describe('transport security: TLS, proxy and protocol version', () => {
  let dir: string;
  let hubCert: Certificate;
  /** Another hub's certificate: its pin is the wrong one for ours. */
  let otherCert: Certificate;
  let hub: TestHub;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'outpost-tls-'));
    hubCert = selfSignedCertificate(dir, 'hub');
    otherCert = selfSignedCertificate(dir, 'other');
    hub = await TestHub.start({
      database: 'embedded',
      embeddedTemplate: inject('embeddedTemplate'),
      tls: { certFile: hubCert.certFile, keyFile: hubCert.keyFile },
    });
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await hub?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function enroll(options: EnrollOptions): Promise<EnrolledAgent> {
    const agent = await enrollAgent(hub, { ...options, env: { ...routeEnv(), ...options.env } });
    cleanups.push(() => rmSync(agent.dataDir, { recursive: true, force: true }));
    return agent;
  }

  function start(agent: EnrolledAgent, env: NodeJS.ProcessEnv = routeEnv()): Child {
    const child = startAgent(agent, [], env);
    cleanups.push(() => child.stop());
    return child;
  }

  async function proxy(hosts: Record<string, string>): Promise<ConnectProxy> {
    const started = await startConnectProxy(hosts);
    cleanups.push(() => started.close());
    return started;
  }

  /** Runs `echo <word>` on the agent and expects it to succeed with exactly that output. */
  async function expectEcho(agentId: string, word: string): Promise<void> {
    const run = await hub.api('POST', '/api/v1/runs', { command: `echo ${word}`, target: { agentIds: [agentId] } });
    expect(run.status, run.text).toBe(201);
    const id = run.body.executions[0].id as string;
    const execution = await hub.waitForExecution(id, ['succeeded', 'failed', 'timed_out']);
    expect(execution).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect((await hub.api('GET', `/api/v1/executions/${id}/output?stream=stdout`)).text).toBe(`${word}\n`);
  }

  it('TLS: an agent enrolled with --ca-file connects over WSS and runs echo tls', async () => {
    const agent = await enroll({ name: 'ca-file', args: ['--ca-file', hubCert.certFile] });
    expect(JSON.parse(readFileSync(agent.configPath, 'utf8'))).toMatchObject({ hubUrl: hub.url, caFile: hubCert.certFile });
    start(agent);
    await hub.waitForAgentStatus(agent.agentId, 'online');
    await expectEcho(agent.agentId, 'tls');
  });

  it('TLS: an agent enrolled with --pin connects to the self-signed hub without any CA', async () => {
    const agent = await enroll({ name: 'pinned', args: ['--pin', hubCert.pin] });
    const config = JSON.parse(readFileSync(agent.configPath, 'utf8'));
    expect(config.pin).toBe(hubCert.pin);
    expect(config.caFile).toBeUndefined();
    start(agent);
    await hub.waitForAgentStatus(agent.agentId, 'online');
    await expectEcho(agent.agentId, 'pinned');
  });

  it('TLS: an agent without --ca-file or --pin is refused at enroll and on the socket, naming the fix', async () => {
    await expect(enroll({ name: 'untrusting' })).rejects.toThrow(
      /enroll failed: cannot reach https:\/\/127\.0\.0\.1:\d+: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\): the hub's certificate is not trusted; give --ca-file or --pin/,
    );
    const agents = await hub.api('GET', '/api/v1/agents?limit=100');
    expect(agents.body.items.map((a: any) => a.name)).not.toContain('untrusting');
    // The socket is refused the same way: an agent whose config lost its CA file.
    const agent = await enroll({ name: 'lost-ca', args: ['--ca-file', hubCert.certFile] });
    const config = JSON.parse(readFileSync(agent.configPath, 'utf8'));
    delete config.caFile;
    writeFileSync(agent.configPath, JSON.stringify(config), { mode: 0o600 });
    const child = start(agent);
    const refused = await waitFor(
      () => logLines(child).find((line) => line.msg === 'cannot reach hub; retrying' && line.cause !== undefined),
      { what: 'the agent to log why it cannot reach the hub' },
    );
    expect(refused.cause).toContain("the hub's certificate is not trusted; give --ca-file or --pin");
    expect((await hub.api('GET', `/api/v1/agents/${agent.agentId}`)).body).toMatchObject({ status: 'offline', lastSeenAt: null });
  });

  it.skipIf(!hasBinary(AGENT_BINARY.linuxX64))(
    "TLS: the single binary without --ca-file or --pin trusts the host's certificate store, and only it",
    async () => {
      // OpenSSL's default file and directory, as `update-ca-certificates` fills them, moved here.
      const emptyDir = mkdtempSync(path.join(dir, 'certs-'));
      const store = (certFile: string): NodeJS.ProcessEnv => ({ ...routeEnv(), SSL_CERT_FILE: certFile, SSL_CERT_DIR: emptyDir });
      const binary = [AGENT_BINARY.linuxX64];
      await expect(enroll({ name: 'other-store', command: binary, env: store(otherCert.certFile) })).rejects.toThrow(
        /self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\): the hub's certificate is not trusted/,
      );
      const agent = await enroll({ name: 'host-store', command: binary, env: store(hubCert.certFile) });
      expect(JSON.parse(readFileSync(agent.configPath, 'utf8'))).not.toHaveProperty('caFile');
      const status = new Child(AGENT_BINARY.linuxX64, ['status', '--config', agent.configPath], { ...process.env, ...store(hubCert.certFile) });
      cleanups.push(() => status.stop());
      await status.waitExit(30_000);
      expect(status.output).toContain("trusts: the host's certificate store");
      expect(status.output).toMatch(/hub: reachable \(HTTP 200/);
      start(agent, store(hubCert.certFile));
      await hub.waitForAgentStatus(agent.agentId, 'online');
      await expectEcho(agent.agentId, 'store');
    },
  );

  it('TLS: an agent with a wrong pin is refused and never comes online', async () => {
    const mismatch = `does not match the pinned ${otherCert.pin}`;
    await expect(enroll({ name: 'wrong-pin', args: ['--pin', otherCert.pin] })).rejects.toThrow(
      `enroll failed: cannot reach ${hub.url}: the hub's certificate (${hubCert.pin}) ${mismatch}`,
    );
    // As if the hub's certificate had been replaced after this agent was enrolled.
    const agent = await enroll({ name: 'stale-pin', args: ['--pin', hubCert.pin] });
    const config = JSON.parse(readFileSync(agent.configPath, 'utf8'));
    writeFileSync(agent.configPath, JSON.stringify({ ...config, pin: otherCert.pin }), { mode: 0o600 });
    const child = start(agent);
    const refused = await waitFor(
      () => logLines(child).find((line) => line.msg === 'cannot reach hub; retrying' && String(line.cause).includes(mismatch)),
      { what: 'the agent to log the pin mismatch' },
    );
    expect(refused.cause).toContain(`the hub's certificate (${hubCert.pin})`);
    const record = await hub.api('GET', `/api/v1/agents/${agent.agentId}`);
    expect(record.body).toMatchObject({ status: 'offline', lastSeenAt: null });
    expect(child.running).toBe(true);
  });

  it('proxy: an agent whose only way out is a CONNECT proxy (HTTPS_PROXY) enrolls and connects through it', async () => {
    const connectProxy = await proxy({ [HUB_NAME]: '127.0.0.1' });
    const target = `${HUB_NAME}:${hub.port}`;
    const env = routeEnv({ proxy: connectProxy.url });
    const agent = await enroll({ name: 'proxied', hubUrl: `https://${target}`, args: ['--ca-file', hubCert.certFile], env });
    expect(connectProxy.tunnels).toEqual([target]);
    const child = start(agent, env);
    await hub.waitForAgentStatus(agent.agentId, 'online');
    expect(connectProxy.tunnels).toEqual([target, target]);
    expect(connectProxy.refused).toEqual([]);
    expect(logLines(child).find((line) => line.msg === 'agent starting')).toMatchObject({ proxy: connectProxy.url });
    await expectEcho(agent.agentId, 'proxied');
  });

  it('NO_PROXY: an agent whose hub is in NO_PROXY connects directly; the proxy sees no CONNECT', async () => {
    // Willing to tunnel to the hub, so a connection that wrongly took it would work and be recorded.
    const connectProxy = await proxy({ '127.0.0.1': '127.0.0.1' });
    const env = routeEnv({ proxy: connectProxy.url, noProxy: 'localhost,127.0.0.1' });
    const agent = await enroll({ name: 'bypass', args: ['--ca-file', hubCert.certFile], env });
    const child = start(agent, env);
    await hub.waitForAgentStatus(agent.agentId, 'online');
    expect(connectProxy.tunnels).toEqual([]);
    expect(connectProxy.refused).toEqual([]);
    expect(logLines(child).find((line) => line.msg === 'agent starting')).not.toHaveProperty('proxy');
  });

  it('protocol: an incompatible agent is refused with PROTOCOL_MISMATCH naming both versions, logs it and backs off', async () => {
    // Every handshake attempt is a new WebSocket, so a new tunnel: the proxy counts what reached
    // the hub, whatever the agent says about itself.
    const counter = await proxy({ [HUB_NAME]: '127.0.0.1' });
    const env = routeEnv({ proxy: counter.url });
    const agent = await enroll({ name: 'future', hubUrl: `https://${HUB_NAME}:${hub.port}`, args: ['--ca-file', hubCert.certFile], env });
    const enrollTunnels = counter.tunnels.length;
    const child = start(agent, { ...env, OUTPOST_AGENT_PROTOCOL_VERSION: '2.0.0' });
    const refusals = (atLeast: number) => {
      const lines = logLines(child).filter((line) => line.msg === 'handshake refused');
      return lines.length >= atLeast ? lines : null;
    };

    const [first] = await waitFor(() => refusals(1), { what: 'the first refusal' });
    const firstSeenAt = Date.now();
    expect(first).toMatchObject({ level: 50, code: 'PROTOCOL_MISMATCH' });
    expect(first!.hubMessage).toContain('2.0.0');
    expect(first!.hubMessage).toContain(PROTOCOL_VERSION);
    // The first retry waits 5 s ± 50 % (the agent's refusedBackoff), the next twice that.
    expect(first!.retryInMs).toBeGreaterThanOrEqual(2_500);

    const [, second] = await waitFor(() => refusals(2), { what: 'the retry after the backoff', timeoutMs: 15_000 });
    expect(second).toMatchObject({ code: 'PROTOCOL_MISMATCH' });
    expect(second!.retryInMs).toBeGreaterThanOrEqual(5_000);
    // Measured on our clock and at the proxy, not taken from the agent's word: in the seconds
    // between the two refusals the hub was reached no more than those two times.
    expect(Date.now() - firstSeenAt).toBeGreaterThanOrEqual(2_000);
    expect(counter.tunnels.length - enrollTunnels).toBe(2);
    expect((await hub.api('GET', `/api/v1/agents/${agent.agentId}`)).body).toMatchObject({ status: 'offline', lastSeenAt: null });
    // The hub says so too, once per attempt, naming the agent's version.
    const hubRefusals = hub.child.output.split('\n').filter((line) => line.includes('agent refused: PROTOCOL_MISMATCH'));
    expect(hubRefusals.length).toBeGreaterThanOrEqual(2);
    expect(hubRefusals[0]).toContain('"agentProtocol":"2.0.0"');
  });
});

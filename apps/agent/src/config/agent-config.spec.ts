import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfigPath, readAgentConfig, writeAgentConfig, type AgentConfig } from './agent-config';

const config: AgentConfig = {
  hubUrl: 'https://hub.example.com',
  agentId: '00000000-0000-4000-8000-000000000001',
  credential: 'c'.repeat(43),
  name: 'web-1',
};

describe('agent config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes 0600 in a 0700 directory it creates, and reads back the same', async () => {
    const path = join(dir, 'etc', 'outpost', 'agent.json');
    await writeAgentConfig(path, config);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'etc', 'outpost')).mode & 0o777).toBe(0o700);
    expect(await readAgentConfig(path)).toEqual(config);
  });

  it('replaces an existing file whole and leaves no temp file behind', async () => {
    const path = join(dir, 'agent.json');
    writeFileSync(path, 'old', { mode: 0o644 });
    await writeAgentConfig(path, { ...config, name: 'web-2' });
    expect(JSON.parse(readFileSync(path, 'utf8')).name).toBe('web-2');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['agent.json']);
  });

  it('names the file and the problem when it is missing or invalid', async () => {
    const path = join(dir, 'agent.json');
    await expect(readAgentConfig(path)).rejects.toThrow(`config file ${path} not found`);
    writeFileSync(path, '{not json');
    await expect(readAgentConfig(path)).rejects.toThrow(`config file ${path} is not valid JSON`);
    writeFileSync(path, JSON.stringify({ ...config, agentId: 'nope', hubUrl: 'ftp://x' }));
    await expect(readAgentConfig(path)).rejects.toThrow(/is invalid: .*hubUrl.*agentId|is invalid: .*agentId.*hubUrl/);
  });

  it('never puts the credential into an error message', async () => {
    const path = join(dir, 'agent.json');
    writeFileSync(path, JSON.stringify({ ...config, credential: 'short-secret' }));
    const error = await readAgentConfig(path).catch((e: Error) => e);
    expect(String(error)).toContain('credential');
    expect(String(error)).not.toContain('short-secret');
  });

  it('defaults to /etc/outpost on Linux and ProgramData on Windows', () => {
    expect(defaultConfigPath('linux')).toBe('/etc/outpost/agent.json');
    expect(defaultConfigPath('win32', 'D:\\ProgramData')).toBe('D:\\ProgramData\\Outpost\\agent.json');
  });
});

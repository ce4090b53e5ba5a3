import { describe, expect, it, vi } from 'vitest';

const osInfo = vi.fn();
vi.mock('systeminformation/lib/osinfo', () => ({ osInfo: () => osInfo() }));

describe('collectAgentFacts when the release files cannot be read', () => {
  it('reports the OS as unknown once, and reads it again for the next facts', async () => {
    const { collectAgentFacts } = await import('./host-facts');
    osInfo.mockRejectedValueOnce(new Error('EACCES')).mockResolvedValue({ platform: 'linux', distro: 'Debian', release: '12', kernel: '6.1' });
    expect((await collectAgentFacts('1.0.0')).distro).toBe('');
    expect((await collectAgentFacts('1.0.0')).distro).toBe('Debian');
    expect((await collectAgentFacts('1.0.0')).distro).toBe('Debian');
    expect(osInfo).toHaveBeenCalledTimes(2);
  });
});

import { healthSampleSchema } from '@outpost/protocol';
import { describe, expect, it } from 'vitest';
import {
  cpuPercentBetween,
  cpuTimesOf,
  diskUsageFrom,
  HealthSampler,
  hostHealthSources,
  memoryFrom,
  parseMounts,
  realMounts,
  type HealthSources,
} from './health-sampler';

const cpu = (user: number, sys: number, idle: number) => ({ times: { user, nice: 0, sys, idle, irq: 0 } });

describe('health sample mapping', () => {
  it('measures CPU as the busy share of all cores between two readings', () => {
    const before = cpuTimesOf([cpu(100, 50, 850), cpu(100, 50, 850)]);
    const after = cpuTimesOf([cpu(130, 60, 910), cpu(100, 50, 950)]);
    // busy 40 of 200 ticks
    expect(cpuPercentBetween(before, after)).toBe(20);
    expect(cpuPercentBetween(after, after)).toBe(0);
    expect(cpuPercentBetween(after, before)).toBe(0);
  });

  it('counts memory as used when programs cannot get it back (caches are free), and swap only when there is some', () => {
    expect(memoryFrom({ total: 8_000, available: 6_000, swaptotal: 0, swapused: 0 })).toEqual({
      memTotalBytes: 8_000,
      memUsedBytes: 2_000,
      memUsedPercent: 25,
      swapUsedPercent: null,
    });
    expect(memoryFrom({ total: 3, available: 2, swaptotal: 1_000, swapused: 333 })).toMatchObject({
      memUsedPercent: 33.3,
      swapUsedPercent: 33.3,
    });
  });

  it('computes disk use as df does, reserved blocks included', () => {
    // 1000 blocks of 4 KiB, 300 free of which 250 available to users: used 700, Use% 700/950
    expect(diskUsageFrom('/', { blocks: 1_000, bfree: 300, bavail: 250, bsize: 4_096 })).toEqual({
      mount: '/',
      sizeBytes: 4_096_000,
      usedBytes: 2_867_200,
      usedPercent: 73.7,
    });
    expect(diskUsageFrom('/empty', { blocks: 0, bfree: 0, bavail: 0, bsize: 4_096 })).toBeNull();
  });

  it('keeps real local disks, each device once, and leaves out pseudo, squashfs and network file systems', () => {
    const mounts = parseMounts(
      [
        'proc /proc proc rw 0 0',
        'sysfs /sys sysfs rw 0 0',
        'tmpfs /run tmpfs rw 0 0',
        '/dev/sda1 / ext4 rw 0 0',
        '/dev/sda2 /home\\040dir xfs rw 0 0',
        '/dev/sda1 /var/lib/docker/bind ext4 rw 0 0',
        '/dev/loop0 /snap/core/1 squashfs ro 0 0',
        'server:/export /mnt/nfs nfs4 rw 0 0',
        'overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0',
        'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0',
        '/dev/nvme0n1p1 /boot/efi vfat rw 0 0',
        '',
      ].join('\n'),
    );
    expect(realMounts(mounts).map((m) => m.mount)).toEqual(['/', '/home dir', '/boot/efi']);
    expect(realMounts(parseMounts('overlay / overlay rw 0 0\n')).map((m) => m.mount)).toEqual(['/']);
  });

  it('keeps the shortest mount point of a device that is mounted twice', () => {
    const mounts = parseMounts('/dev/sdb1 /srv/data/inner ext4 rw 0 0\n/dev/sdb1 /srv ext4 rw 0 0\n');
    expect(realMounts(mounts).map((m) => m.mount)).toEqual(['/srv']);
  });
});

describe('HealthSampler', () => {
  it('produces a sample the wire schema accepts, CPU measured since the previous one', async () => {
    let reading = [cpu(0, 0, 1_000)];
    const sources: HealthSources = {
      cpus: () => reading,
      loadavg: () => [0.5, 0.25, 0.125],
      uptime: () => 3_600.4,
      memory: async () => ({ total: 1_000, available: 400, swaptotal: 0, swapused: 0 }),
      disks: async () => [{ mount: '/', sizeBytes: 10, usedBytes: 5, usedPercent: 50 }],
      now: () => new Date('2026-11-23T10:00:00.000Z'),
    };
    const sampler = new HealthSampler(sources);
    reading = [cpu(50, 25, 1_075)];
    const sample = await sampler.sample();
    expect(healthSampleSchema.parse(sample)).toEqual({
      sampledAt: '2026-11-23T10:00:00.000Z',
      cpuPercent: 50,
      load1: 0.5,
      load5: 0.25,
      load15: 0.125,
      memUsedPercent: 60,
      memUsedBytes: 600,
      memTotalBytes: 1_000,
      swapUsedPercent: null,
      disks: [{ mount: '/', sizeBytes: 10, usedBytes: 5, usedPercent: 50 }],
      uptimeSeconds: 3_600,
    });
    expect((await sampler.sample()).cpuPercent).toBe(0);
  });

  it('still reports when the disks cannot be read', async () => {
    const sampler = new HealthSampler({ ...hostHealthSources(), disks: () => Promise.reject(new Error('EACCES')) });
    expect((await sampler.sample()).disks).toEqual([]);
  });

  it.skipIf(process.platform !== 'linux')('samples this host into a valid sample, with its root disk', async () => {
    const sample = healthSampleSchema.parse(await new HealthSampler().sample());
    expect(sample.memTotalBytes).toBeGreaterThan(0);
    expect(sample.disks.map((d) => d.mount)).toContain('/');
  });
});

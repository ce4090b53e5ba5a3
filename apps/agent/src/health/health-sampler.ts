import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import type { HealthSample } from '@outpost/protocol';
import { fsSize } from 'systeminformation/lib/filesystem';
import { mem } from 'systeminformation/lib/memory';

/**
 * Health sampling, chosen for cost: it runs every 15 s on every host of a fleet, inside an agent
 * that should stay idle. Nothing here starts a process or blocks the event loop:
 * - CPU % from two readings of `os.cpus()` (systeminformation's `currentLoad()` runs
 *   `cat /proc/stat` with execSync on Linux, ~500 ms on its first call);
 * - memory and swap from systeminformation's `mem()`, which reads /proc/meminfo on Linux;
 * - disks on Linux from /proc/self/mounts plus statfs(2) per mount (`fsSize()` runs `df`); other
 *   systems use `fsSize()`;
 * - load and uptime from `os`.
 */

export interface CpuTimes {
  idle: number;
  total: number;
}

export function cpuTimesOf(cpus: ReadonlyArray<Pick<os.CpuInfo, 'times'>>): CpuTimes {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

/** Busy share of all CPUs between two readings, 0–100, one decimal. */
export function cpuPercentBetween(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  if (total <= 0) return 0;
  const busy = total - (after.idle - before.idle);
  return roundPercent((busy / total) * 100);
}

function roundPercent(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.round(Math.min(100, Math.max(0, value)) * 10) / 10;
}

export interface MountEntry {
  source: string;
  mount: string;
  type: string;
}

/** /proc/mounts lines; octal escapes (`\040` for a space) decoded. */
export function parseMounts(text: string): MountEntry[] {
  const unescape = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length >= 3)
    .map(([source, mount, type]) => ({ source: unescape(source!), mount: unescape(mount!), type: type! }));
}

/** Kernel and memory file systems: no disk behind them. squashfs and iso9660 are always full by design. */
const PSEUDO_FILESYSTEMS: ReadonlySet<string> = new Set([
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'devtmpfs', 'efivarfs',
  'fusectl', 'fuse.lxcfs', 'fuse.gvfsd-fuse', 'fuse.portal', 'hugetlbfs', 'iso9660', 'mqueue', 'nfsd', 'nsfs',
  'proc', 'pstore', 'ramfs', 'rpc_pipefs', 'securityfs', 'selinuxfs', 'squashfs', 'sysfs', 'tmpfs', 'tracefs',
]);

/**
 * Network file systems are left out: statfs on a dead server blocks a libuv thread for minutes,
 * and their use belongs to the server that exports them (`df -l` leaves them out for the same reason).
 */
const REMOTE_FILESYSTEMS: ReadonlySet<string> = new Set([
  '9p', 'afs', 'ceph', 'cifs', 'davfs', 'fuse.s3fs', 'fuse.sshfs', 'glusterfs', 'ncpfs', 'nfs', 'nfs4', 'smb3', 'smbfs',
]);

/**
 * The mounts worth reporting: real, local file systems, each device once (bind mounts repeat it;
 * the shortest mount point is kept). An overlay counts only as a container's root.
 */
export function realMounts(entries: readonly MountEntry[]): MountEntry[] {
  const kept: MountEntry[] = [];
  for (const entry of entries) {
    if (PSEUDO_FILESYSTEMS.has(entry.type) || REMOTE_FILESYSTEMS.has(entry.type)) continue;
    if (entry.type === 'overlay' && entry.mount !== '/') continue;
    // Mounted over the same point: statfs sees the same (top) file system either way.
    if (kept.some((other) => other.mount === entry.mount)) continue;
    const sameDevice = entry.source.startsWith('/dev/') ? kept.findIndex((other) => other.source === entry.source) : -1;
    if (sameDevice >= 0) {
      if (entry.mount.length < kept[sameDevice]!.mount.length) kept[sameDevice] = entry;
      continue;
    }
    kept.push(entry);
  }
  return kept.slice(0, 64);
}

export type DiskUsage = HealthSample['disks'][number];

/**
 * `df`'s arithmetic: used = total − free; Use% = used / (used + available to users), so the
 * blocks reserved for root count as they do in `df`.
 */
export function diskUsageFrom(mount: string, stats: { blocks: number; bfree: number; bavail: number; bsize: number }): DiskUsage | null {
  const sizeBytes = stats.blocks * stats.bsize;
  if (sizeBytes <= 0) return null;
  const usedBytes = Math.max(0, (stats.blocks - stats.bfree) * stats.bsize);
  const usable = usedBytes + stats.bavail * stats.bsize;
  return { mount: mount.slice(0, 512), sizeBytes, usedBytes, usedPercent: usable > 0 ? roundPercent((usedBytes / usable) * 100) : 0 };
}

export interface MemoryReading {
  total: number;
  /** What programs can still get without swapping (MemAvailable): caches do not count as used. */
  available: number;
  swaptotal: number;
  swapused: number;
}

export function memoryFrom(reading: MemoryReading): Pick<HealthSample, 'memUsedPercent' | 'memUsedBytes' | 'memTotalBytes' | 'swapUsedPercent'> {
  const memUsedBytes = Math.max(0, reading.total - reading.available);
  return {
    memTotalBytes: reading.total,
    memUsedBytes,
    memUsedPercent: reading.total > 0 ? roundPercent((memUsedBytes / reading.total) * 100) : 0,
    swapUsedPercent: reading.swaptotal > 0 ? roundPercent((reading.swapused / reading.swaptotal) * 100) : null,
  };
}

/** Where the sampler gets its readings; the defaults read this host. */
export interface HealthSources {
  cpus(): ReadonlyArray<Pick<os.CpuInfo, 'times'>>;
  loadavg(): number[];
  uptime(): number;
  memory(): Promise<MemoryReading>;
  disks(): Promise<DiskUsage[]>;
  now(): Date;
}

/** statfs on a mount that does not answer in this time is skipped, then and from then on. */
const STATFS_TIMEOUT_MS = 2_000;

/** Linux: /proc/self/mounts and statfs(2), no child process. */
export function linuxDisks(): () => Promise<DiskUsage[]> {
  const stuck = new Set<string>();
  return async () => {
    const mounts = realMounts(parseMounts(await readFile('/proc/self/mounts', 'utf8'))).filter((m) => !stuck.has(m.mount));
    const usages = await Promise.all(
      mounts.map(async ({ mount }) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<null>((resolve) => {
          timer = setTimeout(() => {
            stuck.add(mount);
            resolve(null);
          }, STATFS_TIMEOUT_MS);
        });
        const stats = statfs(mount).then(
          (s) => diskUsageFrom(mount, s),
          () => null,
        );
        return Promise.race([stats, timeout]).finally(() => clearTimeout(timer));
      }),
    );
    return usages.filter((usage): usage is DiskUsage => usage !== null);
  };
}

/** Other systems: systeminformation (`df` on macOS, PowerShell on Windows). */
async function siDisks(): Promise<DiskUsage[]> {
  const sizes = await fsSize();
  return sizes
    .filter((disk) => disk.size > 0)
    .slice(0, 64)
    .map((disk) => ({
      mount: (disk.mount || disk.fs).slice(0, 512),
      sizeBytes: disk.size,
      usedBytes: disk.used,
      usedPercent: roundPercent(disk.use),
    }));
}

export function hostHealthSources(platform: NodeJS.Platform = process.platform): HealthSources {
  return {
    cpus: () => os.cpus(),
    loadavg: () => os.loadavg(),
    uptime: () => os.uptime(),
    memory: () => mem(),
    disks: platform === 'linux' ? linuxDisks() : siDisks,
    now: () => new Date(),
  };
}

/** Takes samples; CPU % is measured since the previous sample (or since the sampler was made). */
export class HealthSampler {
  private lastCpu: CpuTimes;

  constructor(private readonly sources: HealthSources = hostHealthSources()) {
    this.lastCpu = cpuTimesOf(sources.cpus());
  }

  async sample(): Promise<HealthSample> {
    const [memory, disks] = await Promise.all([
      this.sources.memory(),
      this.sources.disks().catch(() => [] as DiskUsage[]),
    ]);
    const cpu = cpuTimesOf(this.sources.cpus());
    const cpuPercent = cpuPercentBetween(this.lastCpu, cpu);
    this.lastCpu = cpu;
    const [load1 = 0, load5 = 0, load15 = 0] = this.sources.loadavg();
    return {
      sampledAt: this.sources.now().toISOString(),
      cpuPercent,
      load1: Math.max(0, load1),
      load5: Math.max(0, load5),
      load15: Math.max(0, load15),
      ...memoryFrom(memory),
      disks,
      uptimeSeconds: Math.max(0, Math.round(this.sources.uptime())),
    };
  }
}

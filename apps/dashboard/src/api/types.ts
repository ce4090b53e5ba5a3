/** The hub's API shapes the dashboard reads (README "Managing the fleet", "Jobs and runs"). */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface HealthSummary {
  cpuPercent: number;
  memUsedPercent: number;
  diskUsedPercent: number | null;
  load1: number;
  uptimeSeconds: number;
  sampledAt: string;
}

export interface Agent {
  id: string;
  name: string;
  hostname: string;
  os: string;
  arch: string;
  version: string;
  status: 'online' | 'offline';
  labels: Record<string, string>;
  lastSeenAt: string | null;
  enrolledAt: string;
  health: HealthSummary | null;
}

export interface AgentDetail extends Agent {
  facts: {
    hostname: string;
    os: string;
    platform: string;
    distro: string;
    release: string;
    kernel: string;
    arch: string;
    cpuModel: string;
    cpuCores: number;
    memTotalBytes: number;
    ipAddresses: string[];
    agentVersion: string;
  } | null;
  capabilities: string[];
}

export interface HealthPoint {
  sampledAt: string;
  cpuPercent: number;
  memUsedPercent: number;
  diskUsedPercent: number | null;
}

export interface Execution {
  id: string;
  runId: string;
  agentId: string;
  attempt: number;
  status: string;
  reason: string | null;
  exitCode: number | null;
  signal: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  outputTruncated: boolean;
}

export type Target = { agentIds: string[] } | { labels: string } | { all: true };

export interface Run {
  id: string;
  status: string;
  trigger: string;
  jobId: string | null;
  rerunOf: string | null;
  command?: string;
  argv?: string[];
  script?: string;
  target: Target;
  createdAt: string;
  finishedAt: string | null;
  executions?: Execution[];
}

export interface Schedule {
  cron?: string;
  timezone?: string;
  every?: string;
  at?: string;
}

export interface Job {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  paused?: boolean;
  command?: string;
  target: Target;
  timeoutSeconds: number | null;
  schedule?: Schedule | null;
  createdAt: string;
  updatedAt: string;
}

export interface EnrollmentToken {
  id: string;
  token: string;
  expiresAt: string | null;
  maxUses: number | null;
  labels: Record<string, string>;
  installCommands: { linux: string; windows: string };
}

export interface Me {
  user: { id: string; username: string };
  role: 'viewer' | 'operator' | 'admin';
  permissions: string[];
}

export const FINAL_EXECUTION = ['succeeded', 'failed', 'timed_out', 'canceled', 'lost', 'expired'];
export const FINAL_RUN = ['succeeded', 'failed', 'canceled'];

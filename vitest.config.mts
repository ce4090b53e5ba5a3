import { defineConfig } from 'vitest/config';

/**
 * System test files that check results, not timing: no shrunk protocol timers, no kills, no
 * deadline tighter than seconds, and memory bounds only per process, which a neighbour does not
 * move. They run two at a time. Every other system file runs alone, after them, so a bound like
 * "offline within 2× the heartbeat" or an ack inside the hub's 20 ms batching window is never
 * measured on cores shared with another file's hub.
 */
const SHARED_CORE_SYSTEM_FILES = [
  'test/agent-binary.test.ts',
  'test/embedded-database.test.ts',
  'test/install-script.test.ts',
  'test/jobs.test.ts',
  'test/live-changes.test.ts',
  'test/multi-hub.test.ts',
  'test/output.test.ts',
  'test/row-locks.test.ts',
  'test/systemd-unit.test.ts',
  'test/transport-security.test.ts',
  'test/windows-artifacts.test.ts',
  'test/security/agent-impersonation.test.ts',
  'test/security/audit.test.ts',
  'test/security/enrollment-race.test.ts',
  'test/security/fuzz.test.ts',
  'test/security/hostile-fields.test.ts',
  'test/security/http-hardening.test.ts',
  'test/security/reset-password.test.ts',
  'test/security/route-policy.test.ts',
  'test/security/secrets.test.ts',
  'test/security/sessions.test.ts',
];

const systemTest = {
  environment: 'node',
  testTimeout: 120_000,
  hookTimeout: 120_000,
} as const;

// Unit tests next to the code, then system tests in test/ that start real hubs, real agent
// processes and a real database (they run from the built dist/, so build first). The groups run
// one after another (sequence.groupOrder); vitest's default on two cores is a single worker.
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['apps/*/src/**/*.spec.ts', 'libs/*/src/**/*.spec.ts'],
          environment: 'node',
          testTimeout: 20_000,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...systemTest,
          name: 'system-shared-cores',
          include: SHARED_CORE_SYSTEM_FILES,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...systemTest,
          name: 'system',
          include: ['test/**/*.test.ts'],
          exclude: SHARED_CORE_SYSTEM_FILES,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});

import { z } from 'zod';

const id = z.string().uuid();
const isoTime = z.string().datetime({ offset: true });
/** NUL cannot be passed to exec(2); refuse it on the wire as the API does at the edge. */
const noNul = (max: number) =>
  z.string().max(max).refine((s) => !s.includes('\0'), 'must not contain NUL bytes');

/** Stored in 32-bit integer columns (pid, exit code, chunk numbers): larger values are refused here, not by an INSERT. */
const int32 = () => z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1);

export const MAX_OUTPUT_CHUNK_BYTES = 64 * 1024;
/** 10 MiB: enough for any log a person reads, small enough that a flood costs nothing to keep. */
export const DEFAULT_OUTPUT_CAP_BYTES = 10 * 1024 * 1024;
/** Below this a cap would keep too little of either end to be useful. */
export const MIN_OUTPUT_CAP_BYTES = 1024;

/** Sent by the agent in the socket.io handshake (`auth`). Identity comes only from here. */
export const agentHandshakeSchema = z.object({
  agentId: id,
  credential: z.string().min(16).max(256),
  protocolVersion: z.string().max(32),
  agentVersion: z.string().max(64),
  capabilities: z.array(z.string().max(64)).max(64).default([]),
  facts: z
    .object({
      hostname: z.string().max(255),
      os: z.string().max(64),
      arch: z.string().max(32),
    })
    .optional(),
  /**
   * 1.5: the facts and the inventory that older agents send as events after the welcome
   * (handshakeReportsSchema). Validated on their own, so a bad report costs that report, not the
   * connection.
   */
  reports: z.unknown().optional(),
});
export type AgentHandshake = z.infer<typeof agentHandshakeSchema>;

/** Hub → agent right after the handshake: intervals and limits, so a fleet can be retuned centrally. */
export const welcomeSchema = z.object({
  agentId: id,
  protocolVersion: z.string(),
  heartbeatIntervalSeconds: z.number().positive(),
  maxOutputChunkBytes: z.number().int().positive(),
  /** 1.1; absent from a 1.0 hub, when the agent samples every 15 s. */
  healthIntervalSeconds: z.number().positive().optional(),
  /**
   * 1.2: output kept per execution, half from its start and half from its end; the bytes between
   * are dropped on the host and replaced by a marker. Absent from an older hub: DEFAULT_OUTPUT_CAP_BYTES.
   */
  outputCapBytes: z.number().int().min(MIN_OUTPUT_CAP_BYTES).optional(),
  /**
   * 1.3: the hub counts the transport's ping replies (WebSocket engine.io pongs, every
   * `heartbeatIntervalSeconds`) as heartbeats, so the agent sends no `agent.heartbeat`: at fleet
   * scale each one is a message for the hub to read, parse and validate. An older hub leaves it
   * out and gets heartbeats as before.
   */
  transportHeartbeat: z.boolean().optional(),
  /**
   * 1.5: the hub took the facts and inventory the handshake carried (`reports`), so the agent
   * does not send them as events: after a hub restart, two messages and two acks fewer per agent.
   * An older hub leaves it out and gets the events as before.
   */
  handshakeReports: z.boolean().optional(),
});
export type Welcome = z.infer<typeof welcomeSchema>;

/** What to run: exactly one of `command` (via the OS shell), `argv` (direct exec) or `script`. */
export const executionSpecSchema = z.union([
  z.object({ kind: z.literal('command'), command: noNul(65536).min(1) }),
  z.object({ kind: z.literal('argv'), argv: z.array(noNul(65536)).min(1).max(1024) }),
  z.object({
    kind: z.literal('script'),
    script: noNul(1024 * 1024).min(1),
    shell: z.enum(['bash', 'sh', 'powershell', 'pwsh', 'cmd']),
  }),
]);
export type ExecutionSpec = z.infer<typeof executionSpecSchema>;

export const executionAssignSchema = z.object({
  executionId: id,
  runId: id,
  spec: executionSpecSchema,
  env: z.record(z.string().max(256), noNul(65536)).default({}),
  /** Names of `env` entries whose values the agent masks in output before it leaves the host. */
  secretEnv: z.array(z.string().max(256)).default([]),
  cwd: noNul(4096).optional(),
  timeoutSeconds: z.number().int().positive().max(7 * 24 * 3600).optional(),
});
export type ExecutionAssign = z.infer<typeof executionAssignSchema>;

export const executionCancelSchema = z.object({
  executionId: id,
  reason: z.string().max(256).optional(),
});
export type ExecutionCancel = z.infer<typeof executionCancelSchema>;

export const heartbeatSchema = z.object({
  sentAt: isoTime,
  running: z.number().int().nonnegative(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

export const executionStartedSchema = z.object({
  executionId: id,
  pid: int32().nonnegative().nullable(),
  startedAt: isoTime,
});
export type ExecutionStarted = z.infer<typeof executionStartedSchema>;

export const outputStreamSchema = z.enum(['stdout', 'stderr']);
export type OutputStream = z.infer<typeof outputStreamSchema>;

/**
 * One chunk of output. `seq` numbers chunks per execution from 0 across both streams, so the
 * hub stores each (execution, seq) once however often it is resent; `offset` is the byte
 * offset of the chunk within its stream.
 */
export const executionOutputSchema = z.object({
  executionId: id,
  seq: int32().nonnegative(),
  stream: outputStreamSchema,
  offset: z.number().int().nonnegative(),
  data: z.custom<Uint8Array>(
    (v) => v instanceof Uint8Array && v.byteLength <= MAX_OUTPUT_CHUNK_BYTES,
    `must be binary data of at most ${MAX_OUTPUT_CHUNK_BYTES} bytes`,
  ),
  /** 1.2: when the agent cut the chunk, which is not when the hub got it after an outage. */
  at: isoTime.optional(),
});
export type ExecutionOutput = z.infer<typeof executionOutputSchema>;

/** How an execution ended on the host. The hub maps it onto its own state machine. */
export const agentResultStatusSchema = z.enum(['succeeded', 'failed', 'timed_out', 'canceled']);
export type AgentResultStatus = z.infer<typeof agentResultStatusSchema>;

export const executionFinishedSchema = z.object({
  executionId: id,
  status: agentResultStatusSchema,
  exitCode: int32().nullable(),
  signal: z.string().max(32).nullable(),
  /** Why it ended, when not a plain exit: `timeout`, `canceled`, `spawn_error: ...`. */
  reason: z.string().max(1024).nullable(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime,
  /** Number of output chunks sent (seq 0..outputChunks-1), so the hub can tell whether it has them all. */
  outputChunks: int32().nonnegative(),
  /** 1.2: bytes dropped between the kept head and tail of the output (0 when all of it was kept). */
  outputDroppedBytes: z.number().int().nonnegative().optional(),
  /** 1.4: the command's process id, so a result stored before its `started` report still records it. */
  pid: int32().nonnegative().nullable().optional(),
});
export type ExecutionFinished = z.infer<typeof executionFinishedSchema>;

/** Facts about the host that do not change while the agent runs (1.1). */
export const agentFactsSchema = z.object({
  hostname: z.string().max(255),
  os: z.string().max(64),
  platform: z.string().max(64),
  distro: z.string().max(128),
  release: z.string().max(128),
  kernel: z.string().max(128),
  arch: z.string().max(32),
  cpuModel: z.string().max(256),
  cpuCores: z.number().int().nonnegative(),
  memTotalBytes: z.number().nonnegative(),
  ipAddresses: z.array(z.string().max(64)).max(64),
  agentVersion: z.string().max(64),
});
export type AgentFacts = z.infer<typeof agentFactsSchema>;

const percent = z.number().min(0).max(100);

/** One health sample: small, so a fleet's samples cost little to carry and store (1.1). */
export const healthSampleSchema = z.object({
  sampledAt: isoTime,
  cpuPercent: percent,
  load1: z.number().nonnegative(),
  load5: z.number().nonnegative(),
  load15: z.number().nonnegative(),
  memUsedPercent: percent,
  memUsedBytes: z.number().nonnegative(),
  memTotalBytes: z.number().nonnegative(),
  swapUsedPercent: percent.nullable(),
  disks: z
    .array(
      z.object({
        mount: z.string().max(512),
        sizeBytes: z.number().nonnegative(),
        usedBytes: z.number().nonnegative(),
        usedPercent: percent,
      }),
    )
    .max(64),
  uptimeSeconds: z.number().nonnegative(),
});
export type HealthSample = z.infer<typeof healthSampleSchema>;

/** The marker put where output was dropped, once per stream that lost bytes (1.2). */
export function outputDroppedMarker(droppedBytes: number): string {
  return `\n[outpost: ${droppedBytes} bytes dropped]\n`;
}

/** How many ids an inventory may list; an agent holds far fewer (its spool and `--max-concurrent` bound them). */
export const MAX_INVENTORY_IDS = 10_000;

/**
 * 1.2, after each welcome (from 1.5 in the handshake's `reports`): what this agent process runs,
 * and the executions whose final result waits in its spool. The hub ends `lost` anything it
 * dispatched to the agent before this connection that is in neither list: a restarted agent no
 * longer has it.
 */
export const agentInventorySchema = z.object({
  running: z.array(id).max(MAX_INVENTORY_IDS),
  results: z.array(id).max(MAX_INVENTORY_IDS),
});
export type AgentInventory = z.infer<typeof agentInventorySchema>;

/** 1.5: the handshake's `reports`. What a handshake does not carry, the agent sends as events after the welcome. */
export const handshakeReportsSchema = z.object({
  facts: agentFactsSchema.optional(),
  inventory: agentInventorySchema.optional(),
});
export type HandshakeReports = z.infer<typeof handshakeReportsSchema>;

export const pingSchema = z.object({ sentAt: isoTime });
export type Ping = z.infer<typeof pingSchema>;

export const credentialRotateSchema = z.object({ credential: z.string().min(16).max(256) });
export type CredentialRotate = z.infer<typeof credentialRotateSchema>;

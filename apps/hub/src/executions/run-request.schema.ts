import { z } from 'zod';
import type { ExecutionSpec } from '@outpost/protocol';
import { uuidSchema } from '../common/validation/common-schemas';
import { labelSelectorSchema } from '../common/validation/label-selector';
import type { RunDefinition, StoredEnvValue } from './run.entity';

/**
 * What to run, where and how: the one definition of these fields, shared by ad-hoc runs
 * (`POST /api/v1/runs`), saved jobs and a job's run overrides.
 */

/** NUL cannot reach exec(2): refuse it here with VALIDATION_ERROR rather than fail on the host. */
const noNul = (schema: z.ZodString) => schema.refine((s) => !s.includes('\0'), 'must not contain NUL bytes');

/**
 * A secret already sealed in storage, carried through the hub's own merges (a job's run, a job
 * secret kept by `{"secret": true}`). JSON cannot make one, so no request can pass a ciphertext.
 */
export class StoredSecret {
  constructor(readonly sealed: string) {}
}

export const envNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name').max(256);
export const envValueSchema = z.union([
  noNul(z.string().max(65536)),
  z.object({ value: noNul(z.string().max(65536)), secret: z.boolean().default(false) }),
  z.instanceof(StoredSecret),
]);
type EnvValue = z.infer<typeof envValueSchema>;

const TARGET_KINDS = ['agentIds', 'labels', 'all'] as const;

/**
 * Where: explicit agents, a label selector, or every agent. Exactly one, never empty: an empty
 * object or selector is a mistake, and must not quietly mean "all hosts".
 */
export const targetSchema = z
  .object({
    agentIds: z.array(uuidSchema).min(1, 'must name at least one agent').max(10_000).optional(),
    labels: labelSelectorSchema
      .refine((labels) => Object.keys(labels).length > 0, 'must name at least one key=value')
      // Kept as a selector string, normalized, so the API shows what was asked for.
      .transform((labels) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','))
      .optional(),
    all: z.literal(true, 'must be true').optional(),
  })
  .strict()
  .superRefine((target, ctx) => {
    if (TARGET_KINDS.filter((k) => target[k] !== undefined).length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of agentIds, labels or all' });
    }
  });
export type RunTarget = z.infer<typeof targetSchema>;

export const retriesSchema = z
  .object({
    max: z.number().int().min(0).max(10),
    backoffSeconds: z.number().int().min(0).max(3600).default(10),
  })
  .strict();

const SPEC_KEYS = ['command', 'argv', 'script', 'shell'] as const;

/** Each field on its own; the rules across fields are in `checkSpec`. Null clears an optional setting. */
export const runFieldsSchema = z.object({
  command: noNul(z.string().min(1).max(65536)).optional(),
  argv: z.array(noNul(z.string().max(65536))).min(1).max(1024).optional(),
  script: noNul(z.string().min(1).max(1024 * 1024)).optional(),
  shell: z.enum(['bash', 'sh', 'powershell', 'pwsh', 'cmd']).optional(),
  target: targetSchema.optional(),
  env: z.record(envNameSchema, envValueSchema).optional(),
  cwd: noNul(z.string().min(1).max(4096)).nullish(),
  timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).nullish(),
  deliveryTimeoutSeconds: z.number().int().min(1).max(30 * 24 * 3600).nullish(),
  concurrency: z.number().int().min(1).max(10_000).nullish(),
  maxFailures: z.number().int().min(1).max(10_000).nullish(),
  retries: retriesSchema.nullish(),
  retryLost: z.boolean().optional(),
});
export type RunFields = z.infer<typeof runFieldsSchema>;

/** Exactly one of command, argv, script; shell goes with script and only with it. */
export function checkSpec(body: Pick<RunFields, (typeof SPEC_KEYS)[number]>, ctx: z.RefinementCtx): void {
  const given = (['command', 'argv', 'script'] as const).filter((k) => body[k] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: given.length === 0 ? ['command'] : [given[1]!],
      message: 'give exactly one of command, argv or script',
    });
  }
  if (body.script !== undefined && body.shell === undefined) {
    ctx.addIssue({ code: 'custom', path: ['shell'], message: 'is required with script' });
  }
  if (body.shell !== undefined && body.script === undefined) {
    ctx.addIssue({ code: 'custom', path: ['shell'], message: 'is only valid with script' });
  }
}

/** A complete request: `POST /api/v1/runs`, and a job merged with its overrides. */
export const runRequestSchema = runFieldsSchema.extend({ target: targetSchema }).superRefine(checkSpec);
export type RunRequest = z.infer<typeof runRequestSchema>;

/**
 * `changes` laid over `base`, field by field. Naming any of command, argv or script replaces the
 * whole "what to run", so a command never lingers beside a new argv.
 */
export function mergeRunFields<T extends Pick<RunFields, (typeof SPEC_KEYS)[number]>>(base: T, changes: Partial<T>): T {
  const replacesSpec = changes.command !== undefined || changes.argv !== undefined || changes.script !== undefined;
  const kept = replacesSpec ? omit(base, SPEC_KEYS) : base;
  return { ...kept, ...stripUndefined(changes) } as T;
}

/** Seals a new secret value for storage (SecretBox.seal). */
export type SealSecret = (value: string, name: string) => string;

/** The stored form of a validated request; new secret values are sealed here, before anything stores them. */
export function toRunDefinition(request: RunRequest, seal: SealSecret): RunDefinition {
  return {
    spec: specOf(request),
    env: Object.fromEntries(Object.entries(request.env ?? {}).map(([k, v]) => [k, storedEnvValue(k, v, seal)])),
    cwd: request.cwd ?? null,
    timeoutSeconds: request.timeoutSeconds ?? null,
    deliveryTimeoutSeconds: request.deliveryTimeoutSeconds ?? null,
    target: request.target,
    concurrency: request.concurrency ?? null,
    maxFailures: request.maxFailures ?? null,
    retries: request.retries ?? null,
    retryLost: request.retryLost ?? false,
  };
}

function storedEnvValue(name: string, value: EnvValue, seal: SealSecret): StoredEnvValue {
  if (typeof value === 'string') return { value, secret: false };
  if (value instanceof StoredSecret) return { sealed: value.sealed, secret: true };
  return value.secret ? { sealed: seal(value.value, name), secret: true } : { value: value.value, secret: false };
}

/** The request a stored definition came from; secrets stay sealed (StoredSecret), for the hub's own merges only. */
export function toRunFields(definition: RunDefinition): RunFields & { target: RunTarget } {
  return {
    ...specFields(definition.spec),
    env: Object.fromEntries(Object.entries(definition.env).map(([k, v]) => [k, v.secret ? new StoredSecret(v.sealed) : v.value])),
    cwd: definition.cwd,
    timeoutSeconds: definition.timeoutSeconds,
    deliveryTimeoutSeconds: definition.deliveryTimeoutSeconds,
    target: definition.target,
    concurrency: definition.concurrency,
    maxFailures: definition.maxFailures,
    retries: definition.retries,
    retryLost: definition.retryLost,
  };
}

export function specFields(spec: ExecutionSpec): Pick<RunFields, (typeof SPEC_KEYS)[number]> {
  switch (spec.kind) {
    case 'command':
      return { command: spec.command };
    case 'argv':
      return { argv: spec.argv };
    case 'script':
      return { script: spec.script, shell: spec.shell };
  }
}

function specOf(request: RunRequest): ExecutionSpec {
  if (request.argv) return { kind: 'argv', argv: request.argv };
  if (request.script) return { kind: 'script', script: request.script, shell: request.shell! };
  return { kind: 'command', command: request.command! };
}

function omit<T extends object>(object: T, keys: readonly string[]): T {
  return Object.fromEntries(Object.entries(object).filter(([k]) => !keys.includes(k))) as T;
}

function stripUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `?wait=` on reading or starting a run: answer once the run has ended, or after this many seconds. */
export const runWaitSchema = z.object({ wait: z.coerce.number().int().min(0).max(60).default(0) });
export type RunWait = z.infer<typeof runWaitSchema>;

import { z } from 'zod';
import { uuidSchema } from '../common/validation/common-schemas';

/** NUL cannot reach exec(2): refuse it here with VALIDATION_ERROR rather than fail on the host. */
const noNul = (schema: z.ZodString) => schema.refine((s) => !s.includes('\0'), 'must not contain NUL bytes');

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name').max(256);
const envValue = z.union([
  noNul(z.string().max(65536)),
  z.object({ value: noNul(z.string().max(65536)), secret: z.boolean().default(false) }),
]);

/** What to run and where: `POST /api/v1/runs`. Exactly one of command, argv, script. */
export const runRequestSchema = z
  .object({
    command: noNul(z.string().min(1).max(65536)).optional(),
    argv: z.array(noNul(z.string().max(65536))).min(1).max(1024).optional(),
    script: noNul(z.string().min(1).max(1024 * 1024)).optional(),
    shell: z.enum(['bash', 'sh', 'powershell', 'pwsh', 'cmd']).optional(),
    target: z.object({
      agentIds: z.array(uuidSchema).min(1, 'must name at least one agent').max(10_000),
    }),
    timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).optional(),
    deliveryTimeoutSeconds: z.number().int().min(1).max(30 * 24 * 3600).optional(),
    env: z.record(envName, envValue).default({}),
    cwd: noNul(z.string().min(1).max(4096)).optional(),
  })
  .superRefine((body, ctx) => {
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
  });
export type RunRequest = z.infer<typeof runRequestSchema>;

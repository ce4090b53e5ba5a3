import { z } from 'zod';
import { ProtocolErrorCode } from './events';
import { UNSTORABLE_TEXT_MESSAGE, unstorableTextPaths } from './storable-text';

/** Every acknowledged event answers with this shape. */
export type Ack = { ok: true } | { ok: false; error: { code: ProtocolErrorCode; message: string } };

export const ackSchema = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({
    ok: z.literal(false),
    error: z.object({ code: z.string(), message: z.string() }),
  }),
]);

export const ACK_OK: Ack = { ok: true };

export function ackError(code: ProtocolErrorCode, message: string): Ack {
  return { ok: false, error: { code, message } };
}

/** Validates an incoming payload, text the database can store included; a failure is described in one line, never thrown. */
export function parsePayload<T>(
  schema: z.ZodType<T>,
  payload: unknown,
): { ok: true; value: T } | { ok: false; message: string } {
  const result = schema.safeParse(payload);
  if (result.success) {
    const unstorable = unstorableTextPaths(result.data);
    if (unstorable.length === 0) return { ok: true, value: result.data };
    return { ok: false, message: unstorable.slice(0, 5).map((path) => `${path || '(payload)'}: ${UNSTORABLE_TEXT_MESSAGE}`).join('; ') };
  }
  const message = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(payload)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, message };
}

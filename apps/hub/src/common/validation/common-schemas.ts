import { z } from 'zod';

export const uuidSchema = z.string().uuid('must be a UUID');

const labelKey = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\/-]*$/, 'must start with a letter or digit and use only letters, digits, . _ / -');
const labelValue = z.string().max(255).refine((v) => !/[,=\0]/.test(v), 'must not contain , = or NUL');

/** Labels: a string-to-string map (DESIGN.md §5); keys and values stay selector-safe. */
export const labelsSchema = z.record(labelKey, labelValue).refine((l) => Object.keys(l).length <= 64, 'at most 64 labels');

export const paginationSchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  order: z.enum(['asc', 'desc']).default('desc'),
});

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** `?status=a,b` → ['a','b'], each one of `values`. */
export function csvEnum<T extends string>(values: readonly [T, ...T[]]) {
  return z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values)).min(1));
}

/** `?from=&to=` as ISO 8601 times, from not after to. */
export const timeRangeSchema = z.object({
  from: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
  to: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
});

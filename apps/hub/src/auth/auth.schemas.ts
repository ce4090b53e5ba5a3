import { z } from 'zod';
import { paginationSchema } from '../common/validation/common-schemas';
import { ROLES } from './roles';

/** NIST SP 800-63B length rules: long enough to resist guessing; long passphrases allowed. */
export const newPasswordSchema = z
  .string()
  .min(12, 'must be at least 12 characters')
  .max(1024, 'must be at most 1024 characters');

export const usernameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'must start with a letter or digit and use only letters, digits, . _ @ -');

export const loginSchema = z.object({
  username: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
});

/** Refresh and logout take the token in the body or, for the dashboard, in its cookie. */
export const refreshSchema = z.object({ refreshToken: z.string().min(1).max(200).optional() }).strict().default({});
export type RefreshRequest = z.infer<typeof refreshSchema>;

export const changePasswordSchema = z.object({ currentPassword: z.string().min(1).max(1024), newPassword: newPasswordSchema }).strict();

export const createUserSchema = z.object({ username: usernameSchema, password: newPasswordSchema, role: z.enum(ROLES) }).strict();
export type CreateUser = z.infer<typeof createUserSchema>;

export const updateUserSchema = z
  .object({ role: z.enum(ROLES), disabled: z.boolean(), password: newPasswordSchema })
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one of role, disabled, password');
export type UpdateUser = z.infer<typeof updateUserSchema>;

export const USER_SORT_FIELDS = ['username', 'createdAt'] as const;

export const userListSchema = paginationSchema.extend({
  search: z.string().max(128).optional(),
  role: z.enum(ROLES).optional(),
  disabled: z
    .enum(['true', 'false'], 'must be true or false')
    .transform((v) => v === 'true')
    .optional(),
  sort: z.enum(USER_SORT_FIELDS).default('createdAt'),
});
export type UserListQuery = z.infer<typeof userListSchema>;

export const createApiTokenSchema = z
  .object({
    name: z.string().min(1).max(128),
    role: z.enum(ROLES).optional(),
    expiresAt: z.iso
      .datetime({ offset: true })
      .transform((s) => new Date(s))
      .optional(),
  })
  .strict();
export type CreateApiToken = z.infer<typeof createApiTokenSchema>;

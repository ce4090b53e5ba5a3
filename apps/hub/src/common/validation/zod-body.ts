import { applyDecorators, Body, Param, type PipeTransform, Query } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { UNSTORABLE_TEXT_MESSAGE, unstorableTextPaths } from '@outpost/protocol';
import { z } from 'zod';
import { AppError } from '../errors/app-error';

/**
 * Parses with a zod schema, or throws VALIDATION_ERROR naming each bad field (also for bodies a
 * service assembles). Text the database cannot store (NUL, unpaired surrogates) is refused in any
 * field, so it never turns into a failed statement and a 500.
 */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, fieldPrefix?: string): T {
  const result = schema.safeParse(value);
  if (result.success) {
    const unstorable = unstorableTextPaths(result.data);
    if (unstorable.length === 0) return result.data;
    throw AppError.validation(
      unstorable.map((path) => ({ field: [fieldPrefix, path || undefined].filter((p) => p !== undefined).join('.') || '(body)', message: UNSTORABLE_TEXT_MESSAGE })),
    );
  }
  throw AppError.validation(
    result.error.issues.map((issue) => ({
      field: [fieldPrefix, ...issue.path].filter((p) => p !== undefined).join('.') || '(body)',
      message: issue.message,
    })),
  );
}

class ZodPipe<T> implements PipeTransform<unknown, T> {
  constructor(
    private readonly schema: z.ZodType<T>,
    private readonly fieldPrefix: string | undefined,
  ) {}

  transform(value: unknown): T {
    return parseOrThrow(this.schema, value, this.fieldPrefix);
  }
}

/** The request body, validated by a zod schema (document it with ApiZodBody from the same schema). */
export function ValidBody<T>(schema: z.ZodType<T>): ParameterDecorator {
  return Body(new ZodPipe(schema, undefined));
}

export function ValidQuery<T>(schema: z.ZodType<T>): ParameterDecorator {
  return Query(new ZodPipe(schema, undefined));
}

export function ValidParam<T>(name: string, schema: z.ZodType<T>): ParameterDecorator {
  return Param(name, new ZodPipe(schema, name));
}

/** OpenAPI description of a body from the same zod schema the pipe validates with. */
export function ApiZodBody(schema: z.ZodType): MethodDecorator {
  return applyDecorators(ApiBody({ schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as object }));
}

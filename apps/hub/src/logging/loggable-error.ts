import { DriverException } from '@mikro-orm/core';

/**
 * An error as it may be logged. A database error's message quotes its whole statement with the
 * values bound to it (command output, a batch of hundreds of reports), so only its class,
 * SQLSTATE and PostgreSQL's detail are kept; any other error is logged whole, with its stack.
 */
export function loggableError(error: unknown): Record<string, unknown> {
  if (error instanceof DriverException) {
    const { code, detail } = error as DriverException & { detail?: string };
    return { type: error.name, code, ...(detail ? { detail } : {}) };
  }
  return { err: error };
}

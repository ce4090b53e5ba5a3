import { DeadlockException } from '@mikro-orm/core';
import { describe, expect, it } from 'vitest';
import { loggableError } from './loggable-error';

describe('loggableError', () => {
  it('keeps a database error to its class, SQLSTATE and detail, without the statement and its values', () => {
    const cause = Object.assign(new Error(`update executions set reason = 'output with a secret' - deadlock detected`), {
      code: '40P01',
      detail: 'Process 1 waits for ShareLock on transaction 2; blocked by process 3.',
    });
    const logged = loggableError(new DeadlockException(cause));
    expect(logged).toEqual({ type: 'DeadlockException', code: '40P01', detail: 'Process 1 waits for ShareLock on transaction 2; blocked by process 3.' });
    expect(JSON.stringify(logged)).not.toContain('secret');
  });

  it('logs any other error whole', () => {
    const error = new TypeError('a bug');
    expect(loggableError(error)).toEqual({ err: error });
  });
});

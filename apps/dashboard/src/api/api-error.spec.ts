import { describe, expect, it } from 'vitest';
import { ApiError, describeError } from './api-error';

describe('describeError', () => {
  it("says the hub's message and each refused field", async () => {
    const response = new Response(
      JSON.stringify({
        error: { code: 'VALIDATION_ERROR', message: 'The request is not valid', details: { fields: [{ field: 'target', message: 'give exactly one of agentIds, labels or all' }] }, requestId: 'r1' },
      }),
      { status: 400 },
    );
    const error = await ApiError.from(response);
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_ERROR', requestId: 'r1' });
    expect(describeError(error)).toBe('The request is not valid (target: give exactly one of agentIds, labels or all)');
  });

  it('names the status when the answer is not the error envelope', async () => {
    const error = await ApiError.from(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    expect(describeError(error)).toBe('The hub answered 502 Bad Gateway');
  });

  it('turns a network failure into a sentence', () => {
    expect(describeError(new TypeError('Failed to fetch'))).toBe('The hub cannot be reached. Check your connection and try again.');
  });
});

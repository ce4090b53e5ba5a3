import { describe, expect, it } from 'vitest';
import { CANCEL_SIGNAL_BATCH, hubSignalSchema } from './hub-signals';

const id = '0b7d5f4e-4a57-4f7e-9d0c-6d2b8f1a9e31';

describe('hub signals', () => {
  it('accept the two kinds', () => {
    expect(hubSignalSchema.parse({ kind: 'dispatch', runId: id })).toEqual({ kind: 'dispatch', runId: id });
    expect(hubSignalSchema.parse({ kind: 'cancel', executionIds: [id] })).toEqual({ kind: 'cancel', executionIds: [id] });
  });

  it('refuse anything else, so a stray NOTIFY cannot make a hub act', () => {
    expect(hubSignalSchema.safeParse({ kind: 'dispatch', runId: 'not-a-uuid' }).success).toBe(false);
    expect(hubSignalSchema.safeParse({ kind: 'cancel', executionIds: [] }).success).toBe(false);
    expect(hubSignalSchema.safeParse({ kind: 'shutdown' }).success).toBe(false);
  });

  it('keep a full cancel batch under the 8,000-byte NOTIFY limit', () => {
    const payload = JSON.stringify({ kind: 'cancel', executionIds: Array.from({ length: CANCEL_SIGNAL_BATCH }, () => id) });
    expect(hubSignalSchema.safeParse(JSON.parse(payload)).success).toBe(true);
    expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    expect(hubSignalSchema.safeParse({ kind: 'cancel', executionIds: Array.from({ length: CANCEL_SIGNAL_BATCH + 1 }, () => id) }).success).toBe(false);
  });
});

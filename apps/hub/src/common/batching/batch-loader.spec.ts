import { describe, expect, it } from 'vitest';
import { batchLoader } from './batch-loader';

/** A load function whose batches the test answers by hand. */
function recordingLoader() {
  const batches: { keys: readonly number[]; answer: () => void }[] = [];
  const loader = batchLoader<number, number>(
    (keys) =>
      new Promise((resolve) => {
        batches.push({ keys, answer: () => resolve(keys.map((k) => k * 10)) });
      }),
  );
  return { loader, batches };
}

/** A few turns of the event loop: enough for any batch that is due to go out. */
const nextTurn = async () => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('batchLoader', () => {
  it('sends a lone call at once, without waiting for company', async () => {
    const { loader, batches } = recordingLoader();
    const value = loader.load(1);
    await nextTurn();
    expect(batches.map((b) => b.keys)).toEqual([[1]]);
    batches[0].answer();
    expect(await value).toBe(10);
  });

  it('holds calls made while a batch is out, and sends them together when it comes back', async () => {
    const { loader, batches } = recordingLoader();
    const first = loader.load(1);
    await nextTurn();
    const rest = [2, 3, 4].map((k) => loader.load(k));
    await nextTurn();
    expect(batches.map((b) => b.keys)).toEqual([[1]]);
    batches[0].answer();
    await first;
    await nextTurn();
    expect(batches.map((b) => b.keys)).toEqual([[1], [2, 3, 4]]);
    batches[1].answer();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('goes on after a failed batch', async () => {
    const failing = batchLoader<number, number>(async (keys) => {
      if (keys.includes(1)) throw new Error('database gone');
      return keys.map((k) => k);
    });
    await expect(failing.load(1)).rejects.toThrow('database gone');
    expect(await failing.load(2)).toBe(2);
  });
});

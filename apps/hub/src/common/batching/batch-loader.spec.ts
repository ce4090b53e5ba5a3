import { describe, expect, it, vi } from 'vitest';
import { batchLoader, type BatchLoaderOptions } from './batch-loader';

/** A load function whose batches the test answers by hand. */
function recordingLoader(options?: BatchLoaderOptions) {
  const batches: { keys: readonly number[]; answer: () => void }[] = [];
  const loader = batchLoader<number, number>(
    (keys) =>
      new Promise((resolve) => {
        batches.push({ keys, answer: () => resolve(keys.map((k) => k * 10)) });
      }),
    options,
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

  it('with a gather time, waits for company only while calls keep coming', async () => {
    const { loader, batches } = recordingLoader({ gatherMsWhenBusy: 300 });
    // Lone calls go at once, one after the other.
    const lone = loader.load(1);
    await nextTurn();
    batches[0].answer();
    await lone;
    const burst = [2, 3].map((k) => loader.load(k));
    await nextTurn();
    expect(batches.map((b) => b.keys)).toEqual([[1], [2, 3]]);
    // A batch of two came back: the next one gathers before it goes.
    batches[1].answer();
    await Promise.all(burst);
    const gathered = [4].map((k) => loader.load(k));
    await nextTurn();
    expect(batches).toHaveLength(2);
    const more = [5, 6].map((k) => loader.load(k));
    await vi.waitFor(() => expect(batches).toHaveLength(3), { timeout: 5_000 });
    expect(batches[2].keys).toEqual([4, 5, 6]);
    batches[2].answer();
    expect(await Promise.all([...gathered, ...more])).toEqual([40, 50, 60]);
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

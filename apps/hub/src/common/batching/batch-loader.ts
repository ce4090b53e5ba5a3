import DataLoader from 'dataloader';

const MAX_BATCH = 500;

/**
 * Calls made close together become one database round trip (group commit): a batch goes out as
 * soon as the loader's previous batch has come back, carrying every call that arrived meanwhile.
 * An idle hub answers a lone call at once; a busy one writes 10,000 reports in tens of
 * statements, not tens of thousands. No caching: every call reads fresh.
 */
export function batchLoader<K, V>(load: (keys: readonly K[]) => Promise<V[]>): DataLoader<K, V> {
  let previous: Promise<unknown> = Promise.resolve();
  return new DataLoader<K, V>(
    (keys) => {
      const batch = load(keys);
      previous = batch.catch(() => undefined);
      return batch;
    },
    {
      cache: false,
      maxBatchSize: MAX_BATCH,
      // setImmediate: the calls of every message read in this turn of the event loop join the batch.
      batchScheduleFn: (run) => void previous.then(() => setImmediate(run)),
    },
  );
}

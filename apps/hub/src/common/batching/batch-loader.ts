import DataLoader from 'dataloader';

/** How long a batch waits for company: short enough to be invisible, long enough for a reconnect burst to share queries. */
const BATCH_WINDOW_MS = 2;
const MAX_BATCH = 500;

/**
 * Calls made close together become one database round trip: 10,000 agents reconnecting after a
 * hub restart cost tens of statements, not tens of thousands. No caching: every call reads fresh.
 */
export function batchLoader<K, V>(load: (keys: readonly K[]) => Promise<V[]>): DataLoader<K, V> {
  return new DataLoader<K, V>(load, {
    cache: false,
    maxBatchSize: MAX_BATCH,
    batchScheduleFn: (run) => setTimeout(run, BATCH_WINDOW_MS),
  });
}

import DataLoader from 'dataloader';

const MAX_BATCH = 500;

/**
 * What the statements an agent's connect makes wait for company while a fleet reconnects: an
 * agent waits a few milliseconds more, and the hub and PostgreSQL parse, plan and lock for
 * 100-200 agents at a time instead of 15-40 (10,000 agents reconnecting after a hub restart).
 */
export const CONNECT_GATHER = { gatherMsWhenBusy: 20 } as const satisfies BatchLoaderOptions;

export interface BatchLoaderOptions {
  /**
   * While calls keep arriving (the batch that came back carried more than one), wait this long
   * for more before sending the next batch. For paths where a few milliseconds do not matter
   * and each statement costs more than its rows: a fleet reconnecting after a hub restart.
   */
  gatherMsWhenBusy?: number;
}

/**
 * Calls made close together become one database round trip (group commit): a batch goes out as
 * soon as the loader's previous batch has come back, carrying every call that arrived meanwhile.
 * An idle hub answers a lone call at once; a busy one writes 10,000 reports in tens of
 * statements, not tens of thousands. No caching: every call reads fresh.
 */
export function batchLoader<K, V>(load: (keys: readonly K[]) => Promise<V[]>, options: BatchLoaderOptions = {}): DataLoader<K, V> {
  let previous: Promise<unknown> = Promise.resolve();
  let previousSize = 0;
  const gatherMs = options.gatherMsWhenBusy ?? 0;
  return new DataLoader<K, V>(
    (keys) => {
      previousSize = keys.length;
      const batch = load(keys);
      previous = batch.catch(() => undefined);
      return batch;
    },
    {
      cache: false,
      maxBatchSize: MAX_BATCH,
      // setImmediate: the calls of every message read in this turn of the event loop join the batch.
      batchScheduleFn: (run) =>
        void previous.then(() => (gatherMs > 0 && previousSize > 1 ? setTimeout(run, gatherMs) : setImmediate(run))),
    },
  );
}

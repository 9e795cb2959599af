/**
 * Look-ups asked for in the same turn of the event loop, sent to the store together: the batch
 * goes out on `setImmediate`, after the I/O callbacks of that turn. A burst of cache misses (a
 * flood of forged keys from many addresses, a restart under load) then costs the key store one
 * round trip per turn instead of one per key, and simultaneous requests with the same uncached
 * key share one look-up. A lone look-up waits only for the end of its turn.
 *
 * `lookUpMany` answers with what it found (a key it did not find is answered null); when it fails,
 * every look-up of that batch fails with its error (each caller falls back on its own).
 */
export function createBatchedLookup<V>(lookUpMany: (keys: string[]) => Promise<Map<string, V>>, options: { maxBatch?: number } = {}): (key: string) => Promise<V | null> {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  let pending: Map<string, Waiter<V>[]> | undefined;

  function send(): void {
    const batch = pending!;
    pending = undefined;
    const keys = [...batch.keys()];
    for (let start = 0; start < keys.length; start += maxBatch) {
      const some = keys.slice(start, start + maxBatch);
      const fail = (error: unknown) => {
        for (const key of some) for (const waiter of batch.get(key)!) waiter.reject(error);
      };
      Promise.resolve()
        .then(() => lookUpMany(some))
        .then((found) => {
          // Read in full before anyone is answered: if reading throws, every waiter fails below.
          const answers = some.map((key) => found.get(key) ?? null);
          some.forEach((key, i) => {
            for (const waiter of batch.get(key)!) waiter.resolve(answers[i] as V | null);
          });
        })
        .catch(fail);
    }
  }

  return (key) =>
    new Promise<V | null>((resolve, reject) => {
      if (!pending) {
        pending = new Map();
        setImmediate(send);
      }
      const waiters = pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
    });
}

/** Bounds one query's parameter (a burst beyond it goes out as several queries at once). */
const DEFAULT_MAX_BATCH = 100;

interface Waiter<V> {
  resolve(value: V | null): void;
  reject(error: unknown): void;
}

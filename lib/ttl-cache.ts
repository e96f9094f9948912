// A read shared by every request of one process for a few seconds: under many pollers, one query per period.
// Only for reads that may be a little stale (what the service looks like), never for anything a decision rests on.

/**
 * Returns `compute()`'s value, recomputed at most every `ttlMs`; callers during a computation share it. Past the
 * period, a value younger than twice the period is still returned at once while a fresh one is computed behind it
 * (stale-while-revalidate), so that no poller waits on the slow read; an older one is waited for.
 */
export function ttlCache<T>(ttlMs: number, compute: () => Promise<T>): () => Promise<T> {
  let current: { at: number; value: T } | undefined;
  let pending: Promise<T> | undefined;

  const refresh = () => {
    if (pending) return pending;
    const started = Date.now();
    const promise = compute().then((value) => {
      current = { at: started, value };
      return value;
    });
    // A failure is not kept: the next caller asks again.
    const settled = () => (pending = undefined);
    promise.then(settled, settled);
    pending = promise;
    return promise;
  };

  return () => {
    const age = current ? Date.now() - current.at : Infinity;
    if (current && age < ttlMs) return Promise.resolve(current.value);
    if (current && age < 2 * ttlMs) {
      refresh().catch(() => {});
      return Promise.resolve(current.value);
    }
    return refresh();
  };
}

/** A ttlCache per key, for at most `maxKeys` keys at a time (the one added first makes room for a new one). */
export function keyedTtlCache<K, T>(ttlMs: number, maxKeys: number, compute: (key: K) => Promise<T>): (key: K) => Promise<T> {
  const caches = new Map<K, () => Promise<T>>();
  return (key) => {
    let cache = caches.get(key);
    if (!cache) {
      if (caches.size >= maxKeys) caches.delete(caches.keys().next().value as K);
      caches.set(key, (cache = ttlCache(ttlMs, () => compute(key))));
    }
    return cache();
  };
}

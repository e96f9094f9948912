// A read shared by every request of one process for a few seconds: under many pollers, one query per period.
// Only for reads that may be a little stale (what the service looks like), never for anything a decision rests on.

/** Returns `compute()`'s value, recomputed at most every `ttlMs`; callers during a computation share it. */
export function ttlCache<T>(ttlMs: number, compute: () => Promise<T>): () => Promise<T> {
  let value: { at: number; promise: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (value && now - value.at < ttlMs) return value.promise;
    const promise = compute();
    const entry = { at: now, promise };
    value = entry;
    // A failure is not kept: the next caller asks again.
    promise.catch(() => {
      if (value === entry) value = undefined;
    });
    return promise;
  };
}

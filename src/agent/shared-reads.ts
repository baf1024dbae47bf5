// Reads of one object that are in flight together share one request: a burst of pods of one
// namespace all project the same kube-root-ca.crt ConfigMap into their token volume, and each
// asked the API server for it (one GET per pod). A read that starts after the shared one returned
// asks again, so nothing is served older than a read issued at the same moment would be.

/** Wraps `read` so that concurrent calls with the same key share one call's promise. */
export function sharedInFlight<A extends unknown[], T>(read: (...args: A) => Promise<T>, key: (...args: A) => string): (...args: A) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (...args: A) => {
    const k = key(...args);
    const running = inFlight.get(k);
    if (running) return running;
    const p = read(...args).finally(() => inFlight.delete(k));
    inFlight.set(k, p);
    return p;
  };
}

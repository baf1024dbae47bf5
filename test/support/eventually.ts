// Polling until a condition holds, for tests that wait on the kernel, daemons or the API.

/** Polls `fn` until it answers something truthy; the last error or value explains a timeout. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

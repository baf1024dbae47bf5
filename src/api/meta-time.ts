// metav1.Time text: RFC 3339 to the second, as kube-apiserver writes creationTimestamp and the
// managedFields time.

/** `date` as RFC 3339 to the second. */
export function secondTimestamp(date: Date): string {
  // toISOString is fixed-width for years 0-9999 (a slice beats a regex here).
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The second the cached text is for, and that text. */
let cachedSecond = NaN;
let cachedText = '';

/**
 * Now as RFC 3339 to the second. A write stamps one or two of these, so the text of the current
 * second is formatted once and reused while the clock stays in that second (the clock is read on
 * every call, so the answer is never stale).
 */
export function nowSecondTimestamp(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedText = secondTimestamp(new Date(second * 1000));
    cachedSecond = second;
  }
  return cachedText;
}

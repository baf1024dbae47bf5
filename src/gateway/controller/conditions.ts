// Status conditions as the controller writes them: a condition keeps its lastTransitionTime while
// its status and reason stay the same, and gets `now` when either changes (or it is new).
export interface WrittenCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export function mergeConditions(previous: readonly WrittenCondition[] | undefined, wanted: readonly WrittenCondition[], now: string): WrittenCondition[] {
  return wanted.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    const keep = old && old.status === c.status && old.reason === c.reason && old.lastTransitionTime;
    return {
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      ...(c.observedGeneration !== undefined ? { observedGeneration: c.observedGeneration } : {}),
      lastTransitionTime: keep ? old.lastTransitionTime : now,
    };
  });
}

/** Metav1 time: RFC 3339 in seconds, as the API server stores timestamps. */
export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

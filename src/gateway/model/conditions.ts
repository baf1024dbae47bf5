// Condition builders: every condition this model writes carries the object's generation.
import type { Condition } from './types.js';

export function condition(
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  observedGeneration: number,
): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message, observedGeneration };
}

/** A reason and message explaining why something is not valid. */
export interface Problem {
  reason: string;
  message: string;
}

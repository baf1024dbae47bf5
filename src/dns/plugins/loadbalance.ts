// The loadbalance plugin (round_robin): the address records of an answer rotated, CNAMEs kept in
// front, so successive answers lead with a different address.
import type { ResourceRecord } from '../wire.js';
import { RRType } from '../wire.js';

/** How many distinct rotations an answer has (1 = nothing to rotate). */
export function rotationCount(answers: ResourceRecord[]): number {
  let n = 0;
  for (const r of answers) if (r.type === RRType.A || r.type === RRType.AAAA || r.type === RRType.MX) n++;
  return Math.max(1, n);
}

/** The answer with its A/AAAA/MX records rotated by `by` places (other records stay in order, first). */
export function rotateAnswers(answers: ResourceRecord[], by: number): ResourceRecord[] {
  const rotatable: ResourceRecord[] = [];
  const rest: ResourceRecord[] = [];
  for (const r of answers) (r.type === RRType.A || r.type === RRType.AAAA || r.type === RRType.MX ? rotatable : rest).push(r);
  if (rotatable.length < 2) return answers;
  const k = ((by % rotatable.length) + rotatable.length) % rotatable.length;
  return [...rest, ...rotatable.slice(k), ...rotatable.slice(0, k)];
}

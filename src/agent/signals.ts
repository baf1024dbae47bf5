// Signal names to Linux signal numbers (exit code 128+n after a signal).
import { constants } from 'node:os';

export function signalNumber(sig: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[sig] ?? 15;
}

// Rows for policy/v1 poddisruptionbudgets, with upstream's columns (kubectl get pdb).
import { age } from './format.js';
import { ageColumn, column, nameColumn, type Printer } from './types.js';

function budgetCell(v: unknown): string {
  return v === undefined || v === null ? 'N/A' : String(v);
}

export const podDisruptionBudgetPrinter: Printer = {
  columns: [
    nameColumn,
    column('Min Available', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.', { type: 'integer' }),
    ageColumn,
  ],
  row: (p, now) => ({
    cells: [p.metadata?.name ?? '', budgetCell(p.spec?.minAvailable), budgetCell(p.spec?.maxUnavailable), p.status?.disruptionsAllowed ?? 0, age(p.metadata?.creationTimestamp, now)],
  }),
};

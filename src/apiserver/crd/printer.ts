// Table rows of a custom resource from its CRD's additionalPrinterColumns, with the rules of
// kube-apiserver's CRD table convertor: NAME first, then each column's first JSONPath result
// (strings as text, other values as JSON, dates as ages, integers and numbers as numbers, a
// missing value as an empty cell); a CRD without columns prints NAME and AGE.
import type { CustomResourceColumn } from '../../api/crd/types.js';
import { age } from '../present/tables/format.js';
import { nameColumn, type Cell, type ColumnDefinition, type Json, type Printer } from '../present/tables/types.js';

const STEP = /\.([A-Za-z0-9_-]+)|\[\*\]|\[(\d+)\]|\['([^']+)'\]|\[\?\(@\.([A-Za-z0-9_-]+)\s*==\s*(?:"([^"]*)"|'([^']*)')\)\]/gy;

/** The parsed steps of a simple JSONPath (`.a.b`, `.a[*].b`, `.a[0]`, `.a['b.c']`, `.a[?(@.type=="X")].b`), or undefined. */
export function parseJsonPath(path: string): ((v: unknown) => unknown[])[] | undefined {
  const text = path.trim().replace(/^\{(.*)\}$/, '$1');
  const steps: ((v: unknown) => unknown[])[] = [];
  STEP.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    STEP.lastIndex = at;
    const m = STEP.exec(text);
    if (!m) return undefined;
    at = STEP.lastIndex;
    const [whole, field, index, quoted, filterKey, dq, sq] = m;
    const key = field ?? quoted;
    if (key !== undefined) steps.push((v) => (v && typeof v === 'object' && !Array.isArray(v) && (v as Record<string, unknown>)[key] !== undefined ? [(v as Record<string, unknown>)[key]] : []));
    else if (index !== undefined) steps.push((v) => (Array.isArray(v) && Number(index) < v.length ? [v[Number(index)]] : []));
    else if (whole === '[*]') steps.push((v) => (Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : []));
    else {
      const want = dq ?? sq;
      steps.push((v) => (Array.isArray(v) ? v.filter((x) => x && typeof x === 'object' && (x as Record<string, unknown>)[filterKey] === want) : []));
    }
  }
  return steps;
}

export function evalJsonPath(obj: unknown, path: string): unknown[] {
  const steps = parseJsonPath(path);
  if (!steps) return [];
  let current: unknown[] = [obj];
  for (const step of steps) current = current.flatMap(step);
  return current;
}

function cell(col: CustomResourceColumn, obj: Json, now: number): Cell {
  const results = evalJsonPath(obj, col.jsonPath);
  if (results.length === 0 || results[0] === null || results[0] === undefined) return null;
  const value = results[0];
  switch (col.type) {
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? value : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? age(value, now) : null;
    default:
      return null;
  }
}

const AGE: CustomResourceColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export function customResourcePrinter(columns: CustomResourceColumn[]): Printer {
  const cols = columns.length > 0 ? columns : [AGE];
  const defs: ColumnDefinition[] = [
    nameColumn,
    ...cols.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? `Custom resource definition column (in JSONPath format): ${c.jsonPath}`, priority: c.priority ?? 0 })),
  ];
  return { columns: defs, row: (obj, now) => ({ cells: [obj.metadata?.name ?? '', ...cols.map((c) => cell(c, obj, now))] }) };
}

/** `kubectl get crd`: NAME and CREATED AT, as upstream prints CustomResourceDefinitions. */
export const customResourceDefinitionPrinter: Printer = {
  columns: [nameColumn, { name: 'Created At', type: 'date', format: '', description: 'The time the CustomResourceDefinition was created.', priority: 0 }],
  row: (obj) => ({ cells: [obj.metadata?.name ?? '', obj.metadata?.creationTimestamp ?? null] }),
};

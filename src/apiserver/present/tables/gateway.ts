// Rows for gateway.networking.k8s.io kinds, from their CRDs' additionalPrinterColumns, with the
// cell rules of the CRD table convertor: the first JSONPath result; strings printed as text,
// arrays and objects as JSON; dates as ages; a missing value is a null cell.
import { GATEWAY_API_GROUP } from '../../../api/resources.js';
import { age } from './format.js';
import { nameColumn, type Cell, type ColumnDefinition, type Json, type Printer } from './types.js';

interface CrdColumn {
  name: string;
  type: 'string' | 'date' | 'integer' | 'number' | 'boolean';
  jsonPath: string;
  priority?: number;
}

/**
 * Evaluate the JSONPath subset the Gateway API CRDs use: `.a.b`, `.a[*].b` and
 * `.a[?(@.type=="X")].b`. Returns every match in order.
 */
export function evalJsonPath(obj: Json, path: string): unknown[] {
  const steps = path.match(/\.[A-Za-z0-9_]+|\[\*\]|\[\?\(@\.[A-Za-z0-9_]+=="[^"]*"\)\]/g) ?? [];
  let current: unknown[] = [obj];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (v === null || v === undefined) continue;
      if (step.startsWith('.')) {
        const field = (v as Record<string, unknown>)[step.slice(1)];
        if (field !== undefined) next.push(field);
      } else if (step === '[*]') {
        if (Array.isArray(v)) next.push(...v);
      } else {
        const m = /^\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\]$/.exec(step)!;
        if (Array.isArray(v)) next.push(...v.filter((x) => x && (x as Record<string, unknown>)[m[1]] === m[2]));
      }
    }
    current = next;
  }
  return current;
}

function cellFor(col: CrdColumn, obj: Json, now: number): Cell {
  const results = evalJsonPath(obj, col.jsonPath);
  if (results.length === 0 || results[0] === null) return null;
  const value = results[0];
  switch (col.type) {
    case 'date':
      return age(value, now);
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'integer':
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
  }
}

const ageCol: CrdColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** additionalPrinterColumns of the Gateway API v1.6.1 standard-channel CRDs, by plural. */
const crdColumns: Record<string, CrdColumn[]> = {
  gatewayclasses: [
    { name: 'Controller', type: 'string', jsonPath: '.spec.controllerName' },
    { name: 'Accepted', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].status' },
    ageCol,
    { name: 'Description', type: 'string', jsonPath: '.spec.description', priority: 1 },
  ],
  gateways: [
    { name: 'Class', type: 'string', jsonPath: '.spec.gatewayClassName' },
    { name: 'Address', type: 'string', jsonPath: '.status.addresses[*].value' },
    { name: 'Programmed', type: 'string', jsonPath: '.status.conditions[?(@.type=="Programmed")].status' },
    ageCol,
  ],
  httproutes: [{ name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' }, ageCol],
  grpcroutes: [{ name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' }, ageCol],
  tlsroutes: [ageCol],
  tcproutes: [ageCol],
  udproutes: [ageCol],
  referencegrants: [ageCol],
};

function printerFor(columns: CrdColumn[]): Printer {
  const defs: ColumnDefinition[] = [
    nameColumn,
    ...columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: '',
      description: `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
      priority: c.priority ?? 0,
    })),
  ];
  return {
    columns: defs,
    row: (obj, now) => ({ cells: [obj.metadata?.name ?? '', ...columns.map((c) => cellFor(c, obj, now))] }),
  };
}

export const gatewayPrinters: Record<string, Printer> = Object.fromEntries(
  Object.entries(crdColumns).map(([plural, cols]) => [`${GATEWAY_API_GROUP}/${plural}`, printerFor(cols)]),
);

// Unknown-field detection for fieldValidation=Strict/Warn: the paths upstream's strict decoder reports
// (`spec.foo`, `spec.containers[0].bogus`), which the API server words as `unknown field "<path>"`.
import type { ResourceInfo } from '../resources.js';
import type { KubeObject } from '../types.js';
import { schemaFor } from './index.js';
import type { FieldType } from './types.js';

function walk(value: unknown, ft: FieldType, at: string, out: string[]): void {
  if (value === null || value === undefined) return;
  switch (ft.t) {
    case 'scalar':
    case 'any':
      return;
    case 'map':
      if (typeof value === 'object' && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) walk(v, ft.value, `${at}[${k}]`, out);
      }
      return;
    case 'list':
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, ft.item, `${at}[${i}]`, out));
      return;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return;
      const fields = ft.ref().fields;
      for (const [k, v] of Object.entries(value)) {
        const child = at === '' ? k : `${at}.${k}`;
        const sub = fields[k];
        if (!sub) out.push(child);
        else walk(v, sub, child, out);
      }
    }
  }
}

export function unknownFields(r: Pick<ResourceInfo, 'kind'>, obj: KubeObject | Record<string, unknown>): string[] {
  const ft = schemaFor(r);
  if (!ft) return [];
  const out: string[] = [];
  walk(obj, ft, '', out);
  return out;
}

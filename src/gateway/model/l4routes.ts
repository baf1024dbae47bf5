// TLSRoute (passthrough by SNI), TCPRoute and UDPRoute -> weighted backends. These routes carry
// no matches: every rule's backendRefs together share the connections by weight.
import type { KubeObject } from '../../api/types.js';
import type { WeightedBackend } from '../config.js';
import type { BackendResolver } from './backends.js';
import type { Problem } from './conditions.js';
import { asArray, asRecord, namespaceOf, specOf } from './objects.js';

export interface L4Translation {
  backends: WeightedBackend[];
  refProblem?: Problem;
}

export function translateL4Route(kind: 'TLSRoute' | 'TCPRoute' | 'UDPRoute', route: KubeObject, resolver: BackendResolver): L4Translation {
  const out: L4Translation = { backends: [] };
  const namespace = namespaceOf(route);
  const transport = kind === 'UDPRoute' ? 'UDP' : 'TCP';
  for (const rule of asArray(specOf(route).rules)) {
    for (const ref of asArray(asRecord(rule).backendRefs)) {
      const resolved = resolver.resolve(kind, namespace, ref, { protocol: 'http', transport });
      if (resolved.problem) out.refProblem ??= resolved.problem;
      if (resolved.backend.weight > 0) out.backends.push(resolved.backend);
    }
  }
  return out;
}

// PodSecurity admission over a store: the namespace labels and pods it reads come straight from
// the store, so the step sees every write before it in the same synchronous order.
import { R } from '../../../api/resources.js';
import type { Store } from '../../../store/types.js';
import { PodSecurityAdmission } from './admission.js';
import { FLATNET_DEFAULTS, type Policy } from './policy.js';

export { podSecurityMetrics } from './metrics.js';
export { parseDefaultPolicy, systemNamespaceLabels, type Policy } from './policy.js';

const key = (r: { group: string; plural: string }) => `${r.group}/${r.plural}`;

export function podSecurityOverStore(store: Store, defaults: Policy = FLATNET_DEFAULTS): PodSecurityAdmission {
  return new PodSecurityAdmission(
    {
      namespaceLabels: (ns) => {
        const entry = store.get(key(R.namespaces), '', ns);
        return entry ? (entry.obj.metadata.labels ?? {}) : undefined;
      },
      podsIn: (ns) => store.list(key(R.pods), { ns }).entries.map((e) => e.obj),
    },
    defaults,
  );
}

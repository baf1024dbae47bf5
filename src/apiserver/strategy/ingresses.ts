// Ingresses (upstream pkg/registry/networking/ingress): metadata.generation counts spec changes,
// and a new Ingress that names no class gets the default IngressClass (the DefaultIngressClass
// admission plugin).
import { R } from '../../api/resources.js';
import { admitDefaultIngressClass } from '../default-ingress-class.js';
import { storeKey } from '../registry.js';
import { withGeneration } from './default.js';
import type { ResourceStrategy } from './types.js';

export const ingressStrategy: ResourceStrategy = {
  ...withGeneration(),
  admitCreate(env, _ns, obj) {
    admitDefaultIngressClass(obj, env.store.list(storeKey(R.ingressclasses)).entries.map((e) => e.obj));
  },
};

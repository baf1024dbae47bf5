// The DefaultIngressClass admission rule, as kube-apiserver's plugin of that name: a new Ingress
// that names no class (neither spec.ingressClassName nor the legacy kubernetes.io/ingress.class
// annotation) gets the IngressClass annotated ingressclass.kubernetes.io/is-default-class: "true".
// With several defaults the newest wins (equal creation times: the first name). Only creates are
// defaulted; an update never changes the class.
import type { KubeObject } from '../api/types.js';

export const IS_DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The default IngressClass among `classes`, or undefined when none is marked default. */
export function defaultIngressClass(classes: readonly KubeObject[]): KubeObject | undefined {
  const defaults = classes.filter((c) => c.metadata.annotations?.[IS_DEFAULT_CLASS_ANNOTATION] === 'true' && !c.metadata.deletionTimestamp);
  defaults.sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    if (ta !== tb) return tb - ta;
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  });
  return defaults[0];
}

/** Sets spec.ingressClassName of a new Ingress that names no class; answers the class it set. */
export function admitDefaultIngressClass(ingress: KubeObject, classes: readonly KubeObject[]): string | undefined {
  const spec = (ingress.spec ?? {}) as { ingressClassName?: string | null };
  if (spec.ingressClassName) return undefined;
  if (ingress.metadata.annotations?.[LEGACY_INGRESS_CLASS_ANNOTATION] !== undefined) return undefined;
  const name = defaultIngressClass(classes)?.metadata.name;
  if (!name) return undefined;
  ingress.spec = { ...spec, ingressClassName: name };
  return name;
}

// Which Ingresses this controller serves: those whose class (spec.ingressClassName, else the
// legacy kubernetes.io/ingress.class annotation) names an IngressClass whose spec.controller is
// flatnet's or ingress-nginx's, or is `nginx` or `flatnet` when no IngressClass of that name
// exists. An Ingress without any class is not served: the API server's DefaultIngressClass
// admission gives new Ingresses the default class.
import type { KubeObject } from '../../api/types.js';
import { asRecord, asString } from '../model/objects.js';
import { INGRESS_CONTROLLER_NAME, NGINX_INGRESS_CONTROLLER_NAME } from './types.js';

export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
/** Class names served even when no IngressClass object carries them. */
export const IMPLICIT_CLASS_NAMES: readonly string[] = ['nginx', 'flatnet'];
const SERVED_CONTROLLERS: readonly string[] = [INGRESS_CONTROLLER_NAME, NGINX_INGRESS_CONTROLLER_NAME];

/** The class an Ingress names, or undefined. */
export function ingressClassOf(ingress: KubeObject): string | undefined {
  const fromSpec = asString(asRecord(ingress.spec).ingressClassName);
  if (fromSpec) return fromSpec;
  const legacy = ingress.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  return legacy ? legacy : undefined;
}

/** The class names this controller serves, given the IngressClass objects that exist. */
export function servedClassNames(classes: readonly KubeObject[]): Set<string> {
  const served = new Set<string>();
  const existing = new Set<string>();
  for (const c of classes) {
    const name = c.metadata.name;
    if (!name || c.metadata.deletionTimestamp) continue;
    existing.add(name);
    if (SERVED_CONTROLLERS.includes(asString(asRecord(c.spec).controller) ?? '')) served.add(name);
  }
  for (const name of IMPLICIT_CLASS_NAMES) if (!existing.has(name)) served.add(name);
  return served;
}

export function isServedIngress(ingress: KubeObject, served: ReadonlySet<string>): boolean {
  const cls = ingressClassOf(ingress);
  return cls !== undefined && served.has(cls) && !ingress.metadata.deletionTimestamp;
}

// Names and labels of what the gateway controller provisions. A Gateway's proxy Deployment and
// Service are `<gateway>-<gatewayclass>` (the GEP-1762 convention); a name longer than a DNS label
// is cut and given a short hash of the whole, so two long names never collide.
import { fnv32a } from '../../controllers/names.js';

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'flatnet';
export const APP_NAME_LABEL = 'app.kubernetes.io/name';
/** On provisioned objects: a hash of what the controller wants, so a change is seen without diffing defaulted fields. */
export const SPEC_HASH_ANNOTATION = 'gateway.flatnet.dev/spec-hash';

export const INGRESS_NAMESPACE = 'flatnet-system';
export const INGRESS_PROXY_NAME = 'flatnet-ingress';

const MAX_LABEL = 63;
const HASH_LEN = 8;

/** `name` when it fits in 63 characters, else its first characters, `-` and an 8-hex-digit hash of the whole. */
export function fitLabel(name: string): string {
  if (name.length <= MAX_LABEL) return name;
  const hash = fnv32a(name).toString(16).padStart(HASH_LEN, '0');
  const head = name.slice(0, MAX_LABEL - HASH_LEN - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}`;
}

/** The Deployment and Service of a Gateway's proxy. */
export function provisionedName(gatewayName: string, gatewayClassName: string): string {
  return fitLabel(`${gatewayName}-${gatewayClassName}`);
}

/** The Secret holding a proxy's token and the cluster CA. */
export function tokenSecretName(proxyName: string): string {
  return `${proxyName}-proxy-token`;
}

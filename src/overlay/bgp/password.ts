// A BGPPeer's TCP MD5 password lives in a Secret, never in the BGPPeer: `spec.password.secretKeyRef
// {name, key}` names a key of a Secret in kube-system, the namespace of flatnet's node components
// (Calico's BGPPeer has the same field, read from calico-node's namespace). Each node's agent reads
// the Secret with its own node credentials; the Node authorizer lets a node get exactly the Secrets
// that BGPPeers selecting it name (src/apiserver/node-identity/node-authorizer.ts). An inline
// string is refused: whoever may read BGPPeers (every node, every viewer) would read the key.
// Messages name the Secret and key, never the value. Pure.
import type { KubeObject } from '../../api/types.js';
import { labelSelectorMatches, type LabelSelector } from '../../api/label-selector.js';
import { MAX_PASSWORD_BYTES } from './md5-connect.js';

/** Where the Secrets of BGP passwords live. */
export const BGP_PASSWORD_NAMESPACE = 'kube-system';

export interface PasswordSecretRef {
  name: string;
  key: string;
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `password` (a BGPPeer's spec.password) cannot be used, naming the field; undefined when it can (or is absent). */
export function passwordProblem(password: unknown): string | undefined {
  if (password === undefined) return undefined;
  if (typeof password === 'string') {
    return `spec.password: Invalid value: an inline password is not accepted (whoever reads BGPPeers would read it): put it in a Secret in ${BGP_PASSWORD_NAMESPACE} and set spec.password.secretKeyRef {name, key}`;
  }
  if (password === null || typeof password !== 'object' || Array.isArray(password)) return 'spec.password: Invalid value: must be an object with secretKeyRef {name, key}';
  const ref = (password as { secretKeyRef?: unknown }).secretKeyRef;
  if (ref === null || typeof ref !== 'object' || Array.isArray(ref)) return 'spec.password.secretKeyRef: Required value: {name, key} of a Secret in ' + BGP_PASSWORD_NAMESPACE;
  const { name, key } = ref as { name?: unknown; key?: unknown };
  if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) return `spec.password.secretKeyRef.name: Invalid value: ${JSON.stringify(name)}: must be the name of a Secret (a DNS subdomain)`;
  if (typeof key !== 'string' || key.length > 253 || !SECRET_KEY.test(key)) return `spec.password.secretKeyRef.key: Invalid value: ${JSON.stringify(key)}: must be a Secret key (letters, digits, '-', '_', '.')`;
  return undefined;
}

/** The Secret key a valid spec.password refers to. */
export function passwordSecretRef(password: unknown): PasswordSecretRef | undefined {
  if (password === undefined || passwordProblem(password) !== undefined) return undefined;
  const { name, key } = (password as { secretKeyRef: PasswordSecretRef }).secretKeyRef;
  return { name, key };
}

/** The password a Secret holds under `ref.key`, or why it cannot be used (the value is never in the message). */
export function passwordFromSecret(secret: KubeObject | undefined, ref: PasswordSecretRef): { password: string } | { problem: string } {
  const where = `spec.password.secretKeyRef: Secret ${BGP_PASSWORD_NAMESPACE}/${ref.name}`;
  if (!secret) return { problem: `${where} not found` };
  const encoded = (secret as { data?: Record<string, unknown> }).data?.[ref.key];
  if (typeof encoded !== 'string') return { problem: `${where} has no key "${ref.key}"` };
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length === 0) return { problem: `${where} key "${ref.key}" is empty` };
  if (bytes.length > MAX_PASSWORD_BYTES) return { problem: `${where} key "${ref.key}" is too long: ${bytes.length} bytes, the TCP MD5 key may have at most ${MAX_PASSWORD_BYTES}` };
  return { password: bytes.toString('utf8') };
}

/**
 * Whether a node labelled `nodeLabels` may read Secret `namespace/name` for its BGP sessions: some
 * BGPPeer that selects the node names it as its password (the Node authorizer's rule).
 */
export function secretIsBgpPasswordOf(peers: readonly KubeObject[], nodeLabels: Record<string, string> | undefined, namespace: string, name: string): boolean {
  if (namespace !== BGP_PASSWORD_NAMESPACE || !name) return false;
  return peers.some((p) => {
    const spec = p.spec as { password?: unknown; nodeSelector?: LabelSelector } | undefined;
    if (passwordSecretRef(spec?.password)?.name !== name) return false;
    try {
      return labelSelectorMatches(spec?.nodeSelector ?? {}, nodeLabels ?? {});
    } catch {
      return false;
    }
  });
}

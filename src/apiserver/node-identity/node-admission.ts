// Admission for writes that depend on the object, not only on the request's path: a new
// CertificateSigningRequest gets its requestor from the authenticated user (every user), and a
// node identity may create only its own Node and Lease and may not move a pod to another node
// (NodeRestriction).
import { R, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { RequestUser } from '../authorize.js';
import { errors } from '../errors.js';
import { stampRequestor } from './csr-admission.js';
import { nodeNameOf } from './node-authorizer.js';

export type IdentityWriteAdmission = (r: ResourceInfo, obj: KubeObject, old?: KubeObject) => void;

/** The checks for writes by `user`, or undefined when none apply to this path. */
export function identityWriteAdmission(user: RequestUser, pathname: string): IdentityWriteAdmission | undefined {
  const node = nodeNameOf(user);
  if (node === undefined && !pathname.startsWith('/apis/certificates.k8s.io/')) return undefined;
  return (r, obj, old) => {
    if (r === R.certificatesigningrequests && !old) stampRequestor(user, obj);
    if (node === undefined) return;
    const name = obj.metadata.name ?? '';
    const refuse = (why: string) => {
      throw errors.forbidden(r, name, why);
    };
    if (r === R.nodes && name !== node) refuse(`node "${node}" is not allowed to modify node "${name}"`);
    if (r === R.leases && name !== node) refuse(`node "${node}" is not allowed to modify lease "${obj.metadata.namespace}/${name}"`);
    if (r === R.pods && old) {
      const was = (old.spec as { nodeName?: string } | undefined)?.nodeName;
      const now = (obj.spec as { nodeName?: string } | undefined)?.nodeName;
      if (was !== node || now !== node) refuse(`node "${node}" can only update pods bound to it`);
    }
  };
}

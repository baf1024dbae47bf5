// The CertificateApproval admission plugin, as kube-apiserver 1.32's: a write to a
// CertificateSigningRequest's approval subresource needs, besides update on
// certificatesigningrequests/approval, the `approve` verb on certificates.k8s.io `signers` named
// after the request's signerName (or `<domain>/*` for every signer of that domain).
import { R, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { RequestAttributes } from '../authorize.js';
import { errors } from '../errors.js';

const APPROVAL_PATH = /^\/apis\/certificates\.k8s\.io\/v1\/certificatesigningrequests\/[^/]+\/approval\/?$/;

/** Whether the user may `approve` for the signer (its own name, or `<domain>/*`). */
export function mayApprove(signerName: string, allowed: (attrs: RequestAttributes) => boolean): boolean {
  const ask = (name: string) => allowed({ resourceRequest: true, verb: 'approve', apiGroup: 'certificates.k8s.io', resource: 'signers', subresource: '', namespace: '', name });
  if (ask(signerName)) return true;
  const slash = signerName.indexOf('/');
  return slash > 0 && ask(`${signerName.slice(0, slash)}/*`);
}

/** The admission check of an approval write at `pathname`, or undefined for any other path. */
export function certificateApprovalAdmission(pathname: string, allowed: (attrs: RequestAttributes) => boolean): ((r: ResourceInfo, obj: KubeObject, old?: KubeObject) => void) | undefined {
  if (!APPROVAL_PATH.test(pathname)) return undefined;
  return (r, obj, old) => {
    if (r !== R.certificatesigningrequests) return;
    // The stored spec is what the approval applies to (the subresource never changes it).
    const signerName = String(((old ?? obj).spec as { signerName?: unknown } | undefined)?.signerName ?? '');
    if (!mayApprove(signerName, allowed)) throw errors.forbidden(r, obj.metadata.name ?? '', `user not permitted to approve requests with signerName ${JSON.stringify(signerName)}`);
  };
}

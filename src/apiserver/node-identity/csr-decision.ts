// What the server does with a CertificateSigningRequest, as kube-controller-manager's csrapproving
// and csrsigning controllers do for kubelets: approve and sign a node client certificate
// (kubernetes.io/kube-apiserver-client-kubelet) asked for by a bootstrap token or by the node
// itself (renewal), and a node serving certificate (kubernetes.io/kubelet-serving) asked for by
// the node itself; refuse (Failed) a request for one of those signers that does not have the shape
// upstream requires; leave every other signer's requests alone. Pure: the caller signs and stores.
import type { KubeObject } from '../../api/types.js';
import { GROUP_BOOTSTRAPPERS } from './bootstrap-token.js';
import { type ParsedRequest, RequestError, type Usage, parseCertificateRequest } from './pki.js';

export const SIGNER_KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
export const SIGNER_KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
export const NODE_USER_PREFIX = 'system:node:';
export const GROUP_NODES = 'system:nodes';
/** kube-controller-manager's --cluster-signing-duration default. */
export const MAX_CERTIFICATE_SECONDS = 365 * 86400;
export const MIN_CERTIFICATE_SECONDS = 600;

export interface CsrSpec {
  request?: string;
  signerName?: string;
  expirationSeconds?: number;
  usages?: string[];
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface CsrCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export type CsrDecision =
  | { action: 'ignore' }
  | { action: 'fail'; reason: string; message: string }
  | { action: 'sign'; request: ParsedRequest; usages: Usage[]; notAfter: Date; approvalMessage: string };

/**
 * Upstream's ValidateKubeletClientCSR/ValidateKubeletServingCSR: the usages are exactly these, with
 * or without "key encipherment" (the kubelet leaves it out for an ECDSA key).
 */
function usagesMatch(usages: string[], purpose: 'client auth' | 'server auth'): boolean {
  const set = new Set(usages);
  if (set.size !== usages.length || !set.has('digital signature') || !set.has(purpose)) return false;
  return set.size === 2 || (set.size === 3 && set.has('key encipherment'));
}

function decodeRequest(spec: CsrSpec): ParsedRequest {
  if (typeof spec.request !== 'string' || spec.request === '') throw new RequestError('spec.request: Required value');
  return parseCertificateRequest(Buffer.from(spec.request, 'base64').toString('utf8'));
}

function conditionsOf(csr: KubeObject): CsrCondition[] {
  return ((csr.status as { conditions?: CsrCondition[] } | undefined)?.conditions ?? []) as CsrCondition[];
}

/** Whether the request already has an outcome (a certificate, or a Denied/Failed condition). */
export function isFinished(csr: KubeObject): boolean {
  if ((csr.status as { certificate?: string } | undefined)?.certificate) return true;
  return conditionsOf(csr).some((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status === 'True');
}

function notAfter(spec: CsrSpec, now: Date): Date {
  const asked = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : MAX_CERTIFICATE_SECONDS;
  const seconds = Math.min(Math.max(asked, MIN_CERTIFICATE_SECONDS), MAX_CERTIFICATE_SECONDS);
  return new Date(now.getTime() + seconds * 1000);
}

export function decideCsr(csr: KubeObject, now = new Date()): CsrDecision {
  const spec = (csr.spec ?? {}) as CsrSpec;
  if (spec.signerName !== SIGNER_KUBELET_CLIENT && spec.signerName !== SIGNER_KUBELET_SERVING) return { action: 'ignore' };
  if (isFinished(csr)) return { action: 'ignore' };
  const fail = (message: string): CsrDecision => ({ action: 'fail', reason: 'SignerValidationFailure', message });
  let req: ParsedRequest;
  try {
    req = decodeRequest(spec);
  } catch (err) {
    return fail((err as Error).message);
  }
  const usages = spec.usages ?? [];
  if (!req.commonName.startsWith(NODE_USER_PREFIX) || req.commonName.length === NODE_USER_PREFIX.length) return fail(`subject common name must start with "${NODE_USER_PREFIX}" and name a node (got ${JSON.stringify(req.commonName)})`);
  if (req.organizations.length !== 1 || req.organizations[0] !== GROUP_NODES) return fail(`subject organization must be exactly ["${GROUP_NODES}"] (got ${JSON.stringify(req.organizations)})`);
  if (req.otherNames.length > 0) return fail('email and URI subject alternative names are not allowed');
  const requestor = spec.username ?? '';
  const groups = spec.groups ?? [];
  if (spec.signerName === SIGNER_KUBELET_CLIENT) {
    if (req.dnsNames.length > 0 || req.ips.length > 0) return fail('a kubelet client certificate may not have DNS or IP subject alternative names');
    if (!usagesMatch(usages, 'client auth')) return fail(`spec.usages must be "digital signature" and "client auth", with or without "key encipherment" (got ${JSON.stringify(usages)})`);
    const renewal = requestor === req.commonName;
    const bootstrap = groups.includes(GROUP_BOOTSTRAPPERS);
    if (!renewal && !bootstrap) return { action: 'ignore' };
    return {
      action: 'sign',
      request: req,
      usages: usages as Usage[],
      notAfter: notAfter(spec, now),
      approvalMessage: renewal ? 'Auto approving self kubelet client certificate after SubjectAccessReview.' : 'Auto approving kubelet client certificate after SubjectAccessReview.',
    };
  }
  if (req.dnsNames.length === 0 && req.ips.length === 0) return fail('a kubelet serving certificate needs at least one DNS or IP subject alternative name');
  if (!usagesMatch(usages, 'server auth')) return fail(`spec.usages must be "digital signature" and "server auth", with or without "key encipherment" (got ${JSON.stringify(usages)})`);
  // Only the node itself may ask for its serving certificate.
  if (requestor !== req.commonName || !groups.includes(GROUP_NODES)) return { action: 'ignore' };
  return { action: 'sign', request: req, usages: usages as Usage[], notAfter: notAfter(spec, now), approvalMessage: 'Auto approving kubelet serving certificate requested by the node itself.' };
}

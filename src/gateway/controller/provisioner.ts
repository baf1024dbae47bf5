// Applies the proxy objects of infra-plan.ts through the API: creates what is missing, updates
// what changed (the Service in place, so it keeps its address), (re)mints the token Secret only
// when it is missing or no longer verifies, and deletes proxies nobody wants any more. Conflicts
// and already-exists answers mean the cache is behind; the informer's next event runs it again.
import { R, type ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import { type KubeClient, isAlreadyExists, isConflict } from '../../client/client.js';
import { mintProxyToken, verifyProxyToken } from '../proxy-identity.js';
import { proxyObjectUpdate, tokenSecret, type ProxyObjects } from './infra-plan.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from './names.js';

export interface ProvisionerOptions {
  dataDir: string;
  caPem: string;
}

/** Looks an object up in the informer caches. */
export type CacheLookup = (r: ResourceInfo, namespace: string, name: string) => KubeObject | undefined;

export class Provisioner {
  constructor(
    private readonly client: KubeClient,
    private readonly lookup: CacheLookup,
    private readonly opts: ProvisionerOptions,
  ) {}

  /** Creates or updates a proxy's Secret, Deployment and Service; answers a problem to report, if any. */
  async ensure(p: ProxyObjects, ownerUid?: string): Promise<string | undefined> {
    for (const [r, name] of [
      [R.deployments, p.name],
      [R.services, p.name],
      [R.secrets, p.secretName],
    ] as const) {
      const current = this.lookup(r, p.namespace, name);
      if (current && ownerUid && !isControlledBy(current, ownerUid)) {
        return `${r.kind} ${p.namespace}/${name} exists and is not controlled by this Gateway; rename or delete it so flatnet can provision the proxy`;
      }
    }
    await this.ensureSecret(p);
    await this.apply(R.deployments, p.deployment);
    await this.apply(R.services, p.service);
    return undefined;
  }

  private async ensureSecret(p: ProxyObjects): Promise<void> {
    const current = this.lookup(R.secrets, p.namespace, p.secretName);
    const data = (current?.data ?? {}) as Record<string, string>;
    const token = data.token ? Buffer.from(data.token, 'base64').toString('utf8') : '';
    const ca = data['ca.crt'] ? Buffer.from(data['ca.crt'], 'base64').toString('utf8') : '';
    const subject = { namespace: p.namespace, name: p.name };
    const valid = token !== '' && verifyProxyToken(this.opts.dataDir, token)?.username === `system:serviceaccount:${subject.namespace}:${subject.name}`;
    if (current && valid && ca === this.opts.caPem) return;
    const desired = tokenSecret(p, valid ? token : mintProxyToken(this.opts.dataDir, subject), this.opts.caPem);
    if (!current) return this.create(R.secrets, desired);
    await this.update(R.secrets, { ...current, metadata: { ...current.metadata, labels: desired.metadata.labels }, type: current.type, data: desired.data });
  }

  private async apply(r: ResourceInfo, desired: KubeObject): Promise<void> {
    const current = this.lookup(r, desired.metadata.namespace ?? '', desired.metadata.name ?? '');
    if (!current) return this.create(r, desired);
    const next = proxyObjectUpdate(current, desired);
    if (next) await this.update(r, next);
  }

  /** Deletes a proxy's objects that flatnet manages (others of the same name are left alone). */
  async remove(namespace: string, name: string, secretName: string): Promise<void> {
    for (const [r, n] of [
      [R.services, name],
      [R.deployments, name],
      [R.secrets, secretName],
    ] as const) {
      const current = this.lookup(r, namespace, n);
      if (current && current.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && !current.metadata.deletionTimestamp) {
        await this.client.delete(r, namespace, n, { preconditions: { uid: current.metadata.uid } }).catch((err: unknown) => {
          if (!isConflict(err)) throw err;
        });
      }
    }
  }

  /** Creates the namespace when the cache does not have it. */
  async ensureNamespace(name: string): Promise<void> {
    if (this.lookup(R.namespaces, '', name)) return;
    await this.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } } });
  }

  private async create(r: ResourceInfo, obj: KubeObject): Promise<void> {
    try {
      await this.client.create(r, obj);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  private async update(r: ResourceInfo, obj: KubeObject): Promise<void> {
    try {
      await this.client.update(r, obj);
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}

export function isControlledBy(obj: KubeObject, ownerUid: string): boolean {
  return (obj.metadata.ownerReferences ?? []).some((o) => o.controller && o.uid === ownerUid);
}

// LoadBalancer addresses for a cluster without a cloud: Services of type LoadBalancer get an
// address from a pool (status.loadBalancer.ingress[{ip, ipMode: VIP}]); spec.loadBalancerIP is
// honoured when it is in the pool and free; the address is released when the Service is deleted
// or stops being a LoadBalancer. The service proxy on every node then answers for the address
// (the lab routes the pool to the nodes). Services with spec.loadBalancerClass belong to another
// implementation and are left alone.
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { KubeClient } from '../client/client.js';
import { sharedInformer } from '../client/shared-informers.js';
import { createLogger } from '../util/log.js';

const log = createLogger('loadbalancer-ip');

/** The addresses of a pool CIDR a Service may get (network and broadcast addresses left out). */
export function poolAddresses(pool: string): { first: number; last: number; contains(ip: string): boolean } {
  const [base, bitsText] = pool.split('/');
  const bits = Number(bitsText ?? '32');
  const baseNum = ipToNumber(base);
  if (Number.isNaN(baseNum) || !(bits >= 8 && bits <= 32)) throw new Error(`load balancer pool "${pool}" is not an IPv4 CIDR such as 172.18.255.0/24`);
  const size = 2 ** (32 - bits);
  const network = baseNum - (baseNum % size);
  const first = size > 2 ? network + 1 : network;
  const last = size > 2 ? network + size - 2 : network + size - 1;
  return { first, last, contains: (ip: string) => isIPv4(ip) && ipToNumber(ip) >= first && ipToNumber(ip) <= last };
}

function isIPv4(s: unknown): s is string {
  return typeof s === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((o) => Number(o) <= 255);
}

function ipToNumber(ip: string): number {
  if (!isIPv4(ip)) return NaN;
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function numberToIP(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface LoadBalancerView {
  key: string;
  wantsAddress: boolean;
  requested?: string;
  current: string[];
}

export function viewOf(obj: KubeObject): LoadBalancerView {
  const spec = (obj.spec ?? {}) as Record<string, any>;
  const ingress = ((obj.status as any)?.loadBalancer?.ingress ?? []) as { ip?: string }[];
  return {
    key: `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`,
    wantsAddress: spec.type === 'LoadBalancer' && !spec.loadBalancerClass,
    requested: typeof spec.loadBalancerIP === 'string' && spec.loadBalancerIP !== '' ? spec.loadBalancerIP : undefined,
    current: ingress.map((i) => i.ip).filter(isIPv4),
  };
}

export type Decision = { kind: 'keep'; ip: string } | { kind: 'assign'; ip: string } | { kind: 'release'; ips: string[] } | { kind: 'pending'; reason: string } | { kind: 'none' };

/** The pool's bookkeeping: which Service holds which address. Pure apart from its own maps. */
export class AddressPool {
  private readonly holder = new Map<string, string>();
  private readonly range: ReturnType<typeof poolAddresses>;

  constructor(readonly cidr: string) {
    this.range = poolAddresses(cidr);
  }

  holderOf(ip: string): string | undefined {
    return this.holder.get(ip);
  }

  /** What to do for one Service now; records the allocation it decides. */
  decide(v: LoadBalancerView): Decision {
    const mine = v.current.filter((ip) => this.range.contains(ip));
    if (!v.wantsAddress) {
      this.releaseAll(v.key);
      return mine.length ? { kind: 'release', ips: mine } : { kind: 'none' };
    }
    if (v.requested) {
      if (!this.range.contains(v.requested)) return { kind: 'pending', reason: `spec.loadBalancerIP ${v.requested} is not in the pool ${this.cidr}: choose an address in the pool or leave it empty` };
      const owner = this.holder.get(v.requested);
      if (owner && owner !== v.key) return { kind: 'pending', reason: `spec.loadBalancerIP ${v.requested} is already used by Service ${owner}` };
      this.releaseAll(v.key);
      this.holder.set(v.requested, v.key);
      return mine.length === 1 && mine[0] === v.requested ? { kind: 'keep', ip: v.requested } : { kind: 'assign', ip: v.requested };
    }
    const held = mine.find((ip) => !this.holder.has(ip) || this.holder.get(ip) === v.key);
    if (held) {
      this.releaseAll(v.key);
      this.holder.set(held, v.key);
      return mine.length === 1 ? { kind: 'keep', ip: held } : { kind: 'assign', ip: held };
    }
    for (const [ip, key] of this.holder) if (key === v.key) return { kind: 'assign', ip };
    for (let n = this.range.first; n <= this.range.last; n++) {
      const ip = numberToIP(n);
      if (!this.holder.has(ip)) {
        this.holder.set(ip, v.key);
        return { kind: 'assign', ip };
      }
    }
    return { kind: 'pending', reason: `the load balancer pool ${this.cidr} has no free address` };
  }

  /** Records an address a Service already shows (at start, before deciding anything). */
  adopt(v: LoadBalancerView): void {
    if (!v.wantsAddress) return;
    for (const ip of v.current) if (this.range.contains(ip) && !this.holder.has(ip)) this.holder.set(ip, v.key);
  }

  releaseAll(key: string): void {
    for (const [ip, k] of this.holder) if (k === key) this.holder.delete(ip);
  }
}

export async function startLoadBalancerIPController(client: KubeClient, opts: { pool: string }): Promise<{ stop(): Promise<void> }> {
  const pool = new AddressPool(opts.pool);
  const services = sharedInformer(client, R.services);
  // Nothing is decided before the addresses Services already show have been adopted.
  let adopted!: () => void;
  let chain: Promise<void> = new Promise((resolve) => (adopted = resolve));
  let stopped = false;
  const pendingReason = new Map<string, string>();

  const reconcile = async (key: string): Promise<void> => {
    const [namespace, name] = key.split('/');
    const obj = services.get(namespace, name);
    if (!obj) {
      pool.releaseAll(key);
      return;
    }
    const d = pool.decide(viewOf(obj));
    const write = async (ingress: unknown[]) => {
      await client.patch(R.services, namespace, name, { status: { loadBalancer: { ingress } } }, 'merge', { subresource: 'status' });
    };
    switch (d.kind) {
      case 'assign':
        await write([{ ip: d.ip, ipMode: 'VIP' }]);
        log.info('assigned', { service: key, ip: d.ip });
        break;
      case 'release':
        await write([]);
        log.info('released', { service: key, ips: d.ips });
        break;
      case 'pending':
        if (pendingReason.get(key) !== d.reason) log.warn('no address for Service', { service: key, reason: d.reason });
        pendingReason.set(key, d.reason);
        return;
      default:
        break;
    }
    pendingReason.delete(key);
  };

  const enqueue = (key: string, attempt = 0): void => {
    chain = chain.then(async () => {
      if (stopped) return;
      try {
        await reconcile(key);
      } catch (err) {
        log.warn('reconcile failed; retrying', { service: key, err: (err as Error).message, attempt });
        setTimeout(() => enqueue(key, attempt + 1), Math.min(5000, 100 * 2 ** attempt)).unref();
      }
    });
  };
  const retryPending = () => {
    for (const key of pendingReason.keys()) enqueue(key);
  };

  services.addHandlers({
    add: (o) => enqueue(viewOf(o).key),
    update: (o) => enqueue(viewOf(o).key),
    delete: (o) => {
      const key = viewOf(o).key;
      chain = chain.then(() => {
        pool.releaseAll(key);
        pendingReason.delete(key);
        retryPending();
      });
    },
  });
  await services.start();
  // Addresses already shown by Services are theirs before anything new is handed out.
  for (const o of services.list()) pool.adopt(viewOf(o));
  adopted();
  return {
    async stop() {
      stopped = true;
      services.stop();
      await chain;
    },
  };
}

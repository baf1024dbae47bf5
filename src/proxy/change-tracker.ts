// Collects Service and EndpointSlice events into slim copies and remembers which Services
// changed since the last sync, so a sync re-renders only those (partial sync). Fed by informers
// in the agent and directly by tests and the bench.
import type { KubeObject } from '../api/types.js';
import { buildServicePorts, type ServicePortModel, type SlimEndpointSlice, type SlimService, slimEndpointSlice, slimService } from './model.js';

export class ServiceChangeTracker {
  private readonly services = new Map<string, SlimService>();
  /** slices by service key, then by slice name */
  private readonly slices = new Map<string, Map<string, SlimEndpointSlice>>();
  /** slice key -> service key it was filed under (a slice's label could change) */
  private readonly sliceOwner = new Map<string, string>();
  private dirty = new Set<string>();
  private listeners: (() => void)[] = [];

  constructor(private readonly nodeName: string) {}

  /** Called after every change; the proxy uses it to schedule a sync. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private markDirty(serviceKey: string): void {
    this.dirty.add(serviceKey);
    for (const fn of this.listeners) fn();
  }

  serviceUpdated(obj: KubeObject): void {
    const svc = slimService(obj);
    const key = `${svc.namespace}/${svc.name}`;
    const old = this.services.get(key);
    this.services.set(key, svc);
    if (!old || JSON.stringify(old) !== JSON.stringify(svc)) this.markDirty(key);
  }

  serviceDeleted(obj: KubeObject): void {
    const key = `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
    if (this.services.delete(key)) this.markDirty(key);
  }

  sliceUpdated(obj: KubeObject): void {
    const sliceKey = `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
    const slim = slimEndpointSlice(obj);
    const previousOwner = this.sliceOwner.get(sliceKey);
    if (!slim) {
      if (previousOwner) this.removeSlice(sliceKey, previousOwner);
      return;
    }
    const owner = `${slim.namespace}/${slim.serviceName}`;
    if (previousOwner && previousOwner !== owner) this.removeSlice(sliceKey, previousOwner);
    let bucket = this.slices.get(owner);
    if (!bucket) this.slices.set(owner, (bucket = new Map()));
    const old = bucket.get(slim.name);
    bucket.set(slim.name, slim);
    this.sliceOwner.set(sliceKey, owner);
    if (!old || JSON.stringify(old) !== JSON.stringify(slim)) this.markDirty(owner);
  }

  sliceDeleted(obj: KubeObject): void {
    const sliceKey = `${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
    const owner = this.sliceOwner.get(sliceKey);
    if (owner) this.removeSlice(sliceKey, owner);
  }

  private removeSlice(sliceKey: string, owner: string): void {
    const bucket = this.slices.get(owner);
    const name = sliceKey.slice(sliceKey.indexOf('/') + 1);
    bucket?.delete(name);
    if (bucket && bucket.size === 0) this.slices.delete(owner);
    this.sliceOwner.delete(sliceKey);
    this.markDirty(owner);
  }

  /** Marks a Service changed again (its sync failed). */
  requeue(serviceKey: string): void {
    this.dirty.add(serviceKey);
  }

  get pendingChanges(): number {
    return this.dirty.size;
  }

  /** The service ports of one Service now ([] when it is gone or gets no rules). */
  servicePorts(serviceKey: string): ServicePortModel[] {
    const svc = this.services.get(serviceKey);
    if (!svc) return [];
    return buildServicePorts(svc, this.slices.get(serviceKey)?.values() ?? [], this.nodeName);
  }

  /** Hands over the Services changed since the last call, each with its ports now. */
  takeChanges(): Map<string, ServicePortModel[]> {
    const out = new Map<string, ServicePortModel[]>();
    const dirty = this.dirty;
    this.dirty = new Set();
    for (const key of dirty) out.set(key, this.servicePorts(key));
    return out;
  }

  /** Every Service with its ports (for a full resync); also clears the change list. */
  takeAll(): Map<string, ServicePortModel[]> {
    this.dirty = new Set();
    const out = new Map<string, ServicePortModel[]>();
    for (const key of this.services.keys()) out.set(key, this.servicePorts(key));
    return out;
  }
}

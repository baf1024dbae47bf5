// Keeps the DNS model current from the API: informers for Services, EndpointSlices and
// Namespaces feed slim copies into the model. While the API server is away the informers keep
// their caches and retry, so DNS keeps answering from the last known state and catches up on
// the relist when the server returns.
import type { KubeClient } from '../client/client.js';
import { sharedInformer } from '../client/shared-informers.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import type { ClusterDnsModel } from './model.js';
import { slimEndpointSlice, slimPod, slimService } from './objects.js';

export interface ModelWatch {
  /** Resolves once every informer has listed once. */
  synced: Promise<void>;
  hasSynced(): boolean;
  /** Starts the Pod informer (for `pods verified`) if it is not running yet. */
  watchPods(): void;
  stop(): void;
}

/** Watches Services, EndpointSlices and Namespaces; Pods too when `withPods` (pods verified). */
export function watchCluster(client: KubeClient, model: ClusterDnsModel, withPods = false): ModelWatch {
  const services = sharedInformer<KubeObject>(client, R.services);
  const slices = sharedInformer<KubeObject>(client, R.endpointslices);
  const namespaces = sharedInformer<KubeObject>(client, R.namespaces);
  services.addHandlers({
    add: (o) => {
      const s = slimService(o);
      if (s) model.setService(s);
    },
    update: (o) => {
      const s = slimService(o);
      if (s) model.setService(s);
    },
    delete: (o) => {
      if (o.metadata.namespace && o.metadata.name) model.deleteService(o.metadata.namespace, o.metadata.name);
    },
  });
  slices.addHandlers({
    add: (o) => {
      const s = slimEndpointSlice(o);
      if (s) model.setEndpointSlice(s);
    },
    update: (o) => {
      const s = slimEndpointSlice(o);
      if (s) model.setEndpointSlice(s);
    },
    delete: (o) => {
      if (o.metadata.namespace && o.metadata.name) model.deleteEndpointSlice(o.metadata.namespace, o.metadata.name);
    },
  });
  namespaces.addHandlers({
    add: (o) => o.metadata.name && model.setNamespace(o.metadata.name),
    update: () => undefined,
    delete: (o) => o.metadata.name && model.deleteNamespace(o.metadata.name),
  });
  const informers = [services, slices, namespaces];
  let podsStarted = false;
  const watchPods = () => {
    if (podsStarted) return;
    podsStarted = true;
    const pods = sharedInformer<KubeObject>(client, R.pods);
    const setPod = (o: KubeObject) => {
      const p = slimPod(o);
      if (p) model.setPod(p);
    };
    pods.addHandlers({
      add: setPod,
      update: setPod,
      delete: (o) => o.metadata.namespace && o.metadata.name && model.deletePod(o.metadata.namespace, o.metadata.name),
    });
    informers.push(pods);
    return pods.start();
  };
  const started = informers.map((i) => i.start());
  if (withPods) started.push(watchPods() as Promise<void>);
  const synced = Promise.all(started).then(() => undefined);
  return {
    synced,
    hasSynced: () => informers.every((i) => i.hasSynced),
    watchPods: () => void watchPods(),
    stop: () => informers.forEach((i) => i.stop()),
  };
}

// The server's own health checks (health.ts runs them): the store read, the controllers'
// informers, and the order in which /livez and /readyz list them.
import { unsyncedInformers as unsyncedControllerInformers } from '../client/shared-informers.js';
import type { Store } from '../store/types.js';
import { HealthChecks, logCheck, pingCheck, type HealthCheck, type ShutdownState } from './health.js';

/** `etcd`, as upstream names its storage check whatever the backend: one cheap read of it. */
export function storeCheck(store: Pick<Store, 'check'>): HealthCheck {
  return { name: 'etcd', check: () => store.check?.() };
}

/** `informer-sync`: the informers of the controllers running in this process have synced. */
export const controllerInformersCheck: HealthCheck = {
  name: 'informer-sync',
  check: () => {
    const unsynced = unsyncedControllerInformers();
    if (unsynced.length > 0) throw new Error(`${unsynced.length} informers not started yet: [${unsynced.join(' ')}]`);
  },
};

/** ping, log and etcd for every endpoint; informer-sync and shutdown for readyz. */
export function serverHealthChecks(store: Pick<Store, 'check'>, shutdown: ShutdownState): HealthChecks {
  return new HealthChecks().addLivenessCheck(pingCheck).addLivenessCheck(logCheck()).addLivenessCheck(storeCheck(store)).addReadinessCheck(controllerInformersCheck).addReadinessCheck(shutdown.check);
}

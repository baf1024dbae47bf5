// Every API server keeps its endpoint Lease (apiserver-endpoints-plan.ts) renewed through the API,
// whether or not it runs the controllers, so the `kubernetes` Service lists every live server; on
// a clean stop it deletes the Lease so the endpoints drop it at once rather than after the TTL.
import { R } from '../api/resources.js';
import { isNotFound, type KubeClient } from '../client/client.js';
import { APISERVER_LEASE_NAMESPACE, APISERVER_LEASE_RENEW_MS, apiServerLeaseName, renewedApiServerLease, type ApiServerAddress } from '../controllers/apiserver-endpoints-plan.js';
import { createLogger } from '../util/log.js';

const log = createLogger('apiserver-lease');

export interface ApiServerLease {
  /** Stops renewing and deletes the Lease. */
  stop(): Promise<void>;
}

async function renew(client: KubeClient, self: ApiServerAddress): Promise<void> {
  const name = apiServerLeaseName(self);
  const current = await client.get(R.leases, APISERVER_LEASE_NAMESPACE, name);
  if (current) await client.update(R.leases, renewedApiServerLease(self, Date.now(), current));
  else await client.create(R.leases, renewedApiServerLease(self, Date.now()));
}

export function startApiServerLease(client: KubeClient, self: ApiServerAddress): ApiServerLease {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let failing = false;
  const tick = () => {
    running = renew(client, self).then(
      () => {
        if (failing) log.info('endpoint lease renewed again', { lease: apiServerLeaseName(self) });
        failing = false;
      },
      (err: Error) => {
        // A lost race (another renewal, a restarted server) or an unreachable store: the next tick retries.
        if (!failing) log.warn('cannot renew the endpoint lease', { lease: apiServerLeaseName(self), err: err.message });
        failing = true;
      },
    );
  };
  tick();
  const timer = setInterval(() => !stopped && tick(), APISERVER_LEASE_RENEW_MS);
  timer.unref();
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await running;
      try {
        await client.delete(R.leases, APISERVER_LEASE_NAMESPACE, apiServerLeaseName(self));
      } catch (err) {
        if (!isNotFound(err)) log.warn('cannot delete the endpoint lease', { err: (err as Error).message });
      }
    },
  };
}

// The HA lab's further API servers, reachable inside the lab switch namespace at their underlay
// addresses (172.18.0.1:6444 -> 127.0.0.1:6444), as api-bridge.ts does for the first server.
import { startApiBridge, type ApiBridge } from './api-bridge.js';
import type { LabState } from './plan.js';
import { createLogger } from '../util/log.js';

export function startHaApiBridges(state: LabState): { close(): void } {
  const bridges: ApiBridge[] = [];
  let closed = false;
  for (const b of state.plan.ha?.apiBridges ?? []) {
    startApiBridge(b.netns, { host: b.host, port: b.port }, b.target).then(
      (bridge) => (closed ? bridge.close() : bridges.push(bridge)),
      (err: Error) => createLogger('lab-supervisor').error('cannot make an API server reachable inside the lab', { listen: `${b.host}:${b.port}`, err: err.message }),
    );
  }
  return {
    close() {
      closed = true;
      for (const b of bridges) b.close();
    },
  };
}

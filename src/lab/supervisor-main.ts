// Entry of the lab supervisor daemon: `node supervisor-main.js <data-dir>/lab.json`.
import { LabSupervisor, readLabState } from './supervisor.js';
import { startApiBridge, type ApiBridge } from './api-bridge.js';
import { API_LISTEN } from './plan.js';
import { createLogger } from '../util/log.js';
import { startHaApiBridges } from './ha-bridges.js';

const statePath = process.argv[2];
if (!statePath) {
  process.stderr.write('usage: supervisor-main <data-dir>/lab.json\n');
  process.exit(2);
}
const state = readLabState(statePath);
const supervisor = new LabSupervisor(state);
supervisor.start();
let bridge: ApiBridge | undefined;
const planned = state.plan.apiBridge;
if (planned) {
  const [host, port] = API_LISTEN.split(':');
  startApiBridge(planned.netns, { host: planned.host, port: planned.port }, { host, port: Number(port) }).then(
    (b) => (bridge = b),
    (err: Error) => createLogger('lab-supervisor').error('cannot make the API server reachable inside the lab', { err: err.message }),
  );
}
const haBridges = startHaApiBridges(state);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  bridge?.close();
  haBridges.close();
  supervisor.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', () => undefined);

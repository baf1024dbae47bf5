// Entry of the lab supervisor daemon: `node supervisor-main.js <data-dir>/lab.json`.
import { LabSupervisor, readLabState } from './supervisor.js';

const statePath = process.argv[2];
if (!statePath) {
  process.stderr.write('usage: supervisor-main <data-dir>/lab.json\n');
  process.exit(2);
}
const supervisor = new LabSupervisor(readLabState(statePath));
supervisor.start();
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  supervisor.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', () => undefined);

// Runs the controllers in their own process against a server started with --controllers=false,
// with options the `flatnet server` flags do not expose (a short node-monitor grace period).
// Usage: node --import tsx run-controllers.ts <kubeconfig> <json ControllerOptions>
import { KubeClient } from '../../../src/client/client.js';
import { loadKubeconfig } from '../../../src/client/kubeconfig.js';
import { startControllers } from '../../../src/controllers/index.js';

const [kubeconfig, json] = process.argv.slice(2);
if (!kubeconfig || !json) throw new Error('usage: run-controllers.ts <kubeconfig> <json options>');
const client = new KubeClient(loadKubeconfig(kubeconfig));
await startControllers(client, JSON.parse(json));
process.stderr.write('{"msg":"controllers running"}\n');
process.on('SIGTERM', () => process.exit(0));

// The `flatnet` command: dispatches to one module per subcommand, loaded only when used so
// that short-lived commands start fast.
import { UsageError } from './flags.js';

type CommandModule = { run(args: string[]): Promise<number> };

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  up: { summary: 'start a lab cluster network on this machine', load: () => import('./up.js') },
  down: { summary: 'stop the lab and remove everything it made', load: () => import('./down.js') },
  status: { summary: 'tell what runs and whether it is healthy', load: () => import('./status.js') },
  server: { summary: 'run the API server, its store and controllers', load: () => import('./server.js') },
  agent: { summary: 'run the node agent for one node', load: () => import('./agent.js') },
  runtime: { summary: "run a node's container runtime (its containers outlive agent restarts)", load: () => import('../runtime/main.js') },
  join: { summary: 'join this machine to a cluster as a node (join --server URL --token T --ca-cert-hash sha256:... --node N)', load: () => import('./join.js') },
  token: { summary: 'create a bootstrap token a node joins with (token create [--ttl 24h])', load: () => import('./token.js') },
  kubeconfig: { summary: 'print the path of the admin kubeconfig', load: () => import('./kubeconfig.js') },
  proxy: { summary: 'show the service proxy rules a node has now (proxy rules [--node N])', load: () => import('./proxy.js') },
  policy: { summary: 'explain a flow or print the reachability matrix (policy explain|matrix)', load: () => import('./policy.js') },
  flows: { summary: 'print the flow events of every node with their verdicts (flows [--follow] [--pod P] [--verdict dropped] ...)', load: () => import('./flows.js') },
  trace: { summary: 'follow one probe through DNS, Service DNAT, the overlay and NetworkPolicy, in the models and in the kernel (trace FROM TO [PORT/PROTO])', load: () => import('./trace.js') },
  ui: { summary: 'print a one-time login link to the web view (/ui) for the kubeconfig\'s user, and open it', load: () => import('./ui.js') },
  bgp: { summary: "show every node's BGP sessions, or print the BGPPeer CRD (bgp status|crd)", load: () => import('./bgp.js') },
  dns: { summary: 'run the cluster DNS server outside the lab', load: () => import('../dns/main.js') },
  gateway: { summary: 'run a gateway proxy, or print the routing table per listener (gateway proxy|routes)', load: () => import('./gateway.js') },
  ingress2gateway: { summary: 'print the Gateway API objects equivalent to the cluster\'s Ingresses', load: () => import('./ingress2gateway.js') },
  cni: { summary: 'run as a CNI plugin (the CNI_* environment and stdin config)', load: () => import('../cni/main.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: flatnet <command> [flags]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`flatnet: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`flatnet: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`flatnet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);

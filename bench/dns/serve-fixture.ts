// Serves the bench cluster from flatnet's DNS handler on 127.0.0.1:<port> (UDP and TCP), as its
// own process so the bench can pin it to one core. Prints "ready <port>" when serving.
//   node --import tsx bench/dns/serve-fixture.ts [--port 0] [--answer-cache on|off]
import { parseFlags } from '../../src/cli/flags.js';
import { DnsHandler } from '../../src/dns/handler.js';
import { DnsMetrics } from '../../src/dns/metrics.js';
import { serveTcp, serveUdp } from '../../src/dns/transport.js';
import { bindLoopback } from '../../test/integration/dns/support.js';
import { buildModel } from './cluster-fixture.js';

const flags = parseFlags(process.argv.slice(2), { values: { 'answer-cache': 'on' } });
const model = buildModel();
const handler = new DnsHandler(model, { zone: 'cluster.local', ttl: 30, pods: 'insecure', ready: () => true, answerCacheSize: flags.values['answer-cache'] === 'off' ? 0 : 20000 }, new DnsMetrics());
const sockets = await bindLoopback();
serveUdp(sockets.udp, handler);
serveTcp(sockets.tcp, handler);
process.stdout.write(`ready ${sockets.port}\n`);
process.on('SIGTERM', () => process.exit(0));

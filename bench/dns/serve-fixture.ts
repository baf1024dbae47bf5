// Serves the bench cluster from flatnet's DNS handler on 127.0.0.1:<port> (UDP and TCP), as its
// own process so the bench can pin it to one core. Prints "ready <port> <udp io>" when serving.
//   node --import tsx bench/dns/serve-fixture.ts [--port 0] [--answer-cache on|off] [--udp-io batched|dgram|auto]
import { parseFlags } from '../../src/cli/flags.js';
import { DnsHandler } from '../../src/dns/handler.js';
import { DnsMetrics } from '../../src/dns/metrics.js';
import { serveTcp, serveUdp, udpIoSetting, type UdpIo } from '../../src/dns/transport.js';
import { bindLoopback } from '../../test/integration/dns/support.js';
import { buildModel } from './cluster-fixture.js';

const flags = parseFlags(process.argv.slice(2), { values: { 'answer-cache': 'on', 'udp-io': 'auto' } });
const model = buildModel();
const handler = new DnsHandler(model, { zone: 'cluster.local', ttl: 30, pods: 'insecure', ready: () => true, answerCacheSize: flags.values['answer-cache'] === 'off' ? 0 : 20000 }, new DnsMetrics());
const sockets = await bindLoopback();
const udp = serveUdp(sockets.udp, handler, { io: udpIoSetting(flags.values['udp-io'] as UdpIo) });
serveTcp(sockets.tcp, handler);
process.stdout.write(`ready ${sockets.port} ${udp.io}\n`);
process.on('SIGTERM', () => {
  const s = udp.stats();
  if (s) process.stderr.write(`flatnet (UDP ${udp.io}, port ${sockets.port}): ${s.received} datagrams in ${s.batches} recvmmsg batches (${(s.received / Math.max(1, s.batches)).toFixed(1)} per call), ${s.sent} replies sent, ${s.droppedSendBufferFull} dropped (send buffer full), ${s.sendErrors} send errors\n`);
  process.exit(0);
});

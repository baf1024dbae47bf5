// A one-node pod network for NetworkPolicy tests, all in namespaces this test creates
// (flatnet-t-np-<id>-*):
//
//   pods x/a .. z/c (10.244.1.11-19, eth0 via veth into cni0) --- [node] cni0 10.244.1.1/24
//   ext (192.168.77.2, with 192.0.2.10 and 169.254.169.254) --- vext 192.168.77.1 [node]
//
// Pod-to-pod traffic is bridged on cni0 (br_netfilter sends it through the node's forward hook);
// traffic to ext is routed by the node. Every pod serves TCP and UDP on 80 and 81 from this
// process (sockets opened inside its namespace); probes are real connections from a pod's
// namespace.
import { execFileSync } from 'node:child_process';
import type dgram from 'node:dgram';
import type net from 'node:net';
import { connectInNetns, listenInNetns, stopNetnsBrokers } from '../../../src/linux/netns-socket.js';
import { ALL_PODS, GATEWAY, podIp } from '../../unit/netpol/fixtures/topology.js';

export const EXT_IP = '192.168.77.2';
export const EXTERNAL_ADDRESSES = ['192.0.2.10', '169.254.169.254'];

function sh(...args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class PolicyNetLab {
  readonly node: string;
  readonly ext: string;
  private readonly servers: (net.Server | dgram.Socket)[] = [];

  constructor(readonly id: string) {
    this.node = `flatnet-t-np-${id}-node`;
    this.ext = `flatnet-t-np-${id}-ext`;
  }

  /** The namespace of pod "x/a". */
  podNetns(ref: string): string {
    return `flatnet-t-np-${this.id}-${ref.replace('/', '')}`;
  }

  /** Creates the node and ext namespaces and the bridge; pods come with addPod. */
  setUp(): void {
    this.tearDown();
    sh('ip', 'netns', 'add', this.node);
    sh('ip', '-n', this.node, 'link', 'set', 'lo', 'up');
    sh('ip', 'netns', 'exec', this.node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    sh('ip', '-n', this.node, 'link', 'add', 'cni0', 'type', 'bridge');
    sh('ip', '-n', this.node, 'addr', 'add', `${GATEWAY}/24`, 'dev', 'cni0');
    sh('ip', '-n', this.node, 'link', 'set', 'cni0', 'up');
    sh('ip', 'netns', 'add', this.ext);
    sh('ip', '-n', this.ext, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', this.node, 'link', 'add', 'vext', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ext);
    sh('ip', '-n', this.node, 'addr', 'add', '192.168.77.1/24', 'dev', 'vext');
    sh('ip', '-n', this.node, 'link', 'set', 'vext', 'up');
    sh('ip', '-n', this.ext, 'addr', 'add', `${EXT_IP}/24`, 'dev', 'eth0');
    for (const a of EXTERNAL_ADDRESSES) sh('ip', '-n', this.ext, 'addr', 'add', `${a}/32`, 'dev', 'eth0');
    sh('ip', '-n', this.ext, 'link', 'set', 'eth0', 'up');
    sh('ip', '-n', this.ext, 'route', 'add', 'default', 'via', '192.168.77.1');
    for (const a of EXTERNAL_ADDRESSES) sh('ip', '-n', this.node, 'route', 'add', `${a}/32`, 'via', EXT_IP);
    const bnf = sh('ip', 'netns', 'exec', this.node, 'sysctl', '-n', 'net.bridge.bridge-nf-call-iptables').trim();
    if (bnf !== '1') throw new Error(`bridged traffic skips netfilter in ${this.node} (net.bridge.bridge-nf-call-iptables=${bnf})`);
  }

  /** Creates pod "x/a"'s namespace and wires it to cni0 (its address is podIp(ref)). */
  addPod(ref: string): void {
    const ns = this.podNetns(ref);
    const index = ALL_PODS.indexOf(ref);
    sh('ip', 'netns', 'add', ns);
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', this.node, 'link', 'add', `vp${index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    sh('ip', '-n', this.node, 'link', 'set', `vp${index}`, 'master', 'cni0', 'up');
    sh('ip', '-n', ns, 'addr', 'add', `${podIp(ref)}/24`, 'dev', 'eth0');
    sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
    sh('ip', '-n', ns, 'route', 'add', 'default', 'via', GATEWAY);
  }

  /** Serves TCP and UDP `ports` in `netns` on 0.0.0.0; every answer is `name`. */
  async serve(netns: string, name: string, ports: { tcp?: number[]; udp?: number[] }): Promise<void> {
    for (const port of ports.tcp ?? []) {
      const s = await listenInNetns(netns, { host: '0.0.0.0', port, type: 'tcp' });
      s.on('connection', (c) => {
        c.on('error', () => {});
        c.end(name);
      });
      this.servers.push(s);
    }
    for (const port of ports.udp ?? []) {
      const s = await listenInNetns(netns, { host: '0.0.0.0', port, type: 'udp4' });
      s.on('message', (_m, r) => s.send(name, r.port, r.address));
      this.servers.push(s);
    }
  }

  /** Whether a new TCP connection from `netns` to host:port is accepted within timeoutMs. */
  async tcpProbe(netns: string, host: string, port: number, timeoutMs = 400): Promise<boolean> {
    try {
      const s = await connectInNetns(netns, host, port, timeoutMs);
      s.destroy();
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes the node's conntrack entries, so the next probes are new flows. */
  forgetFlows(): void {
    sh('ip', 'netns', 'exec', this.node, 'conntrack', '-F');
  }

  /** Whether a UDP request from `netns` to host:port gets an answer within timeoutMs. */
  async udpProbe(netns: string, host: string, port: number, timeoutMs = 400): Promise<boolean> {
    const sock = await listenInNetns(netns, { host: '0.0.0.0', port: 0, type: 'udp4' });
    try {
      return await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        sock.once('message', () => {
          clearTimeout(timer);
          resolve(true);
        });
        sock.send('probe', port, host);
      });
    } finally {
      sock.close();
    }
  }

  /**
   * Probes pairs all at once. A drop shows only as silence and a loaded machine can be slow to
   * answer, so a pair that stayed silent where `expected` says it is allowed is probed again
   * with a long timeout before it counts as denied.
   */
  async probeMany(protocol: 'TCP' | 'UDP', pairs: readonly { netns: string; host: string }[], port: number, expected: readonly boolean[]): Promise<boolean[]> {
    const probe = (p: { netns: string; host: string }, timeoutMs: number) =>
      protocol === 'TCP' ? this.tcpProbe(p.netns, p.host, port, timeoutMs) : this.udpProbe(p.netns, p.host, port, timeoutMs);
    const seen = await Promise.all(pairs.map((p) => probe(p, 400)));
    const silent = pairs.flatMap((p, i) => (expected[i] && !seen[i] ? [i] : []));
    const again = await Promise.all(silent.map((i) => probe(pairs[i], 3000)));
    silent.forEach((i, k) => (seen[i] = again[k]));
    return seen;
  }

  /** A TCP echo server on `port` in `netns` (for connections that stay open). */
  async serveEcho(netns: string, port: number): Promise<void> {
    const s = await listenInNetns(netns, { host: '0.0.0.0', port, type: 'tcp' });
    s.on('connection', (c) => {
      c.on('error', () => {});
      c.pipe(c);
    });
    this.servers.push(s);
  }

  /** An open TCP connection from `netns`; `exchange` sends a line and waits for its echo. */
  async openConnection(netns: string, host: string, port: number): Promise<{ exchange(text: string, timeoutMs?: number): Promise<boolean>; close(): void }> {
    const s = await connectInNetns(netns, host, port, 1000);
    s.on('error', () => {});
    s.resume();
    return {
      exchange: (text, timeoutMs = 1000) =>
        new Promise<boolean>((resolve) => {
          let got = '';
          const timer = setTimeout(() => {
            s.off('data', onData);
            resolve(false);
          }, timeoutMs);
          const onData = (c: Buffer) => {
            got += c.toString();
            if (got.includes(text)) {
              clearTimeout(timer);
              s.off('data', onData);
              resolve(true);
            }
          };
          s.on('data', onData);
          s.write(text);
        }),
      close: () => s.destroy(),
    };
  }

  tearDown(): void {
    for (const s of this.servers) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
    this.servers.length = 0;
    stopNetnsBrokers();
    for (const line of sh('ip', 'netns', 'list').split('\n')) {
      const name = line.split(' ')[0];
      if (name.startsWith(`flatnet-t-np-${this.id}-`)) {
        try {
          sh('ip', 'netns', 'del', name);
        } catch {
          /* already gone */
        }
      }
    }
  }
}

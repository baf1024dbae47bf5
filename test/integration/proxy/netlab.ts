// A small network for proxy tests, all in namespaces this test creates (flatnet-t-proxy-*):
//
//   client (172.31.0.100) ---- eth0 172.31.0.11 [node] cni0 10.244.1.1/24 ---- pods 10.244.1.2..
//
// Every pod runs one node process serving HTTP :8080 (answers its name and the client address it
// saw), TCP echo :9000 and UDP echo :5353. The client runs node scripts that make requests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export const CLUSTER_CIDR = '10.244.0.0/16';
export const NODE_IP = '172.31.0.11';
export const CLIENT_IP = '172.31.0.100';

const podServer = `
const [name] = process.argv.slice(1);
const http = require('node:http'), net = require('node:net'), dgram = require('node:dgram');
http.createServer((req, res) => res.end(JSON.stringify({ pod: name, client: req.socket.remoteAddress }))).listen(8080, '0.0.0.0');
net.createServer((s) => s.on('data', (d) => s.write(name + ':' + d))).listen(9000, '0.0.0.0');
const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(name, r.port, r.address)); u.bind(5353);
// Exit with the test process, even when it dies without tearing down.
const parent = process.ppid;
setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(0); } }, 1000);
`;

export function sh(args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function ipns(ns: string, ...cmd: string[]): void {
  sh(['ip', 'netns', 'exec', ns, ...cmd]);
}

export interface Answer {
  pod?: string;
  client?: string;
  error?: string;
  status?: number;
  [field: string]: unknown;
}

export class NetLab {
  readonly node: string;
  readonly client: string;
  readonly pods: { ns: string; name: string; ip: string }[] = [];
  private readonly procs: ChildProcess[] = [];

  constructor(readonly id: string) {
    this.node = `flatnet-t-proxy-${id}-node`;
    this.client = `flatnet-t-proxy-${id}-cli`;
  }

  async setUp(podCount: number): Promise<void> {
    this.tearDown();
    sh(['ip', 'netns', 'add', this.node]);
    sh(['ip', 'netns', 'add', this.client]);
    ipns(this.node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    ipns(this.node, 'ip', 'link', 'set', 'lo', 'up');
    ipns(this.client, 'ip', 'link', 'set', 'lo', 'up');
    ipns(this.node, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.client);
    ipns(this.node, 'ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0');
    ipns(this.node, 'ip', 'link', 'set', 'eth0', 'up');
    ipns(this.client, 'ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'eth0');
    ipns(this.client, 'ip', 'link', 'set', 'eth0', 'up');
    for (const dst of ['10.96.0.0/16', '10.244.0.0/16', '172.31.255.0/24']) ipns(this.client, 'ip', 'route', 'add', dst, 'via', NODE_IP);
    // Unmatched Service traffic leaves towards the client side, as a node's default route would.
    ipns(this.node, 'ip', 'route', 'add', 'default', 'via', CLIENT_IP);
    ipns(this.node, 'ip', 'link', 'add', 'cni0', 'type', 'bridge');
    ipns(this.node, 'ip', 'addr', 'add', '10.244.1.1/24', 'dev', 'cni0');
    ipns(this.node, 'ip', 'link', 'set', 'cni0', 'up');
    for (let i = 0; i < podCount; i++) {
      const name = `pod${i + 1}`;
      const ns = `flatnet-t-proxy-${this.id}-${name}`;
      const ip = `10.244.1.${i + 2}`;
      sh(['ip', 'netns', 'add', ns]);
      ipns(ns, 'ip', 'link', 'set', 'lo', 'up');
      ipns(this.node, 'ip', 'link', 'add', `veth${i + 1}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ipns(this.node, 'ip', 'link', 'set', `veth${i + 1}`, 'master', 'cni0', 'up');
      // As the bridge CNI plugin's hairpinMode: a pod reaching itself through a Service.
      ipns(this.node, 'bridge', 'link', 'set', 'dev', `veth${i + 1}`, 'hairpin', 'on');
      ipns(ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
      ipns(ns, 'ip', 'link', 'set', 'eth0', 'up');
      ipns(ns, 'ip', 'route', 'add', 'default', 'via', '10.244.1.1');
      const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', podServer, name], { stdio: 'ignore' });
      this.procs.push(p);
      this.pods.push({ ns, name, ip });
    }
    // Wait until every pod answers HTTP directly.
    for (const pod of this.pods) {
      for (let tries = 0; ; tries++) {
        const r = await this.requests(this.client, `http://${pod.ip}:8080/`, 1, 500);
        if (r[0].pod) break;
        if (tries > 50) throw new Error(`pod ${pod.name} does not answer`);
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  }

  /** `n` HTTP GETs, each on a new connection, from namespace `ns`; errors come back as {error: code}. */
  async requests(ns: string, url: string, n: number, timeoutMs = 2000): Promise<Answer[]> {
    const script = `
      const http = require('node:http');
      const [url, n, timeout] = process.argv.slice(1);
      const one = () => new Promise((resolve) => {
        const req = http.get(url, { agent: false, timeout: Number(timeout) }, (res) => {
          let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => { try { resolve({ ...JSON.parse(b), status: res.statusCode }); } catch { resolve({ error: 'status ' + res.statusCode + ' ' + b }); } });
        });
        req.on('timeout', () => { req.destroy(); resolve({ error: 'timeout' }); });
        req.on('error', (e) => resolve({ error: e.code || e.message }));
      });
      (async () => { const out = []; for (let i = 0; i < Number(n); i++) out.push(await one()); process.stdout.write(JSON.stringify(out)); })();
    `;
    const out = await runCollect(['ip', 'netns', 'exec', ns, process.execPath, '-e', script, url, String(n), String(timeoutMs)]);
    return JSON.parse(out) as Answer[];
  }

  /** UDP datagrams from a fixed source port; answers the pod names (or 'timeout'). */
  async udp(ns: string, host: string, port: number, sourcePort: number, n = 1): Promise<string[]> {
    const script = `
      const dgram = require('node:dgram');
      const [host, port, sport, n] = process.argv.slice(1);
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      const out = [];
      s.bind(Number(sport), async () => {
        for (let i = 0; i < Number(n); i++) {
          out.push(await new Promise((resolve) => {
            const t = setTimeout(() => { s.removeAllListeners('message'); resolve('timeout'); }, 1500);
            s.once('message', (m) => { clearTimeout(t); resolve(String(m)); });
            s.send('hi', Number(port), host);
          }));
        }
        s.close(); process.stdout.write(JSON.stringify(out));
      });
    `;
    return JSON.parse(await runCollect(['ip', 'netns', 'exec', ns, process.execPath, '-e', script, host, String(port), String(sourcePort), String(n)])) as string[];
  }

  /** Opens a TCP connection and keeps it; `send` writes a line and answers the echo. */
  openConnection(ns: string, host: string, port: number): Promise<{ send(text: string): Promise<string>; close(): void }> {
    const script = `
      const net = require('node:net'); const rl = require('node:readline');
      const [host, port] = process.argv.slice(1);
      const s = net.connect(Number(port), host, () => process.stdout.write('connected\\n'));
      s.on('data', (d) => process.stdout.write(String(d) + '\\n'));
      s.on('error', (e) => process.stdout.write('error ' + e.code + '\\n'));
      s.on('close', () => process.stdout.write('closed\\n'));
      rl.createInterface({ input: process.stdin }).on('line', (l) => s.write(l));
    `;
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, host, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.procs.push(child);
    const lines: string[] = [];
    const waiters: ((l: string) => void)[] = [];
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const w = waiters.shift();
        if (w) w(line);
        else lines.push(line);
      }
    });
    const next = () => new Promise<string>((resolve) => (lines.length ? resolve(lines.shift()!) : waiters.push(resolve)));
    return next().then((first) => {
      if (first !== 'connected') throw new Error(`connection to ${host}:${port} failed: ${first}`);
      return {
        send: (text: string) => {
          child.stdin!.write(text + '\n');
          return next();
        },
        close: () => child.kill(),
      };
    });
  }

  tearDown(): void {
    for (const p of this.procs) if (p.exitCode === null) p.kill();
    this.procs.length = 0;
    this.pods.length = 0;
    const existing = sh(['ip', 'netns', 'list']);
    for (const line of existing.split('\n')) {
      const name = line.split(' ')[0];
      if (name.startsWith(`flatnet-t-proxy-${this.id}-`)) {
        try {
          sh(['ip', 'netns', 'del', name]);
        } catch {
          /* already gone */
        }
      }
    }
  }
}

function runCollect(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')}: ${err}`))));
  });
}

// --- synthetic API objects -------------------------------------------------------------------

export interface ServiceSpec {
  name: string;
  clusterIP: string;
  ports?: { name?: string; port: number; targetPort?: number; protocol?: string; nodePort?: number }[];
  type?: string;
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  sessionAffinity?: 'ClientIP';
  affinityTimeout?: number;
  loadBalancerIP?: string;
  loadBalancerSourceRanges?: string[];
  healthCheckNodePort?: number;
}

export function service(s: ServiceSpec) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'default', name: s.name, resourceVersion: String(Date.now()) },
    spec: {
      type: s.type ?? 'ClusterIP',
      clusterIP: s.clusterIP,
      ports: (s.ports ?? [{ name: 'http', port: 80 }]).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', nodePort: p.nodePort })),
      externalTrafficPolicy: s.externalTrafficPolicy,
      internalTrafficPolicy: s.internalTrafficPolicy,
      sessionAffinity: s.sessionAffinity ?? 'None',
      sessionAffinityConfig: s.sessionAffinity ? { clientIP: { timeoutSeconds: s.affinityTimeout ?? 10800 } } : undefined,
      loadBalancerSourceRanges: s.loadBalancerSourceRanges,
      healthCheckNodePort: s.healthCheckNodePort,
    },
    status: s.loadBalancerIP ? { loadBalancer: { ingress: [{ ip: s.loadBalancerIP, ipMode: 'VIP' }] } } : {},
  };
}

export function slice(
  serviceName: string,
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: { ip: string; node?: string; ready?: boolean; serving?: boolean; terminating?: boolean }[],
  sliceName = `${serviceName}-abc`,
) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: sliceName, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      nodeName: e.node ?? 'node-a',
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
    })),
  };
}

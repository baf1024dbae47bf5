// The thin layer of `flatnet trace` that touches the kernel: DNS queries from a pod's network
// namespace, the route a node picks, the probe packet, and the nftables trace session (a
// temporary table per node that sets `meta nftrace` for the probe only, `nft monitor` while it
// runs, the table removed afterwards whatever happens).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runCommand, CommandError } from '../linux/exec.js';
import type { DnsAnswer } from './dns-search.js';
import type { KernelRoute, ProbeResult } from './compare.js';
import { parseMonitorLine } from './trace-lines.js';

/** The probe's DSCP: an unassigned code point, so nothing else in the lab carries it. */
export const PROBE_DSCP = 0x2d;
export const PROBE_DSCP_TEXT = '0x2d';
/** The VXLAN port: encapsulated copies of the probe are not traced twice. */
const VXLAN_UDP_PORT = 8472;
/** Before every flatnet chain (the proxy's filter chains are at -110, conntrack at -200, raw at -300). */
export const TRACE_PRIORITY = -500;

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** One DNS question (type A) to `server`, asked from inside `netns` with dig. */
export async function queryDns(netns: string, server: string, name: string, timeoutSeconds = 2): Promise<DnsAnswer> {
  let stdout: string;
  try {
    ({ stdout } = await runCommand(['dig', `@${server}`, name, 'A', '+tries=1', `+time=${timeoutSeconds}`, '+noall', '+comments', '+answer', '+nosearch'], { netns }));
  } catch (err) {
    if (err instanceof CommandError && /timed out|no servers could be reached/i.test(err.stderr + err.message)) return { name, status: 'TIMEOUT', addresses: [] };
    throw err;
  }
  if (/connection timed out|no servers could be reached/i.test(stdout)) return { name, status: 'TIMEOUT', addresses: [] };
  const status = /status: ([A-Z]+)/.exec(stdout)?.[1] ?? 'UNKNOWN';
  const addresses = [...stdout.matchAll(/^\S+\s+\d+\s+IN\s+A\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]);
  return { name, status, addresses };
}

/** The route a namespace's kernel picks towards `ip` (`ip route get`). */
export async function kernelRoute(netns: string, ip: string): Promise<KernelRoute> {
  try {
    const { stdout } = await runCommand(['ip', '-j', 'route', 'get', ip], { netns });
    const [r] = JSON.parse(stdout) as { dev?: string; gateway?: string }[];
    return { to: ip, dev: r?.dev, gateway: r?.gateway };
  } catch (err) {
    return { to: ip, error: err instanceof CommandError ? err.stderr.trim() || err.message : String(err) };
  }
}

// The probe: one TCP connection attempt (a SYN) or one UDP datagram from a fixed source port,
// with the probe's DSCP, from inside the source namespace.
const PROBE_SCRIPT = `
import socket, sys
proto, host, port, sport, tos, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
s.bind(('0.0.0.0', sport))
s.settimeout(timeout)
try:
    if proto == 'tcp':
        s.connect((host, port))
        print('connected')
    else:
        s.sendto(b'flatnet trace probe', (host, port))
        s.recvfrom(4096)
        print('answered')
except ConnectionRefusedError:
    print('refused')
except (socket.timeout, TimeoutError):
    print('timeout' if proto == 'tcp' else 'no-answer')
except OSError as e:
    print('unreachable', e)
finally:
    s.close()
`;

export async function sendProbe(netns: string, opts: { ip: string; port: number; protocol: 'tcp' | 'udp'; sourcePort: number; timeoutSeconds: number }): Promise<{ result: ProbeResult; detail?: string }> {
  const tos = PROBE_DSCP << 2;
  const { stdout } = await runCommand([PYTHON, '-c', PROBE_SCRIPT, opts.protocol, opts.ip, String(opts.port), String(opts.sourcePort), String(tos), String(opts.timeoutSeconds)], { netns });
  const [word, ...rest] = stdout.trim().split(' ');
  const known: ProbeResult[] = ['connected', 'refused', 'timeout', 'answered', 'no-answer', 'unreachable'];
  if (!known.includes(word as ProbeResult)) throw new Error(`the probe printed "${stdout.trim()}"`);
  return { result: word as ProbeResult, detail: rest.join(' ') || undefined };
}

/** The temporary table: trace the probe (its source port, or its DSCP after source NAT) and its replies. */
export function traceTableScript(table: string, sourcePort: number): string {
  const rules = [`th sport ${sourcePort} meta nftrace set 1`, `th dport ${sourcePort} meta nftrace set 1`, `ip dscp ${PROBE_DSCP_TEXT} th dport != ${VXLAN_UDP_PORT} meta nftrace set 1`];
  const chain = (name: string, hook: string) => [`  chain ${name} {`, `    type filter hook ${hook} priority ${TRACE_PRIORITY}; policy accept;`, ...rules.map((r) => `    ${r}`), '  }'];
  return [`table inet ${table} {`, ...chain('pre', 'prerouting'), ...chain('out', 'output'), '}', ''].join('\n');
}

interface Monitor {
  node: string;
  netns: string;
  child: ChildProcess;
  output: string;
  tableAdded: boolean;
  tableDeleted: boolean;
  waiters: (() => void)[];
}

function waitFor(m: Monitor, cond: () => boolean, timeoutMs: number): Promise<boolean> {
  if (cond()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(cond()), timeoutMs);
    const check = () => {
      if (!cond()) return void m.waiters.push(check);
      clearTimeout(timer);
      resolve(true);
    };
    m.waiters.push(check);
  });
}

async function deleteTable(netns: string, table: string): Promise<void> {
  try {
    await runCommand(['nft', 'delete', 'table', 'inet', table], { netns });
  } catch (err) {
    if (err instanceof CommandError && /No such file or directory/.test(err.stderr)) return;
    throw err;
  }
}

/**
 * Trace tables and monitors in `nodes`. `start` returns once every monitor has seen its table
 * appear (so no trace event can be missed); `stop` removes the tables, waits until each monitor
 * has seen the removal (every trace event of the probe came before it) and answers the
 * monitors' output per node. `stop` is safe to call after a failed or partial `start`.
 */
export class TraceSession {
  private readonly monitors: Monitor[] = [];
  private readonly tablesAdded = new Set<string>();

  constructor(
    private readonly nodes: { node: string; netns: string }[],
    readonly table: string,
    private readonly sourcePort: number,
  ) {}

  async start(timeoutMs = 10_000): Promise<void> {
    for (const n of this.nodes) {
      const child = spawn('ip', ['netns', 'exec', n.netns, 'nft', '-a', 'monitor'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const m: Monitor = { node: n.node, netns: n.netns, child, output: '', tableAdded: false, tableDeleted: false, waiters: [] };
      let partial = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        m.output += chunk;
        partial += chunk;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const parsed = parseMonitorLine(line);
          if (parsed.kind === 'table-added' && parsed.table === this.table) m.tableAdded = true;
          if (parsed.kind === 'table-deleted' && parsed.table === this.table) m.tableDeleted = true;
        }
        const waiting = m.waiters.splice(0);
        for (const w of waiting) w();
      });
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (m.output += chunk.replace(/^/gm, '# stderr: ')));
      this.monitors.push(m);
    }
    // The monitor subscribes some time after it starts: add the table until it reports it.
    const deadline = Date.now() + timeoutMs;
    for (const m of this.monitors) {
      for (;;) {
        await runCommand(['nft', '-f', '-'], { netns: m.netns, input: traceTableScript(this.table, this.sourcePort) });
        this.tablesAdded.add(m.netns);
        if (await waitFor(m, () => m.tableAdded, 500)) break;
        if (m.child.exitCode !== null) throw new Error(`nft monitor in ${m.netns} exited: ${m.output.trim()}`);
        if (Date.now() > deadline) throw new Error(`nft monitor in ${m.netns} did not start within ${timeoutMs} ms`);
        await deleteTable(m.netns, this.table);
      }
    }
  }

  async stop(timeoutMs = 5000): Promise<Map<string, string>> {
    const errors: string[] = [];
    for (const netns of this.tablesAdded) {
      try {
        await deleteTable(netns, this.table);
      } catch (err) {
        errors.push(`${netns}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const out = new Map<string, string>();
    for (const m of this.monitors) {
      if (this.tablesAdded.has(m.netns)) await waitFor(m, () => m.tableDeleted, timeoutMs);
      if (m.child.exitCode === null && m.child.pid) m.child.kill('SIGTERM');
      out.set(m.node, m.output);
    }
    this.tablesAdded.clear();
    if (errors.length > 0) throw new Error(`could not remove the trace table ${this.table}: ${errors.join('; ')}`);
    return out;
  }
}

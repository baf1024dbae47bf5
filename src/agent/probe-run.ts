// Runs one probe: httpGet and tcpSocket connect from the node to the pod's IP (as the kubelet
// does), exec runs the command inside the pod's namespace. Answers success or a reason.
import { spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { connectInNetns } from '../linux/netns-socket.js';
import { whenConnected } from '../util/tcp-connected.js';
import { runIn } from '../workloads/sockets.js';
import type { Container, Probe } from './pod-types.js';

export interface ProbeTarget {
  podIP: string;
  podNetns: string;
  /** The node's namespace, or undefined for this process's own namespace. */
  nodeNetns?: string;
  container: Container;
  env: Record<string, string>;
  /** The command line that runs argv inside the container (its namespaces and user); undefined while it is not running. */
  commandLine?(argv: string[]): string[] | undefined;
}

export interface ProbeOutcome {
  ok: boolean;
  message?: string;
}

/** A named port of the container, or the number itself. */
export function resolveProbePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const found = container.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`probe port "${port}" is not a named port of container ${container.name}`);
  return found.containerPort;
}

function connectFromNode(target: ProbeTarget, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  if (target.nodeNetns) return connectInNetns(target.nodeNetns, host, port, timeoutMs);
  return whenConnected(net.connect({ host, port }), timeoutMs, `dial tcp ${host}:${port}: i/o timeout`);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timeout after ${ms}ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

async function httpProbe(probe: NonNullable<Probe['httpGet']>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const host = probe.host || target.podIP;
  const port = resolveProbePort(probe.port, target.container);
  const path = probe.path || '/';
  let sock: net.Socket = await connectFromNode(target, host, port, timeoutMs);
  if ((probe.scheme ?? 'HTTP').toUpperCase() === 'HTTPS') sock = tls.connect({ socket: sock, rejectUnauthorized: false });
  const headers = [`Host: ${host}:${port}`, 'User-Agent: kube-probe/1.32', 'Accept: */*', 'Connection: close'];
  for (const h of probe.httpHeaders ?? []) headers.push(`${h.name}: ${h.value}`);
  const answer = new Promise<string>((resolve, reject) => {
    let head = '';
    sock.on('data', (c: Buffer) => {
      head += c.toString('latin1');
      const line = head.indexOf('\r\n');
      if (line !== -1) {
        resolve(head.slice(0, line));
        sock.destroy();
      }
    });
    sock.on('error', reject);
    sock.on('end', () => resolve(head.split('\r\n')[0]));
  });
  sock.resume();
  sock.write(`GET ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
  try {
    const statusLine = await withTimeout(answer, timeoutMs, `Get "http://${host}:${port}${path}"`);
    const code = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? 0);
    if (code >= 200 && code < 400) return { ok: true };
    return { ok: false, message: code ? `HTTP probe failed with statuscode: ${code}` : `HTTP probe failed: no status line from ${host}:${port}` };
  } finally {
    sock.destroy();
  }
}

async function tcpProbe(probe: NonNullable<Probe['tcpSocket']>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const host = probe.host || target.podIP;
  const port = resolveProbePort(probe.port, target.container);
  const sock = await connectFromNode(target, host, port, timeoutMs);
  sock.destroy();
  return { ok: true };
}

function execProbe(command: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const argv = target.commandLine?.(command);
  if (target.commandLine && !argv) return Promise.resolve({ ok: false, message: 'the container is not running' });
  return new Promise((resolve) => {
    const child = argv ? spawn(argv[0], argv.slice(1), { env: target.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }) : runIn(target.podNetns, command, { env: target.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      try {
        if (argv && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
      resolve({ ok: false, message: `command timed out after ${timeoutMs}ms` });
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, message: err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true } : { ok: false, message: `command ${JSON.stringify(command)} exited with ${code}: ${output.trim().slice(0, 200)}` });
    });
  });
}

export async function runProbe(probe: Probe, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  try {
    if (probe.httpGet) return await httpProbe(probe.httpGet, target, timeoutMs);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket, target, timeoutMs);
    if (probe.exec?.command?.length) return await execProbe(probe.exec.command, target, timeoutMs);
    if (probe.grpc) return { ok: false, message: 'grpc probes are not supported by flatnet; use httpGet, tcpSocket or exec' };
    return { ok: false, message: 'probe has no handler (httpGet, tcpSocket or exec)' };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

// Pod namespace work without a process per pod, through the native addon in native/netns-ops:
// a thread may enter another network or UTS namespace, and a socket belongs to the namespace it
// was created in, so the calling process makes a pod's network and UTS namespaces, sets links up
// and opens listening sockets in them itself. Spawning `ip netns add`, `unshare ... hostname` or a
// Node.js broker per pod costs milliseconds of CPU each (tens for a Node.js start); these calls
// cost microseconds. Without the addon (not built, not Linux) callers keep their process path.
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { whenConnected } from '../util/tcp-connected.js';

/** The addon's functions (see native/netns-ops/src/netns_ops.c for the contract). */
export interface NetnsOpsAddon {
  listen(nsPath: string, type: 'tcp' | 'udp', host: string, port: number, backlog: number): number;
  createNetns(path: string): void;
  createUts(path: string, hostname: string): void;
  linkUp(nsPath: string, ifName: string): void;
  /** Absent from an addon built before it existed (the caller then takes its broker path). */
  socket?(nsPath: string, family: 4 | 6): number;
}

export const NETNS_OPS_RELATIVE_PATH = 'native/netns-ops/build/Release/netns_ops.node';

let loaded: { addon?: NetnsOpsAddon; error?: string } | undefined;

/** The addon, built by `npm ci` (native/netns-ops), or why it is not there. FLATNET_NETNS_OPS=0 turns it off. */
export function loadNetnsOps(): { addon?: NetnsOpsAddon; error?: string } {
  if (loaded) return loaded;
  if (process.env.FLATNET_NETNS_OPS === '0') return (loaded = { error: 'turned off by FLATNET_NETNS_OPS=0' });
  if (process.platform !== 'linux') return (loaded = { error: `setns/unshare are Linux only (platform ${process.platform})` });
  // This module runs from src/runtime (tsx), dist/src/runtime (the build) or a bundle: the addon
  // is found in the first ancestor directory that holds it.
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.url));
  } catch (err) {
    return (loaded = { error: `cannot tell where this module is (${(err as Error).message})` });
  }
  for (;;) {
    const candidate = join(dir, NETNS_OPS_RELATIVE_PATH);
    if (existsSync(candidate)) {
      try {
        return (loaded = { addon: createRequire(import.meta.url)(candidate) as NetnsOpsAddon });
      } catch (err) {
        return (loaded = { error: `${candidate}: ${(err as Error).message}` });
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return (loaded = { error: `${NETNS_OPS_RELATIVE_PATH} not built (npm ci builds it; or run npm run build:native)` });
    dir = parent;
  }
}

/** The addon when it is usable, else undefined (the caller takes its process path). */
export function netnsOps(): NetnsOpsAddon | undefined {
  return loadNetnsOps().addon;
}

/**
 * Whether a namespace file made under `dir` reaches every mount namespace: `ip netns add` makes
 * the directory a shared mount point before pinning its first namespace there, so a pin made
 * here (a plain bind mount) propagates the same way only once that is so. Pure over `mountinfo`.
 */
export function sharedMountPoint(mountinfo: string, dir: string): boolean {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (fields[4] !== dir || sep < 0) continue;
    if (fields.slice(6, sep).some((f) => f.startsWith('shared:'))) return true;
  }
  return false;
}

/** sharedMountPoint for this process's mount namespace (/run/netns, where /var/run/netns points). */
export function netnsDirShared(dir = '/run/netns'): boolean {
  if (sharedDirs.has(dir)) return true;
  try {
    if (!sharedMountPoint(readFileSync('/proc/self/mountinfo', 'utf8'), dir)) return false;
  } catch {
    return false;
  }
  sharedDirs.add(dir); // it stays so (nothing of ours unmounts it)
  return true;
}

const sharedDirs = new Set<string>();

/**
 * Whether this thread can take `host` for a socket of another namespace: an IP literal, and no
 * IPv6 zone (fe80::1%eth0), whose interface name libuv would look up in this thread's namespace,
 * not the socket's; the broker, a process inside the namespace, names the right interface.
 */
function nativeHost(host: string): boolean {
  return net.isIP(host) !== 0 && !host.includes('%');
}

/**
 * A listening TCP server or bound UDP socket inside the network namespace `netns` (a name under
 * /run/netns), opened by this thread through the addon; undefined when the addon is absent or
 * `host` is not an IP literal without a zone (the caller then takes its broker path). A failure (EADDRINUSE,
 * EADDRNOTAVAIL, EAFNOSUPPORT...) rejects with the errno name as `code`, as the broker's does.
 */
export function listenNatively(netns: string, opts: { host: string; port: number; type: 'tcp' | 'udp4' }): Promise<net.Server | dgram.Socket> | undefined {
  const ops = netnsOps();
  if (!ops || !nativeHost(opts.host)) return undefined;
  return new Promise((resolve, reject) => {
    let fd: number;
    try {
      fd = ops.listen(`/run/netns/${netns}`, opts.type === 'tcp' ? 'tcp' : 'udp', opts.host, opts.port, 511);
    } catch (err) {
      reject(err as Error);
      return;
    }
    if (opts.type === 'tcp') {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ fd }, () => resolve(server));
    } else {
      const socket = dgram.createSocket(net.isIPv6(opts.host) ? 'udp6' : 'udp4');
      socket.once('error', reject);
      socket.bind({ fd }, () => resolve(socket));
    }
  });
}

/**
 * A TCP connection to `host`:`port` dialed from inside the network namespace `netns` (a name under
 * /run/netns) by this process, not flowing yet as connectInNetns answers it; undefined when the
 * addon (or its socket call) is absent or `host` is not an IP literal without a zone (the caller
 * then takes its broker path).
 */
export function connectNatively(netns: string, host: string, port: number, timeoutMs: number): Promise<net.Socket> | undefined {
  const ops = netnsOps();
  if (!ops?.socket || !nativeHost(host)) return undefined;
  let fd: number;
  try {
    fd = ops.socket(`/run/netns/${netns}`, net.isIPv6(host) ? 6 : 4);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const sock = new net.Socket({ fd });
  const connected = whenConnected(sock, timeoutMs, `dial tcp ${host}:${port}: i/o timeout`);
  sock.connect({ host, port });
  return connected;
}

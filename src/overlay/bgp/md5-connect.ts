// TCP connections to a BGP peer that has a password: every segment signed with the TCP MD5
// Signature Option (RFC 2385), as BIRD's `password` and FRR's `neighbor X password` require.
// Node.js cannot set TCP_MD5SIG, and the key must be on the socket before connect(2) signs the
// SYN, so the native addon in native/tcp-md5 (ours) creates the socket (inside the node's network
// namespace when there is one), sets the key for the peer's address, connects, and returns the
// descriptor, which becomes an ordinary net.Socket. No npm package sets TCP_MD5SIG (searched the
// registry for tcp md5 / rfc2385 / setsockopt, Dec 2026).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getSystemErrorName } from 'node:util';

interface TcpMd5Addon {
  connect(netnsPath: string | null, host: string, port: number, localAddress: string | null, key: Buffer, timeoutMs: number, done: (stage: string | null, value: number) => void): void;
}

export const TCP_MD5_ADDON_PATH = 'native/tcp-md5/build/Release/tcp_md5.node';
/** TCP_MD5SIG_MAXKEYLEN: the kernel takes keys of 1 to 80 bytes. */
export const MAX_PASSWORD_BYTES = 80;

let loaded: { addon?: TcpMd5Addon; error?: string } | undefined;

/** The addon, built by `npm ci` (native/tcp-md5), or why it is not there. */
export function loadTcpMd5Addon(): { addon?: TcpMd5Addon; error?: string } {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = { error: `TCP MD5 signatures need Linux (platform ${process.platform})` });
  // src/overlay/bgp (tsx) or dist/src/overlay/bgp (the build): the first ancestor holding it.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, TCP_MD5_ADDON_PATH);
    if (existsSync(candidate)) {
      try {
        return (loaded = { addon: createRequire(import.meta.url)(candidate) as TcpMd5Addon });
      } catch (err) {
        return (loaded = { error: `${candidate}: ${(err as Error).message}` });
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return (loaded = { error: `${TCP_MD5_ADDON_PATH} is not built (npm ci builds it; or run npm run build:native)` });
    dir = parent;
  }
}

export interface Md5ConnectOptions {
  /** A network namespace name (/run/netns/NAME); undefined: this process's own. */
  netns?: string;
  host: string;
  port: number;
  localAddress?: string;
  password: string;
  timeoutMs?: number;
}

/** A connected TCP socket whose segments carry an MD5 signature keyed with `password`. */
export function connectWithMd5(o: Md5ConnectOptions): Promise<net.Socket> {
  const { addon, error } = loadTcpMd5Addon();
  if (!addon) return Promise.reject(new Error(`TCP MD5 signatures (BGPPeer spec.password) are unavailable: ${error}`));
  const key = Buffer.from(o.password, 'utf8');
  return new Promise((resolve, reject) => {
    addon.connect(o.netns ? join('/run/netns', o.netns) : null, o.host, o.port, o.localAddress ?? null, key, o.timeoutMs ?? 5000, (stage, value) => {
      key.fill(0);
      if (stage === null) {
        resolve(new net.Socket({ fd: value, readable: true, writable: true }));
        return;
      }
      const code = getSystemErrorName(-value);
      const what = stage === 'timeout' ? 'connect timed out (a peer drops SYNs whose MD5 signature is wrong or missing)' : `${stage}: ${code}`;
      reject(Object.assign(new Error(`${what} (${o.host}:${o.port}, TCP MD5)`), { code }));
    });
  });
}

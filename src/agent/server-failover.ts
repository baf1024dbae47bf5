// An agent given several API servers reaches them through a local TCP relay (as k3s's agent load
// balancer does): the agent's client dials https://127.0.0.1:PORT, and each connection is relayed,
// TLS untouched, to the API server chosen by server-selection.ts. A dial that fails moves on to
// the next server at once; a periodic TCP probe of the server in use notices a server that went
// silent (a machine that is off answers nothing) and then closes the relayed connections to it,
// so the client's watches and requests reconnect through the next server. The relay listens on
// loopback only and adds no credential: every API request still carries the node's own client
// certificate, checked end to end by the API server (whose certificate names 127.0.0.1).
import net from 'node:net';
import type { Logger } from '../util/log.js';
import { chooseServer, initialStates, markFailed, markHealthy, type ServerState } from './server-selection.js';

export interface ServerFailoverOptions {
  log: Logger;
  /** How often the server in use is probed (default 2 s). */
  probeIntervalMs?: number;
  /** How long a dial or probe may take (default 3 s). */
  connectTimeoutMs?: number;
}

export interface ServerFailover {
  /** The URL the agent's client uses. */
  url: string;
  /** The server connections go to now. */
  activeServer(): string;
  close(): Promise<void>;
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443) };
}

function dial(url: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(hostPort(url));
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no TCP connection to ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export async function startServerFailover(urls: string[], opts: ServerFailoverOptions): Promise<ServerFailover> {
  const log = opts.log;
  const timeoutMs = opts.connectTimeoutMs ?? 3_000;
  let states: ServerState[] = initialStates(urls);
  let current = 0;
  /** Relayed connections, by the index of the server they go to. */
  const relayed = new Map<net.Socket, number>();

  const failed = (i: number, reason: string) => {
    const wasUp = states[i].downUntil <= Date.now();
    states = states.map((s, j) => (j === i ? markFailed(s, Date.now()) : s));
    if (wasUp) log.warn('API server unreachable; failing over', { server: states[i].url, reason, next: states[chooseServer(states, i, Date.now())].url });
  };
  const healthy = (i: number) => {
    if (states[i].failures > 0) log.info('API server reachable again', { server: states[i].url });
    states = states.map((s, j) => (j === i ? markHealthy(s) : s));
    if (i !== current) log.info('using API server', { server: states[i].url, previous: states[current].url });
    current = i;
  };

  const relay = async (inside: net.Socket) => {
    inside.pause();
    inside.on('error', () => inside.destroy());
    for (let attempt = 0; attempt < states.length; attempt++) {
      const i = chooseServer(states, current, Date.now());
      try {
        const outside = await dial(states[i].url, timeoutMs);
        if (inside.destroyed) {
          outside.destroy();
          return;
        }
        healthy(i);
        relayed.set(outside, i);
        const end = () => {
          relayed.delete(outside);
          inside.destroy();
          outside.destroy();
        };
        outside.on('error', end);
        outside.on('close', end);
        inside.on('close', end);
        inside.pipe(outside).pipe(inside);
        inside.resume();
        return;
      } catch (err) {
        failed(i, (err as Error).message);
      }
    }
    inside.destroy();
  };

  const listener = net.createServer((s) => void relay(s));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const port = (listener.address() as net.AddressInfo).port;

  let probing = false;
  const probe = setInterval(() => {
    if (probing) return;
    probing = true;
    const i = current;
    dial(states[i].url, timeoutMs).then(
      (s) => {
        s.destroy();
        healthy(i);
      },
      (err: Error) => {
        failed(i, err.message);
        // Connections to a server that stopped answering may hang for minutes: close them so
        // the client reconnects (through the next server).
        for (const [s, to] of relayed) if (to === i) s.destroy();
        current = chooseServer(states, i, Date.now());
      },
    ).finally(() => (probing = false));
  }, opts.probeIntervalMs ?? 2_000);
  probe.unref();

  log.info('API servers', { servers: urls, relay: `127.0.0.1:${port}` });
  return {
    url: `https://127.0.0.1:${port}`,
    activeServer: () => states[current].url,
    close: async () => {
      clearInterval(probe);
      for (const s of relayed.keys()) s.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

// Sockets inside network namespaces for a process that lives in another one.
//
// Node.js cannot setns(2) a thread, but a socket belongs to the namespace it was created in,
// not to the process using it. So a short-lived broker process started with `ip netns exec`
// creates the socket and passes its descriptor back over the IPC channel; from then on the
// root-namespace process serves or uses a pod's address without a process per pod.
// One broker per namespace is kept while in use and exits after a short idle time.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type dgram from 'node:dgram';
import type net from 'node:net';
import { connectNatively, listenNatively } from '../runtime/netns-ops.js';

export type ListenType = 'tcp' | 'udp4';

interface BrokerRequest {
  id: number;
  op: 'listen-tcp' | 'bind-udp' | 'connect-tcp';
  host: string;
  port: number;
  timeoutMs?: number;
}

interface BrokerReply {
  id: number;
  error?: string;
  code?: string;
}

// The broker's program, run with `node -e` inside the namespace. It only creates sockets and
// hands them over; it never reads or writes data.
const brokerSource = `
const net = require('node:net');
const dgram = require('node:dgram');
let idle;
const arm = () => { clearTimeout(idle); idle = setTimeout(() => process.exit(0), Number(process.env.FLATNET_BROKER_IDLE_MS || 3000)); };
arm();
process.on('disconnect', () => process.exit(0));
process.on('message', (req) => {
  arm();
  const fail = (err) => process.send({ id: req.id, error: err.message, code: err.code });
  if (req.op === 'listen-tcp') {
    const s = net.createServer();
    s.once('error', fail);
    s.listen({ host: req.host, port: req.port }, () => process.send({ id: req.id }, s, () => s.close()));
  } else if (req.op === 'bind-udp') {
    const s = dgram.createSocket('udp4');
    s.once('error', fail);
    s.bind(req.port, req.host, () => process.send({ id: req.id }, s, () => s.close()));
  } else if (req.op === 'connect-tcp') {
    const s = net.connect({ host: req.host, port: req.port });
    const timer = setTimeout(() => { s.destroy(); fail(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })); }, req.timeoutMs || 5000);
    s.once('error', (err) => { clearTimeout(timer); fail(err); });
    s.once('connect', () => { clearTimeout(timer); s.pause(); process.send({ id: req.id }, s, { keepOpen: false }); });
  }
});
`;

/** An error from inside a namespace, with the errno code (ECONNREFUSED, EADDRINUSE...) kept. */
export class NetnsSocketError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'NetnsSocketError';
  }
}

/** The broker must not inherit a test runner's or a loader's settings: it is plain Node.js. */
function brokerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

type Pending = { resolve: (handle: unknown) => void; reject: (err: Error) => void };

class Broker {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  exited = false;

  constructor(readonly netns: string) {
    this.child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', brokerSource], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: brokerEnv(),
    });
    let stderr = '';
    this.child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    this.child.on('message', (reply: BrokerReply, handle: unknown) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.error) p.reject(new NetnsSocketError(`in network namespace ${netns}: ${reply.error}`, reply.code));
      else p.resolve(handle);
    });
    this.child.on('exit', (code) => {
      this.exited = true;
      const why = stderr.trim() || `broker exited with code ${code}`;
      for (const p of this.pending.values()) p.reject(new NetnsSocketError(`network namespace ${netns}: ${why}`, undefined));
      this.pending.clear();
    });
    this.child.on('error', (err) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  /**
   * False once the broker is gone. Its IPC channel closes before its 'exit' event is seen, and a
   * caller that only awaits rejected requests never lets that event run: so check the channel too.
   */
  get usable(): boolean {
    return !this.exited && this.child.connected;
  }

  request(req: Omit<BrokerRequest, 'id'>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...req, id }, (err) => {
        if (err) {
          this.pending.delete(id);
          this.exited = true;
          reject(new NetnsSocketError(`network namespace ${this.netns}: the broker is gone (${err.message})`, undefined));
        }
      });
    });
  }

  stop(): void {
    if (!this.exited) this.child.kill();
  }
}

const brokers = new Map<string, Broker>();

function brokerFor(netns: string): Broker {
  let b = brokers.get(netns);
  if (!b || !b.usable) {
    b = new Broker(netns);
    brokers.set(netns, b);
  }
  return b;
}

async function ask(netns: string, req: Omit<BrokerRequest, 'id'>): Promise<unknown> {
  try {
    return await brokerFor(netns).request(req);
  } catch (err) {
    // A broker that had just gone idle is replaced once.
    if (err instanceof NetnsSocketError && err.code === undefined && brokers.get(netns)?.usable === false) {
      return brokerFor(netns).request(req);
    }
    throw err;
  }
}

/** A listening TCP server or bound UDP socket inside `netns`, served by this process. */
export async function listenInNetns(netns: string, opts: { host: string; port: number; type: 'tcp' }): Promise<net.Server>;
export async function listenInNetns(netns: string, opts: { host: string; port: number; type: 'udp4' }): Promise<dgram.Socket>;
export async function listenInNetns(netns: string, opts: { host: string; port: number; type: ListenType }): Promise<net.Server | dgram.Socket> {
  // Without a process when the netns-ops addon is built (src/runtime/netns-ops.ts).
  const native = listenNatively(netns, opts);
  if (native) {
    return native.catch((err: NodeJS.ErrnoException) => {
      throw new NetnsSocketError(`in network namespace ${netns}: ${err.message}`, err.code);
    });
  }
  const op = opts.type === 'tcp' ? 'listen-tcp' : 'bind-udp';
  return (await ask(netns, { op, host: opts.host, port: opts.port })) as net.Server | dgram.Socket;
}

/**
 * A TCP connection made from inside `netns`, not flowing yet: what arrives is kept until a consumer
 * listens for 'data', pipes it or resumes it.
 */
export async function connectInNetns(netns: string, host: string, port: number, timeoutMs = 5000): Promise<net.Socket> {
  // Without a process when the netns-ops addon is built and `host` is an IP literal without a zone (src/runtime/netns-ops.ts).
  const native = connectNatively(netns, host, port, timeoutMs);
  if (native) {
    return native.catch((err: NodeJS.ErrnoException) => {
      throw new NetnsSocketError(`in network namespace ${netns}: ${err.message}`, err.code);
    });
  }
  return (await ask(netns, { op: 'connect-tcp', host, port, timeoutMs })) as net.Socket;
}

/** Spawns a command inside `netns` (`ip netns exec`, which also bind-mounts /etc/netns/<netns>/*). */
export function runInNetns(netns: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, ...argv], opts);
}

/** Stops the brokers (for a clean exit of short-lived processes and tests). */
export function stopNetnsBrokers(): void {
  for (const b of brokers.values()) b.stop();
  brokers.clear();
}

// Polling the Gateway from flatnet-ext, two ways, for bench/gateway/programming.ts:
//  - 'new-connection': every request on a new TCP connection (made inside flatnet-ext through the
//    netns socket broker, then through the LoadBalancer DNAT to a proxy pod), as a fresh client.
//    SPARES connections are kept open ahead, so a probe does not wait for the broker (a request to
//    another process and a file descriptor passed back: 10-15 ms on a loaded machine, at times
//    ~200 ms: a cost of this bench, not of the Gateway); the proxy still sees every request on a
//    connection it has not served before. With one spare, a sample's check before its create took
//    it and the first probe after the create waited for the broker (seen in a packet capture at
//    the proxy pod: the request reached the proxy 194 ms after the probe started, and the proxy
//    answered in 2 ms); lastSocketWaitMs says how long a probe waited;
//  - 'keep-alive': one connection kept open across requests (made again only if the proxy closes
//    it), so connection setup is not counted and each probe costs one request.
// The proxy looks up its current routing table per request, so a kept-open connection sees a new
// route as soon as a new connection would.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { connectFromExt } from '../../test/support/lab.js';

export type PollMode = 'keep-alive' | 'new-connection';

/** New-connection mode: connections kept open ahead of the probes. */
const SPARES = 3;

/** A keep-alive agent whose sockets are made inside flatnet-ext. */
class ExtAgent extends http.Agent {
  connections = 0;

  constructor(private readonly address: string) {
    super({ keepAlive: true, maxSockets: 1 });
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, socket: Duplex) => void): Duplex | undefined {
    this.connections += 1;
    connectFromExt(this.address, Number(options.port ?? 80), undefined, 5000).then(
      (sock) => callback?.(null, sock),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

export class ExtPoller {
  private readonly agent: ExtAgent;
  /** Connections the next new-connection probes use, opened ahead, oldest first. */
  private spares: Promise<Duplex>[] = [];
  /** How long the last new-connection probe waited for its connection (ms; 0 when it was open already). */
  lastSocketWaitMs = 0;

  constructor(
    readonly mode: PollMode,
    private readonly address: string,
  ) {
    this.agent = new ExtAgent(address);
  }

  /** TCP connections opened so far (keep-alive mode; the other mode opens one per request). */
  get connections(): number {
    return this.agent.connections;
  }

  /** One GET / with this Host; the status, or 0 when the connection or request failed. */
  status(host: string, timeoutMs = 5000): Promise<number> {
    if (this.mode === 'new-connection') return this.probeOnNewConnection(host, timeoutMs);
    return new Promise((resolve) => {
      const req = http.request({ host: this.address, port: 80, path: '/', headers: { host }, agent: this.agent, setHost: false, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
      req.end();
    });
  }

  private openSpare(): Promise<Duplex> {
    const next = connectFromExt(this.address, 80, undefined, 5000);
    next.catch(() => undefined); // a failed spare fails the probe that takes it
    return next;
  }

  private async probeOnNewConnection(host: string, timeoutMs: number): Promise<number> {
    const sock = this.spares.shift() ?? this.openSpare();
    while (this.spares.length < SPARES) this.spares.push(this.openSpare());
    let socket: Duplex;
    const waitFrom = performance.now();
    try {
      socket = await sock;
    } catch {
      return 0;
    }
    this.lastSocketWaitMs = performance.now() - waitFrom;
    return new Promise((resolve) => {
      const req = http.request({ host: this.address, port: 80, path: '/', headers: { host, connection: 'close' }, createConnection: () => socket, setHost: false, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        res.on('error', () => resolve(0));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        socket.destroy();
        resolve(0);
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
    for (const spare of this.spares) void spare.then((s) => s.destroy(), () => undefined);
    this.spares = [];
  }
}

// The agent's kubelet endpoint: the API server proxies pods/log, pods/exec, pods/attach and
// pods/portforward here. HTTPS with the node's serving certificate (CA-signed, its addresses as
// names); only a client certificate from the cluster CA with an allowed subject (the API server's
// kube-apiserver-kubelet-client) is served, anything else gets 401. In a lab the listener is
// opened inside the node's network namespace, at the node's own address.
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { basename } from 'node:path';
import type { Duplex } from 'node:stream';
import { connectTcp, listenTcp } from '../workloads/sockets.js';
import { checkProxyPath } from '../apiserver/proxy.js';
import { ApiStatusError } from '../apiserver/errors.js';
import { KUBELET_CLIENT_COMMON_NAME, TLS_SERVING_OPTIONS } from '../apiserver/tls.js';
import { agnhostConnect } from '../workloads/agnhost.js';
import { execArgv } from '../workloads/images.js';
import type { Logger } from '../util/log.js';
import { readLogFile, renderEntry, renderLogEntries, type LogEntry, type LogQuery } from './container-log.js';
import { findProgram, exitOf } from './container-process.js';
import type { ContainerRunner } from './container-runner.js';
import type { PodWorker } from './pod-worker.js';
import { ChannelPortForwardSession, SpdyPortForwardSession, type PortDialer } from './port-forward.js';
import { ChannelStreams, chooseStreamProtocol, exitCodeStatus, failureStatus, parseStreamOptions, STREAM_PROTOCOLS, successStatus } from './remote-command.js';
import { acceptWebSocket, isWebSocketUpgrade, offeredProtocols, type WebSocketConnection } from './websocket.js';

export interface KubeletPods {
  find(namespace: string, name: string): PodWorker | undefined;
  busyboxApplets: ReadonlySet<string>;
}

export interface KubeletServerOptions {
  listen: string;
  /** The network namespace to listen in (default: this process's). */
  netns?: string;
  /** The node's serving certificate and key, and the cluster CA that signs callers' certificates. */
  tls: { certPem: string; keyPem: string; caPem: string };
  /** Subjects (CN) whose CA-signed client certificates are served (default: the API server's). */
  allowedClients?: string[];
  pods: KubeletPods;
  log: Logger;
  /** Serves the node's flow events (/flows) and metrics (/metrics): src/flows/agent-flows.ts. */
  flows?: { handle(req: http.IncomingMessage, res: http.ServerResponse): boolean };
}

const PATH_RE = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)$/;
const SPDY_PORTFORWARD = 'SPDY/3.1+portforward.k8s.io';

function statusBody(code: number, message: string, reason: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function reasonFor(code: number): string {
  return code === 400 ? 'BadRequest' : code === 401 ? 'Unauthorized' : code === 404 ? 'NotFound' : 'InternalError';
}

function respond(res: http.ServerResponse, code: number, message: string): void {
  const body = statusBody(code, message, reasonFor(code));
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function rejectUpgrade(socket: Duplex, code: number, message: string): void {
  const body = statusBody(code, message, reasonFor(code));
  socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i === -1 || !Number.isInteger(port)) throw new Error(`--kubelet-listen "${listen}" must be host:port, such as 127.0.0.1:10250`);
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1', port };
}

const UNAUTHORIZED = 'the kubelet endpoint serves only the API server (a client certificate from the cluster CA for kube-apiserver-kubelet-client)';

/** The refusal of a path with dot segments or encoded separators, or undefined when it is clean. */
function pathProblem(url: string): string | undefined {
  try {
    checkProxyPath(url);
    return undefined;
  } catch (err) {
    return err instanceof ApiStatusError ? err.status.message : 'invalid path';
  }
}

export class KubeletServer {
  private readonly server: https.Server;
  private listener: net.Server | undefined;
  private readonly allowed: Set<string>;

  constructor(private readonly opts: KubeletServerOptions) {
    this.allowed = new Set(opts.allowedClients ?? [KUBELET_CLIENT_COMMON_NAME]);
    this.server = https.createServer(
      { cert: opts.tls.certPem, key: opts.tls.keyPem, ca: opts.tls.caPem, requestCert: true, rejectUnauthorized: false, ...TLS_SERVING_OPTIONS, handshakeTimeout: 10_000 },
      (req, res) => this.onRequest(req, res),
    );
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('tlsClientError', () => undefined);
  }

  async listen(): Promise<{ host: string; port: number }> {
    const { host, port } = parseListen(this.opts.listen);
    const listener = await listenTcp(this.opts.netns ?? '', host, port);
    this.listener = listener;
    listener.on('connection', (sock: net.Socket) => this.server.emit('connection', sock));
    return { host, port: (listener.address() as net.AddressInfo).port };
  }

  close(): void {
    this.listener?.close();
    this.server.close();
    this.server.closeAllConnections();
  }

  private authorized(req: http.IncomingMessage): boolean {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return false;
    const cn = socket.getPeerCertificate()?.subject?.CN;
    return typeof cn === 'string' && this.allowed.has(cn);
  }

  private route(req: http.IncomingMessage): { url: URL; worker?: PodWorker; kind?: string; error?: [number, string] } {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const m = PATH_RE.exec(url.pathname);
    if (!m) return { url, error: [404, `the kubelet endpoint serves /api/v1/namespaces/<ns>/pods/<name>/{log,exec,attach,portforward}, not ${url.pathname}`] };
    const [ns, name, kind] = [decodeURIComponent(m[1]), decodeURIComponent(m[2]), m[3]];
    const worker = this.opts.pods.find(ns, name);
    if (!worker || !worker.sandbox) return { url, kind, error: [404, `pod "${name}" in namespace "${ns}" is not running on this node`] };
    return { url, worker, kind };
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.url === '/healthz') {
      res.end('ok');
      return;
    }
    if (!this.authorized(req)) return respond(res, 401, UNAUTHORIZED);
    const bad = pathProblem(req.url ?? '/');
    if (bad) return respond(res, 400, bad);
    if (this.opts.flows?.handle(req, res)) return;
    const { url, worker, kind, error } = this.route(req);
    if (error) return respond(res, ...error);
    if (kind === 'log') return this.serveLog(url.searchParams, worker!, res);
    respond(res, 400, `${kind} needs a connection upgrade (WebSocket)`);
  }

  private serveLog(q: URLSearchParams, worker: PodWorker, res: http.ServerResponse): void {
    const name = q.get('container') ?? undefined;
    const runner = worker.findContainer(name);
    const podName = worker.pod.metadata.name;
    if (!runner) return respond(res, 400, `container ${name} is not valid for pod ${podName}`);
    const previous = q.get('previous') === 'true';
    const path = previous ? runner.previousLogPath : runner.log?.path;
    if (!path) {
      if (previous) return respond(res, 400, `previous terminated container "${runner.spec.name}" in pod "${podName}" not found`);
      const waiting = runner.status.state.waiting;
      return respond(res, 400, `container "${runner.spec.name}" in pod "${podName}" is waiting to start: ${waiting?.reason ?? 'ContainerCreating'}`);
    }
    const query: LogQuery = {
      timestamps: q.get('timestamps') === 'true',
      tailLines: q.has('tailLines') ? Number(q.get('tailLines')) : undefined,
      limitBytes: q.has('limitBytes') ? Number(q.get('limitBytes')) : undefined,
      sinceTime: q.get('sinceTime') ?? (q.has('sinceSeconds') ? new Date(Date.now() - Number(q.get('sinceSeconds')) * 1000).toISOString() : undefined),
    };
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    const text = renderLogEntries(readLogFile(path), query);
    let sent = Buffer.byteLength(text);
    res.write(text);
    const log = runner.log;
    const follow = q.get('follow') === 'true' && !previous && log && !log.closed && (query.limitBytes === undefined || sent < query.limitBytes);
    if (!follow) {
      res.end();
      return;
    }
    const onEntry = (e: LogEntry) => {
      let chunk = renderEntry(e, query.timestamps === true);
      if (query.limitBytes !== undefined) {
        chunk = Buffer.from(chunk).subarray(0, Math.max(0, query.limitBytes - sent)).toString();
      }
      sent += Buffer.byteLength(chunk);
      res.write(chunk);
      if (query.limitBytes !== undefined && sent >= query.limitBytes) stop();
    };
    const stop = () => {
      log.off('entry', onEntry);
      log.off('end', stop);
      res.end();
    };
    log.on('entry', onEntry);
    log.on('end', stop);
    res.on('close', () => {
      log.off('entry', onEntry);
      log.off('end', stop);
    });
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    if (!this.authorized(req)) return rejectUpgrade(socket, 401, UNAUTHORIZED);
    const bad = pathProblem(req.url ?? '/');
    if (bad) return rejectUpgrade(socket, 400, bad);
    const { url, worker, kind, error } = this.route(req);
    if (error) return rejectUpgrade(socket, ...error);
    const dial = this.podDialer(worker!);
    const target = `pod ${worker!.key}, uid ${worker!.uid}`;
    if (kind === 'portforward' && (req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1') {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
      const session = new SpdyPortForwardSession({ write: (b) => socket.write(b), close: () => socket.end() }, dial, target);
      if (head.length > 0) session.push(head);
      socket.on('data', (c: Buffer) => session.push(c));
      socket.on('close', () => session.close());
      return;
    }
    if (!isWebSocketUpgrade(req)) return rejectUpgrade(socket, 400, `${kind} needs a WebSocket upgrade with one of the subprotocols ${STREAM_PROTOCOLS.join(', ')}`);
    const offered = offeredProtocols(req);
    if (kind === 'portforward') {
      if (offered.includes(SPDY_PORTFORWARD)) {
        const ws = acceptWebSocket(req, socket, head, SPDY_PORTFORWARD);
        const session = new SpdyPortForwardSession({ write: (b) => ws.send(b), close: () => ws.close() }, dial, target);
        ws.on('message', (data: Buffer) => session.push(data));
        ws.on('close', () => session.close());
        return;
      }
      const protocol = chooseStreamProtocol(offered) ?? (offered.includes('portforward.k8s.io') ? 'portforward.k8s.io' : undefined);
      const ports = (url.searchParams.getAll('ports').join(',') || '').split(',').filter((p) => p !== '').map(Number);
      if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) return rejectUpgrade(socket, 400, 'portforward over the channel protocol needs ?ports=<port>[,<port>...]');
      const ws = acceptWebSocket(req, socket, head, protocol);
      const session = new ChannelPortForwardSession((b) => ws.send(b), () => ws.close(), ports, dial);
      ws.on('message', (data: Buffer) => session.onMessage(data));
      ws.on('close', () => session.close());
      return;
    }
    const protocol = chooseStreamProtocol(offered);
    if (!protocol) return rejectUpgrade(socket, 400, `${kind} needs one of the WebSocket subprotocols ${STREAM_PROTOCOLS.join(', ')} (offered: ${offered.join(', ') || 'none'})`);
    const opts = parseStreamOptions(url.searchParams);
    const runner = worker!.findContainer(opts.container);
    if (!runner) return rejectUpgrade(socket, 400, `container ${opts.container} is not valid for pod ${worker!.pod.metadata.name}`);
    if (!runner.isRunning) return rejectUpgrade(socket, 400, `container ${runner.spec.name} is not running (state: ${Object.keys(runner.status.state)[0] ?? 'unknown'})`);
    if (kind === 'exec' && opts.command.length === 0) return rejectUpgrade(socket, 400, 'exec needs at least one command= parameter');
    const ws = acceptWebSocket(req, socket, head, protocol);
    const streams = new ChannelStreams({ send: (b) => ws.send(b), close: () => ws.close() }, protocol, opts);
    ws.on('message', (data: Buffer) => streams.onMessage(data));
    if (kind === 'exec') this.exec(worker!, runner, streams, ws);
    else this.attach(runner, streams, ws);
  }

  private podDialer(worker: PodWorker): PortDialer {
    return (port) => connectTcp(worker.sandbox!.netns, '127.0.0.1', port);
  }

  private exec(worker: PodWorker, runner: ContainerRunner, streams: ChannelStreams, ws: WebSocketConnection): void {
    const netns = worker.sandbox!.netns;
    const command = streams.opts.command;
    if (basename(command[0]) === 'agnhost' && command[1] === 'connect') {
      void agnhostConnect(netns, command.slice(2), { stderr: (t) => streams.stderr(t) }).then((code) => streams.finish(exitCodeStatus(code)));
      return;
    }
    const argv = execArgv(runner.plan?.kind === 'invalid' ? undefined : runner.plan?.image, command, this.opts.pods.busyboxApplets);
    const env = { ...runner.env };
    if (!findProgram(argv[0], env.PATH ?? process.env.PATH ?? '')) {
      streams.finish(failureStatus(`error executing command in container: exec: "${argv[0]}": executable file not found in $PATH (flatnet runs programs of this machine inside the pod)`));
      return;
    }
    // Inside the container's namespaces and as its user (isolation-plan.ts).
    const line = runner.execCommandLine(argv, streams.opts.tty);
    if (!line) {
      streams.finish(failureStatus(`error executing command in container: container ${runner.spec.name} is not running`));
      return;
    }
    const [cmd, ...args] = line;
    const child = spawn(cmd, args, { cwd: runner.spec.workingDir || '/', env: streams.opts.tty ? { TERM: 'xterm', ...env } : env, stdio: [streams.opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
    child.stdout?.on('data', (c: Buffer) => streams.stdout(c));
    child.stderr?.on('data', (c: Buffer) => streams.stderr(c));
    child.stdin?.on('error', () => undefined);
    streams.attachStdin(child.stdin ?? undefined);
    child.on('error', (err) => streams.finish(failureStatus(`error executing command in container: ${err.message}`)));
    child.on('close', (code, signal) => streams.finish(exitCodeStatus(exitOf(code, signal).exitCode)));
    ws.on('close', () => {
      if (!streams.finished && child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
  }

  private attach(runner: ContainerRunner, streams: ChannelStreams, ws: WebSocketConnection): void {
    const log = runner.log;
    if (!log) {
      streams.finish(failureStatus(`container ${runner.spec.name} has no output stream`));
      return;
    }
    const stdinOnce = runner.spec.stdinOnce === true;
    if (streams.opts.stdin) {
      const target = runner.stdin;
      if (!runner.spec.stdin || !target) {
        streams.finish(failureStatus(`container ${runner.spec.name} was not created with stdin: true; attach without -i, or set stdin: true`, 400, 'BadRequest'));
        return;
      }
      // The client closing its stdin ends the container's stdin only with stdinOnce.
      streams.attachStdin({ write: (d) => target.write(d), end: () => (stdinOnce ? runner.closeStdin() : undefined) });
    }
    const onEntry = (e: LogEntry) => {
      const text = renderEntry(e, false);
      if (e.stream === 'stdout') streams.stdout(text);
      else streams.stderr(text);
    };
    const onEnd = () => {
      cleanup();
      // As the kubelet does, an attach ends without error when the container exits; clients
      // read the exit code from the pod status.
      streams.finish(successStatus());
    };
    const cleanup = () => {
      log.off('entry', onEntry);
      log.off('end', onEnd);
    };
    log.on('entry', onEntry);
    log.on('end', onEnd);
    ws.on('close', () => {
      cleanup();
      if (stdinOnce) runner.closeStdin();
    });
  }
}

// pods/{log,exec,attach,portforward,proxy} and nodes/proxy: the request goes to the agent of the
// pod's node, at the address and port the node itself registered in its status (InternalIP, else
// ExternalIP, and status.daemonEndpoints.kubeletEndpoint.Port; nothing a user can set in metadata
// is read), over TLS verified against the cluster CA and the node's own serving certificate
// (subject system:node:<name> in system:nodes, the dialed address among its names), presenting
// the API server's kubelet client certificate. No bearer token is forwarded. A path with a dot
// segment or an encoded slash, backslash, dot or NUL is refused with 400 before anything is sent.
// Upgrades (WebSocket, SPDY) become a byte pipe in both directions after the request head.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { connectInNetns } from '../linux/netns-socket.js';
import { closeAfterFlush, closedBroken } from '../util/close-after-flush.js';
import { ApiStatusError, errors } from './errors.js';
import { GROUP_NODES, NODE_USER_PREFIX } from './node-identity/csr-decision.js';
import type { Registry } from './registry.js';
import { endToEndHeaders, isPseudoHeader } from './http2.js';

const POD_STREAMS = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

export function isProxyRoute(route: { r: { group: string; plural: string }; subresource?: string }): boolean {
  if (route.r.group !== '') return false;
  if (route.r.plural === 'pods') return route.subresource !== undefined && POD_STREAMS.has(route.subresource);
  if (route.r.plural === 'nodes') return route.subresource === 'proxy';
  return false;
}

export interface KubeletTarget {
  nodeName: string;
  host: string;
  port: number;
  /** The path and query sent to the agent. */
  path: string;
}

/** Address types tried in order, as kube-apiserver's --kubelet-preferred-address-types (kubeadm's choice, without Hostname). */
const PREFERRED_ADDRESS_TYPES = ['InternalIP', 'ExternalIP'];

/** Where a node's agent serves: an address from its status and its registered kubelet port. */
export function kubeletEndpoint(node: KubeObject): { host: string; port: number } | undefined {
  const status = (node.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
  const port = status.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!Number.isInteger(port) || port! <= 0 || port! > 65535) return undefined;
  for (const type of PREFERRED_ADDRESS_TYPES) {
    const address = status.addresses?.find((a) => a.type === type && net.isIP(a.address) !== 0)?.address;
    if (address) return { host: address, port: port! };
  }
  return undefined;
}

const ENCODED_SEPARATOR = /%(2f|5c|00)/i;

/**
 * Refuses (400) a proxied path with `.`/`..` segments, encoded dots forming one, or an encoded
 * slash, backslash or NUL anywhere, however many times it is percent-encoded.
 */
export function checkProxyPath(rawUrl: string): void {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const refuse = (why: string): never => {
    throw errors.badRequest(`the path ${JSON.stringify(path)} is not allowed for proxying: ${why}`);
  };
  if (path.includes('\\')) refuse('it contains a backslash');
  for (const segment of path.split('/')) {
    let s = segment;
    for (let i = 0; i < 5; i++) {
      if (ENCODED_SEPARATOR.test(s)) refuse('it contains an encoded slash, backslash or NUL');
      if (s === '.' || s === '..') refuse('it contains a dot segment');
      let decoded: string;
      try {
        decoded = decodeURIComponent(s);
      } catch {
        refuse('it is not valid percent-encoding');
      }
      if (decoded! === s) break;
      if (decoded!.includes('/') || decoded!.includes('\\') || decoded!.includes('\0')) refuse('it contains an encoded slash, backslash or NUL');
      s = decoded!;
    }
  }
}

/**
 * Any request under pods/ or nodes/ whose path has a dot segment or an encoded separator is refused
 * (400) before routing, so that no spelling of a traversal can reach (or route around) the proxy.
 */
export function checkPodOrNodePath(pathname: string): void {
  if (/\/(pods|nodes)(\/|$)/i.test(pathname) && /[.%\\]/.test(pathname)) checkProxyPath(pathname);
}

/** The path the agent serves for a proxied request: pod paths as they are, nodes/<n>/proxy/<rest> as /<rest>. */
function agentPath(route: { r: { plural: string }; name?: string }, rawUrl: string): string {
  if (route.r.plural !== 'nodes') return rawUrl;
  const prefix = `/api/v1/nodes/${route.name}/proxy`;
  const rest = rawUrl.startsWith(prefix) ? rawUrl.slice(prefix.length) : '/';
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
}

/** Where a proxied request goes, or a Status error saying why it cannot go anywhere. */
export function proxyTarget(registry: Registry, route: { r: { plural: string }; namespace?: string; name?: string }, rawUrl: string): KubeletTarget {
  checkProxyPath(rawUrl);
  let nodeName: string;
  if (route.r.plural === 'pods') {
    if (route.namespace === undefined || route.name === undefined) throw errors.pathNotFound();
    const pod = registry.get(R.pods, route.namespace, route.name).obj;
    const assigned = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
    if (!assigned) throw errors.badRequest(`pod ${route.name} does not have a host assigned`);
    nodeName = assigned;
  } else {
    if (route.name === undefined) throw errors.pathNotFound();
    nodeName = route.name;
  }
  const node = registry.store.get('/nodes', '', nodeName);
  if (!node) throw errors.serviceUnavailable(`node "${nodeName}" does not exist, so its agent cannot be reached`);
  const ep = kubeletEndpoint(node.obj);
  if (!ep) {
    throw errors.serviceUnavailable(
      `node "${nodeName}" has no agent endpoint: its agent has not registered status.addresses (InternalIP or ExternalIP) and status.daemonEndpoints.kubeletEndpoint.Port`,
    );
  }
  return { nodeName, ...ep, path: agentPath(route, rawUrl) };
}

export interface KubeletClientOptions {
  /** The cluster CA that signs node serving certificates. */
  caPem: string;
  /** The API server's kubelet client certificate and key. */
  certPem: string;
  keyPem: string;
  /** A network namespace to dial agents from (the lab's underlay switch); default this process's. */
  netns?: string;
  connectTimeoutMs?: number;
}

/** Opens verified TLS connections to agents. */
export class KubeletDialer {
  constructor(private readonly opts: KubeletClientOptions) {}

  private async tcp(host: string, port: number): Promise<net.Socket> {
    const timeout = this.opts.connectTimeoutMs ?? 5000;
    if (this.opts.netns) return connectInNetns(this.opts.netns, host, port, timeout);
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeout);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(sock);
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** A TLS connection to `t`'s agent whose certificate is node `t.nodeName`'s serving certificate for `t.host`. */
  async dial(t: Pick<KubeletTarget, 'nodeName' | 'host' | 'port'>): Promise<tls.TLSSocket> {
    const raw = await this.tcp(t.host, t.port);
    raw.setNoDelay(true);
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        socket: raw,
        ca: this.opts.caPem,
        cert: this.opts.certPem,
        key: this.opts.keyPem,
        minVersion: 'TLSv1.2',
        checkServerIdentity: (_host, cert) => checkNodeServingCertificate(t.nodeName, t.host, cert),
      });
      const fail = (err: Error) => {
        socket.destroy();
        raw.destroy();
        reject(err);
      };
      socket.once('secureConnect', () => {
        socket.off('error', fail);
        resolve(socket);
      });
      socket.once('error', fail);
    });
  }
}

/** Whether `cert` is node `nodeName`'s serving certificate for `host` (the CA chain is checked by TLS). */
export function checkNodeServingCertificate(nodeName: string, host: string, cert: tls.PeerCertificate): Error | undefined {
  const want = `${NODE_USER_PREFIX}${nodeName}`;
  const o = cert.subject?.O as string | string[] | undefined;
  const orgs = o === undefined ? [] : Array.isArray(o) ? o : [o];
  if (cert.subject?.CN !== want || !orgs.includes(GROUP_NODES)) {
    return new Error(`the agent at ${host} presented a certificate for ${JSON.stringify(cert.subject?.CN ?? '')}, not node ${nodeName}'s serving certificate (${want})`);
  }
  return tls.checkServerIdentity(host, cert);
}

function dialError(t: KubeletTarget, err: Error): ApiStatusError {
  return errors.serviceUnavailable(`error dialing backend: ${err.message} (agent of node "${t.nodeName}" at ${t.host}:${t.port})`);
}

const DROPPED_HEADERS = new Set(['authorization', 'host', 'cookie', 'proxy-authorization']);

function isDroppedHeader(lower: string): boolean {
  return DROPPED_HEADERS.has(lower) || lower.startsWith('impersonate-') || isPseudoHeader(lower);
}

function forwardHeaders(headers: http.IncomingHttpHeaders, t: KubeletTarget): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!isDroppedHeader(k)) out[k] = v;
  out.host = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  return out;
}

function sendError(res: http.ServerResponse, err: ApiStatusError): void {
  const body = JSON.stringify(err.status);
  res.writeHead(err.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Proxies a plain HTTP request (logs, for example), streaming the answer. */
export async function proxyHttp(req: http.IncomingMessage, res: http.ServerResponse, t: KubeletTarget, dialer: KubeletDialer): Promise<void> {
  let socket: tls.TLSSocket;
  try {
    socket = await dialer.dial(t);
  } catch (err) {
    if (!res.headersSent) sendError(res, dialError(t, err as Error));
    else res.destroy();
    return;
  }
  await new Promise<void>((resolve) => {
    const upstream = http.request({ method: req.method, path: t.path, headers: forwardHeaders(req.headers, t), createConnection: () => socket }, (up) => {
      res.writeHead(up.statusCode ?? 502, endToEndHeaders(up.headers));
      up.pipe(res);
      up.on('end', resolve);
      up.on('error', () => {
        res.destroy();
        resolve();
      });
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) sendError(res, dialError(t, err));
      else res.destroy();
      resolve();
    });
    res.on('close', () => {
      upstream.destroy();
      socket.destroy();
      resolve();
    });
    req.pipe(upstream);
  });
}

/** Writes a Status as a raw HTTP response on a socket that asked for an upgrade. */
export function rejectUpgrade(socket: Duplex, err: ApiStatusError): void {
  const body = JSON.stringify(err.status);
  const reason = http.STATUS_CODES[err.code] ?? 'Error';
  socket.end(`HTTP/1.1 ${err.code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** Proxies an upgrade request (WebSocket or SPDY): request head, then bytes both ways. */
export function proxyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, t: KubeletTarget, dialer: KubeletDialer): void {
  let closed = false;
  socket.on('error', () => undefined);
  socket.once('close', () => (closed = true));
  dialer.dial(t).then(
    (upstream) => {
      if (closed) {
        upstream.destroy();
        return;
      }
      const lines = [`${req.method} ${t.path} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i];
        if (isDroppedHeader(k.toLowerCase())) continue;
        lines.push(`${k}: ${req.rawHeaders[i + 1]}`);
      }
      lines.push(`Host: ${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`);
      upstream.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', (hadError: boolean) => closeAfterFlush(socket, closedBroken(upstream, hadError)));
    },
    (err: Error) => {
      if (!closed) rejectUpgrade(socket, dialError(t, err));
    },
  );
}

// pods/{log,exec,attach,portforward} and nodes/proxy: the request goes, with the same path and
// query, to the agent of the pod's node over plain HTTP with the admin token. Upgrades
// (WebSocket, SPDY) become a byte pipe in both directions after the request head.
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { ApiStatusError, errors } from './errors.js';
import type { Registry } from './registry.js';

export const KUBELET_ENDPOINT_ANNOTATION = 'flatnet.dev/kubelet-endpoint';

const POD_STREAMS = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

export function isProxyRoute(route: { r: { group: string; plural: string }; subresource?: string }): boolean {
  if (route.r.group !== '') return false;
  if (route.r.plural === 'pods') return route.subresource !== undefined && POD_STREAMS.has(route.subresource);
  if (route.r.plural === 'nodes') return route.subresource === 'proxy';
  return false;
}

export interface Endpoint {
  host: string;
  port: number;
}

/** The agent endpoint of a node: the annotation, else InternalIP + daemonEndpoints.kubeletEndpoint.Port. */
export function kubeletEndpoint(node: KubeObject): Endpoint | undefined {
  const ann = node.metadata.annotations?.[KUBELET_ENDPOINT_ANNOTATION];
  if (ann) {
    const m = ann.match(/^\[?([^\]]+?)\]?:(\d+)$/);
    if (m) return { host: m[1], port: Number(m[2]) };
  }
  const status = (node.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
  const ip = status.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = status.daemonEndpoints?.kubeletEndpoint?.Port;
  if (ip && port) return { host: ip, port };
  return undefined;
}

/** Where a proxied request goes, or a Status error saying why it cannot go anywhere. */
export function proxyTarget(registry: Registry, route: { r: { plural: string }; namespace?: string; name?: string }): Endpoint {
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
      `node "${nodeName}" has no agent endpoint: set the annotation ${KUBELET_ENDPOINT_ANNOTATION} ("host:port") or status.addresses InternalIP and status.daemonEndpoints.kubeletEndpoint.Port`,
    );
  }
  return ep;
}

function forwardHeaders(headers: http.IncomingHttpHeaders, ep: Endpoint, token: string): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = { ...headers };
  out.authorization = `Bearer ${token}`;
  out.host = `${ep.host}:${ep.port}`;
  return out;
}

/** Proxies a plain HTTP request (logs, for example), streaming the answer. */
export function proxyHttp(req: http.IncomingMessage, res: http.ServerResponse, ep: Endpoint, token: string): Promise<void> {
  return new Promise((resolve) => {
    const upstream = http.request({ host: ep.host, port: ep.port, method: req.method, path: req.url, headers: forwardHeaders(req.headers, ep, token) }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      up.on('end', resolve);
      up.on('error', () => {
        res.destroy();
        resolve();
      });
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) {
        const status = errors.serviceUnavailable(`error dialing backend: ${err.message} (agent at ${ep.host}:${ep.port})`).status;
        const body = JSON.stringify(status);
        res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else res.destroy();
      resolve();
    });
    res.on('close', () => upstream.destroy());
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
export function proxyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, ep: Endpoint, token: string): void {
  const upstream = net.connect(ep.port, ep.host);
  upstream.setNoDelay(true);
  let connected = false;
  upstream.on('connect', () => {
    connected = true;
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i];
      const lower = k.toLowerCase();
      if (lower === 'authorization' || lower === 'host') continue;
      lines.push(`${k}: ${req.rawHeaders[i + 1]}`);
    }
    lines.push(`Host: ${ep.host}:${ep.port}`, `Authorization: Bearer ${token}`);
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  upstream.on('error', (err) => {
    if (!connected) rejectUpgrade(socket, errors.serviceUnavailable(`error dialing backend: ${err.message} (agent at ${ep.host}:${ep.port})`));
    else socket.destroy();
  });
  socket.on('error', () => upstream.destroy());
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
}

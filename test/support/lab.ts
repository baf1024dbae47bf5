// A real lab for end-to-end tests: `flatnet up` once, the real kubectl against it, HTTP clients
// whose sockets live in flatnet-ext (the outside client on the underlay), `flatnet down` at the end.
// A test that cannot run (not root, a tool missing) fails with the reason; it never skips.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { ApiError, KubeClient } from '../../src/client/client.js';
import { loadKubeconfig } from '../../src/client/kubeconfig.js';
import { connectInNetns, listenInNetns, stopNetnsBrokers } from '../../src/linux/netns-socket.js';
import { eventually } from './eventually.js';

export { eventually };

const repo = new URL('../../', import.meta.url).pathname;
export const FLATNET = join(repo, 'bin/flatnet');
export const EXT_NETNS = 'flatnet-ext';

/** Throws (so the test fails, not skips) when the lab cannot run here. */
export function assertLabPrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error('this end-to-end test needs root: it starts a flatnet lab (network namespaces, nftables); run it as root');
  for (const tool of ['kubectl', 'ip', 'curl', 'openssl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`this end-to-end test needs "${tool}" on PATH`);
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program; resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a program that exits before reading its input (EPIPE)
    child.stdin.end(opts.input ?? '');
  });
}

export interface Lab {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** The API as the admin (reads without a kubectl process each). */
  client: KubeClient;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  /** kubectl that must succeed; answers stdout. */
  ok(args: string[], input?: string): Promise<string>;
  apply(yaml: string): Promise<void>;
  /** Deletes what `yaml` names (missing objects are fine). */
  remove(yaml: string): Promise<void>;
  getJson<T = Record<string, unknown>>(kind: string, name: string, namespace?: string): Promise<T | undefined>;
  down(): Promise<void>;
}

/** API group paths of the kinds tests read (the resource is the lower-case plural of the kind). */
const API_PATHS: Record<string, string> = {
  gateway: '/apis/gateway.networking.k8s.io/v1',
  gatewayclass: '/apis/gateway.networking.k8s.io/v1',
  httproute: '/apis/gateway.networking.k8s.io/v1',
  grpcroute: '/apis/gateway.networking.k8s.io/v1',
  tlsroute: '/apis/gateway.networking.k8s.io/v1',
  tcproute: '/apis/gateway.networking.k8s.io/v1',
  udproute: '/apis/gateway.networking.k8s.io/v1',
  referencegrant: '/apis/gateway.networking.k8s.io/v1',
  ingress: '/apis/networking.k8s.io/v1',
  ingressclass: '/apis/networking.k8s.io/v1',
  service: '/api/v1',
  pod: '/api/v1',
  event: '/api/v1',
};

/** Starts a lab with `flatnet up` in a fresh data directory. */
export async function startLab(opts: { nodes?: number; timeoutMs?: number; /** More `flatnet up` flags. */ upArgs?: string[] } = {}): Promise<Lab> {
  assertLabPrerequisites();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'flatnet-e2e-gw-')), 'data');
  const env = { ...process.env, KUBECONFIG: join(dataDir, 'admin.kubeconfig') };
  const down = async () => {
    stopNetnsBrokers();
    await run(FLATNET, ['down', '--data-dir', dataDir], { timeoutMs: 180_000 });
    rmSync(dirname(dataDir), { recursive: true, force: true });
  };
  const up = await run(FLATNET, ['up', '--nodes', String(opts.nodes ?? 2), '--data-dir', dataDir, ...(opts.upArgs ?? [])], { timeoutMs: opts.timeoutMs ?? 300_000 });
  if (up.code !== 0) {
    await down();
    throw new Error(`flatnet up failed (exit ${up.code}):\n${up.stdout}${up.stderr}`);
  }
  // A busy machine can make one API call time out at the transport (a TLS handshake that takes
  // more than kubectl's 10 s); such a call is repeated, an answer from the server never is.
  const transient = /TLS handshake timeout|connection refused|i\/o timeout|unexpected EOF|connection reset by peer|Client\.Timeout exceeded/;
  const kubectl = async (args: string[], input?: string) => {
    let r = await run('kubectl', args, { env, input, timeoutMs: 120_000 });
    for (let i = 0; i < 3 && r.code !== 0 && transient.test(r.stderr); i++) r = await run('kubectl', args, { env, input, timeoutMs: 120_000 });
    return r;
  };
  const client = new KubeClient(loadKubeconfig(env.KUBECONFIG));
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  return {
    dataDir,
    env,
    kubectl,
    ok,
    apply: async (yaml) => void (await ok(['apply', '-f', '-'], yaml)),
    remove: async (yaml) => void (await ok(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], yaml)),
    client,
    getJson: async <T>(kind: string, name: string, namespace?: string) => {
      const base = API_PATHS[kind];
      if (!base) throw new Error(`getJson: no API path for kind "${kind}" (known: ${Object.keys(API_PATHS).join(', ')})`);
      try {
        return await client.request<T>('GET', `${base}/${namespace ? `namespaces/${namespace}/` : ''}${kind.endsWith('s') ? `${kind}es` : `${kind}s`}/${name}`);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return undefined;
        throw err;
      }
    },
    down,
  };
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface ExtRequest {
  /** The address to connect to (the Gateway's status address). */
  address: string;
  port?: number;
  scheme?: 'http' | 'https';
  /** The Host header (and the SNI for https, unless servername is given). */
  host?: string;
  servername?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string;
  timeoutMs?: number;
  /** Verify the server's certificate (chain and host name) against this CA (PEM); without it any certificate is taken. */
  ca?: string;
}

/** A TCP (or TLS) connection from inside flatnet-ext. */
export async function connectFromExt(address: string, port: number, tlsOpts?: { servername?: string; alpn?: string[]; ca?: string }, timeoutMs = 5000): Promise<net.Socket> {
  const raw = await connectInNetns(EXT_NETNS, address, port, timeoutMs);
  if (!tlsOpts) return raw;
  return new Promise((resolve, reject) => {
    const servername = tlsOpts.servername && !/^[\d.]+$/.test(tlsOpts.servername) ? tlsOpts.servername : undefined;
    const sock = tls.connect({ socket: raw, servername, ca: tlsOpts.ca, rejectUnauthorized: tlsOpts.ca !== undefined, ALPNProtocols: tlsOpts.alpn ?? ['http/1.1'] });
    sock.once('secureConnect', () => resolve(sock));
    sock.once('error', reject);
  });
}

/** One HTTP/1.1 request sent from flatnet-ext (the socket is made inside that namespace). */
export async function requestFromExt(req: ExtRequest): Promise<HttpAnswer> {
  const scheme = req.scheme ?? 'http';
  const port = req.port ?? (scheme === 'https' ? 443 : 80);
  const host = req.host ?? req.address;
  const hostName = host.replace(/:\d+$/, '');
  const timeoutMs = req.timeoutMs ?? 10_000;
  const sock = await connectFromExt(req.address, port, scheme === 'https' ? { servername: req.servername ?? hostName, ca: req.ca } : undefined, timeoutMs);
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        method: req.method ?? 'GET',
        path: req.path ?? '/',
        headers: { host, ...(req.headers ?? {}) },
        createConnection: () => sock,
        setHost: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          clearTimeout(timer);
          sock.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => {
      r.destroy(new Error(`no answer within ${timeoutMs} ms`));
      sock.destroy();
    }, timeoutMs);
    r.on('error', (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    });
    r.end(req.body);
  });
}

/** curl from flatnet-ext (for what the seed texts do by hand). */
export function curlFromExt(args: string[]): Promise<RunResult> {
  return run('ip', ['netns', 'exec', EXT_NETNS, 'curl', '-sS', '--max-time', '10', ...args], { timeoutMs: 20_000 });
}

/** A self-signed certificate and key (PEM) for `hosts` (the first is the CN), made with openssl. */
export async function selfSignedCert(hosts: string[]): Promise<{ cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-e2e-cert-'));
  try {
    const san = hosts.map((h) => (/^[\d.]+$/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${hosts[0]}`, '-addext', `subjectAltName=${san}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A kubernetes.io/tls Secret manifest (YAML, so it can join other documents with ---). */
export function tlsSecretYaml(name: string, namespace: string, pem: { cert: string; key: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${namespace}}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64(pem.cert)}\n  tls.key: ${b64(pem.key)}`;
}

/** One HTTP/2 request over TLS (ALPN h2) sent from flatnet-ext; the SNI and :authority may differ. */
export async function requestH2FromExt(req: ExtRequest): Promise<HttpAnswer> {
  const port = req.port ?? 443;
  const host = req.host ?? req.address;
  const timeoutMs = req.timeoutMs ?? 10_000;
  const sock = await connectFromExt(req.address, port, { servername: req.servername ?? host.replace(/:\d+$/, ''), ca: req.ca, alpn: ['h2'] }, timeoutMs);
  if ((sock as tls.TLSSocket).alpnProtocol !== 'h2') {
    sock.destroy();
    throw new Error(`the server did not negotiate h2 (ALPN ${String((sock as tls.TLSSocket).alpnProtocol)})`);
  }
  const session = http2.connect(`https://${host}`, { createConnection: () => sock });
  try {
    return await new Promise<HttpAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      session.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      const stream = session.request({ ':method': req.method ?? 'GET', ':path': req.path ?? '/', ':authority': host, ...(req.headers ?? {}) });
      let status = 0;
      let headers: http.IncomingHttpHeaders = {};
      let body = '';
      stream.setEncoding('utf8');
      stream.on('response', (h) => {
        status = Number(h[':status']);
        headers = Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith(':'))) as http.IncomingHttpHeaders;
      });
      stream.on('data', (c: string) => (body += c));
      stream.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      stream.on('end', () => {
        clearTimeout(timer);
        resolve({ status, headers, body });
      });
      stream.end(req.body);
    });
  } finally {
    session.destroy();
  }
}

/** One UDP datagram sent from flatnet-ext to `address:port`; resolves with the first answer. */
export async function udpRequestFromExt(address: string, port: number, message: string, timeoutMs = 5000): Promise<string> {
  const socket = await listenInNetns(EXT_NETNS, { host: '0.0.0.0', port: 0, type: 'udp4' });
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no UDP answer from ${address}:${port} within ${timeoutMs} ms`)), timeoutMs);
      socket.once('message', (m) => {
        clearTimeout(timer);
        resolve(m.toString('utf8'));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.send(message, port, address);
    });
  } finally {
    socket.close();
  }
}

// The in-run peer of the API server benchmark: a single-member etcd (the store every
// kube-apiserver, kind and kubeadm cluster writes through) on loopback, driven through its v3
// JSON gateway with the same concurrency and object bodies as flatnet. etcd's numbers bound
// kube-apiserver's from above: kube-apiserver adds TLS, authn, admission, validation and its
// watch cache on top of exactly these etcd calls.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { createEtcdPki } from '../../src/lab/ha-etcd-pki.js';

/** TLS with client certificates to an etcd member, as kubeadm and `flatnet up --ha` run it: the PEMs and their files. */
export interface EtcdClientTls {
  url: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface Etcd {
  /** Plain http:// client URL (the JSON gateway the watch rows and the HTTP peer use). */
  url: string;
  /** With startEtcd({ tls: true }): an https:// listener that asks for a client certificate signed by its CA. */
  tls?: EtcdClientTls;
  version: string;
  put(key: string, value: string): Promise<void>;
  /** All keys under `prefix`, answering how many came back. */
  rangePrefix(prefix: string): Promise<number>;
  stop(): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The key just past every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const buf = Buffer.from(prefix);
  buf[buf.length - 1]! += 1;
  return buf.toString();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function request(agent: http.Agent, url: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const data = JSON.stringify(body);
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`etcd ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
        resolve(JSON.parse(text) as Record<string, unknown>);
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Raw writes through etcd3 (gRPC), the client library flatnet's etcd store uses, without the API
 * server around them: plain puts, and the transaction kube-apiserver (and flatnet) sends for a
 * create (put if the key's create revision is 0, else read it back).
 */
export interface LibraryPeer {
  put(key: string, value: string): Promise<void>;
  createTxn(key: string, value: string): Promise<void>;
  /**
   * Opens one watch over `prefix` whose events are decoded and dropped, as kube-apiserver's watch
   * cache keeps one per resource on its etcd.
   */
  watchPrefix(prefix: string): Promise<{ events(): number; close(): Promise<void> }>;
  close(): void;
}

export function libraryPeer(url: string, tls?: Pick<EtcdClientTls, 'caPem' | 'certPem' | 'keyPem'>): LibraryPeer {
  const client = new Etcd3({
    hosts: url,
    ...(tls ? { credentials: { rootCertificate: Buffer.from(tls.caPem), certChain: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) } } : {}),
  });
  return {
    put: async (key, value) => {
      await client.put(key).value(value).exec();
    },
    createTxn: async (key, value) => {
      const res = await client.if(key, 'Create', '==', 0).then(client.put(key).value(value)).else(client.get(key)).commit();
      if (!res.succeeded) throw new Error(`${key} already exists`);
    },
    watchPrefix: async (prefix) => {
      const watcher = await client.watch().prefix(prefix).create();
      let events = 0;
      watcher.on('data', (res) => {
        for (const ev of res.events) if (ev.kv.value.toString().length > 0) events++;
      });
      return { events: () => events, close: () => watcher.cancel() };
    },
    close: () => client.close(),
  };
}

/** The member's certificate (127.0.0.1) and a client certificate from a fresh CA, written (0600) into `dir` (0700). */
function benchPki(dir: string, url: string): EtcdClientTls & { memberCertFile: string; memberKeyFile: string } {
  const pki = createEtcdPki([{ name: 'bench', ip: '127.0.0.1' }]);
  const member = pki.members.get('bench')!;
  const file = (name: string, pem: string) => {
    const path = join(dir, name);
    writeFileSync(path, pem, { mode: 0o600 });
    return path;
  };
  return {
    url,
    caPem: pki.ca.certPem,
    certPem: pki.apiserverClient.certPem,
    keyPem: pki.apiserverClient.keyPem,
    caFile: file('ca.crt', pki.ca.certPem),
    certFile: file('client.crt', pki.apiserverClient.certPem),
    keyFile: file('client.key', pki.apiserverClient.keyPem),
    memberCertFile: file('member.crt', member.certPem),
    memberKeyFile: file('member.key', member.keyPem),
  };
}

/**
 * Starts etcd (the `etcd` binary, Debian's etcd-server) with its data in a temporary directory.
 * With `tls`, it also listens on an https:// client URL with --client-cert-auth, as kubeadm and
 * `flatnet up --ha` run it (the plain http:// URL stays for the JSON gateway).
 */
export async function startEtcd(opts: { tls?: boolean } = {}): Promise<Etcd> {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-bench-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const tls = opts.tls ? benchPki(dir, `https://127.0.0.1:${await freePort()}`) : undefined;
  const clientUrls = tls ? `${url},${tls.url}` : url;
  const tlsArgs = tls ? ['--client-cert-auth', '--trusted-ca-file', tls.caFile, '--cert-file', tls.memberCertFile, '--key-file', tls.memberKeyFile] : [];
  const child: ChildProcess = spawn(
    'etcd',
    ['--name', 'bench', '--data-dir', join(dir, 'data'), '--listen-client-urls', clientUrls, '--advertise-client-urls', clientUrls, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `bench=${peer}`, ...tlsArgs, '--log-level', 'error', '--logger', 'zap'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let logs = '';
  child.stderr!.on('data', (c: Buffer) => (logs += c.toString('utf8')));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const deadline = Date.now() + 20_000;
  let version: string;
  for (;;) {
    try {
      const v = await new Promise<string>((resolve, reject) => {
        http.get(`${url}/version`, (res) => {
          let t = '';
          res.on('data', (c: Buffer) => (t += c.toString('utf8')));
          res.on('end', () => (res.statusCode === 200 ? resolve(t) : reject(new Error(t))));
        }).on('error', reject);
      });
      version = (JSON.parse(v) as { etcdserver: string }).etcdserver;
      await request(agent, url, '/v3/kv/put', { key: b64('/ready'), value: b64('1') });
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`etcd did not start: ${(err as Error).message}\n${logs}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    tls: tls && { url: tls.url, caPem: tls.caPem, certPem: tls.certPem, keyPem: tls.keyPem, caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile },
    version,
    put: async (key, value) => {
      await request(agent, url, '/v3/kv/put', { key: b64(key), value: b64(value) });
    },
    rangePrefix: async (prefix) => {
      const res = await request(agent, url, '/v3/kv/range', { key: b64(prefix), range_end: b64(prefixEnd(prefix)) });
      return (res.kvs as unknown[] | undefined)?.length ?? 0;
    },
    stop: async () => {
      agent.destroy();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Worker source of `count` etcd watchers on a key prefix. Keys carry the send time
 * (`<prefix><sent>/<i>`), so a watcher only base64-decodes the key, as flatnet's watchers only
 * regex the annotation.
 */
export const etcdWatcherSource = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { url, prefix, prefixEnd, count } = workerData;
const u = new URL(url);
const b64 = (s) => Buffer.from(s).toString('base64');
const latencies = [];
let ready = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: count });
for (let i = 0; i < count; i++) {
  const body = JSON.stringify({ create_request: { key: b64(prefix), range_end: b64(prefixEnd) } });
  const req = http.request({ host: u.hostname, port: u.port, path: '/v3/watch', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
    let buf = '';
    let created = false;
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!created) {
          created = true;
          ready++;
          if (ready === count) parentPort.postMessage({ ready: true });
        }
        const at = performance.timeOrigin + performance.now();
        const re = /"key":"([^"]+)"/g;
        let m;
        while ((m = re.exec(line))) {
          const key = Buffer.from(m[1], 'base64').toString();
          const sent = Number(key.slice(prefix.length, key.indexOf('/', prefix.length)));
          if (sent) latencies.push(at - sent);
        }
      }
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  req.end(body);
}
parentPort.on('message', (m) => { if (m === 'report') parentPort.postMessage({ latencies }); });
`;

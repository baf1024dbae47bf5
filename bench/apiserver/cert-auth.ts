// Client-certificate authentication cost per request: the API server's Authenticator reads a
// connection's peer certificate once (auth.ts) instead of on every request. Both ways run on one
// in-process listener (createServingServer, HTTP/2 on, as `flatnet server`) in interleaved rounds,
// over one HTTP/2 session and one kept-alive HTTP/1.1 connection with a CA-signed client
// certificate, so both see the same load drift:
// - per request: getPeerCertificate on every request (what the Authenticator did before);
// - per connection: Authenticator.authenticate (the certificate read once per connection; expiry and
//   the revocation check still run on every request).
// Reported: time inside the authentication call per request (synchronous, so CPU time barring
// preemption; median of the rounds) and the process's CPU per request (client included).
//
//   node --import tsx bench/apiserver/cert-auth.ts [--requests N] [--rounds N]
import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Authenticator, certificateIdentityUser, peerCertificateIdentity } from '../../src/apiserver/auth.js';
import { createServingServer, trackConnections } from '../../src/apiserver/http2.js';
import { TLS_SERVING_OPTIONS, ensureKubeletClientCertificate, ensureServingCertificate, loadCertificateAuthority } from '../../src/apiserver/tls.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const REQUESTS = arg('--requests', 2000);
const ROUNDS = arg('--rounds', 10);
/** Requests in flight at once (over HTTP/2 as streams of the one session; over HTTP/1.1 one after another on the one connection). */
const H2_CONCURRENCY = 8;

type Mode = 'per-request' | 'per-connection';

const dir = mkdtempSync(join(tmpdir(), 'flatnet-cert-auth-'));
const serving = ensureServingCertificate(dir, ['127.0.0.1']);
const client = ensureKubeletClientCertificate(dir, loadCertificateAuthority(dir));
// The node revocation check is a map lookup (IssuedCertificates.has); this one costs as little.
const authenticator = new Authenticator([], () => true);

let mode: Mode = 'per-request';
let authMs = 0;
let failures = 0;
const handler = (req: IncomingMessage, res: ServerResponse) => {
  const t = performance.now();
  const user = mode === 'per-connection' ? authenticator.authenticate(req) : certificateIdentityUser(peerCertificateIdentity(req.socket)!, () => true);
  authMs += performance.now() - t;
  if (!user) failures++;
  res.writeHead(user ? 200 : 401, { 'content-type': 'text/plain' });
  res.end('ok');
};
const server = createServingServer(
  { tls: { cert: serving.certPem + serving.caPem, key: serving.keyPem, ca: serving.caPem, requestCert: true, rejectUnauthorized: false, ...TLS_SERVING_OPTIONS }, http2: true, firstRequestTimeoutMs: 30_000, idleTimeoutMs: 90_000 },
  handler,
);
const closeConnections = trackConnections(server);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
const tlsClient = { ca: serving.caPem, cert: client.certPem, key: client.keyPem };

const session = http2.connect(url, tlsClient);
await new Promise<void>((r, j) => session.once('connect', () => r()).once('error', j));
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ...tlsClient });

function h2Get(): Promise<void> {
  return new Promise((resolve, reject) => {
    const st = session.request({ ':path': '/' });
    st.on('error', reject);
    st.on('end', () => resolve());
    st.resume();
  });
}

function h1Get(): Promise<void> {
  return new Promise((resolve, reject) => {
    https
      .get(`${url}/`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      })
      .on('error', reject);
  });
}

async function round(protocol: 'h2' | 'h1'): Promise<{ authUs: number; cpuUs: number }> {
  authMs = 0;
  const cpu = process.cpuUsage();
  if (protocol === 'h2') {
    let next = 0;
    await Promise.all(
      Array.from({ length: H2_CONCURRENCY }, async () => {
        while (next++ < REQUESTS) await h2Get();
      }),
    );
  } else {
    for (let i = 0; i < REQUESTS; i++) await h1Get();
  }
  const used = process.cpuUsage(cpu);
  return { authUs: (authMs * 1000) / REQUESTS, cpuUs: (used.user + used.system) / REQUESTS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results: Record<string, { authUs: number[]; cpuUs: number[] }> = {};
// A warm-up round of each, then the measured rounds, the two ways alternating (ABBA so neither always goes first).
for (let r = -1; r < ROUNDS; r++) {
  for (const protocol of ['h2', 'h1'] as const) {
    const order: Mode[] = r % 2 === 0 ? ['per-request', 'per-connection'] : ['per-connection', 'per-request'];
    for (const m of order) {
      mode = m;
      const out = await round(protocol);
      if (r < 0) continue;
      const key = `${protocol} ${m}`;
      (results[key] ??= { authUs: [], cpuUs: [] }).authUs.push(out.authUs);
      results[key].cpuUs.push(out.cpuUs);
    }
  }
}
session.close();
agent.destroy();
await new Promise<void>((r) => {
  server.close(() => r());
  closeConnections();
});
rmSync(dir, { recursive: true, force: true });

console.log(`client-certificate authentication, ${REQUESTS} GETs per round, ${ROUNDS} rounds of each, interleaved; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (failures > 0) console.log(`${failures} requests were not authenticated`);
console.log('| protocol | certificate read | auth call per request (median) | process CPU per request (median, client included) |');
console.log('|---|---|---|---|');
for (const [key, v] of Object.entries(results)) {
  const [protocol, m] = key.split(' ');
  console.log(`| ${protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1'} | ${m} | ${median(v.authUs).toFixed(1)} µs | ${median(v.cpuUs).toFixed(0)} µs |`);
}

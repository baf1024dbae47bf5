// TLS ports: termination with the certificate chosen by SNI (exact > wildcard > default), ALPN h2
// and http/1.1, passthrough chosen by SNI from the raw ClientHello, 'https' backends, garbage TLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { GatewayProxy } from '../../../src/gateway/proxy/index.js';
import type { ProxyConfig } from '../../../src/gateway/config.js';
import { backend, entry, freePort, prefix, selfSigned, startEcho, vhost } from './proxy-support.js';

const certA = selfSigned(['a.test']);
const certWild = selfSigned(['*.b.test']);
const certDefault = selfSigned(['default.test']);
const certBackend = selfSigned(['backend.internal']);

function peerCN(port: number, servername: string | undefined, alpn?: string[]): Promise<{ cn: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: alpn }, () => {
      const cn = String(s.getPeerCertificate().subject.CN);
      const proto = s.alpnProtocol ?? false;
      s.end();
      resolve({ cn, alpn: proto });
    });
    s.on('error', reject);
  });
}

function httpsGet(port: number, servername: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, servername, headers: { host: servername }, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('TLS: certificate by SNI, ALPN h2/http1.1, passthrough by SNI, https backends', async (t) => {
  const a = await startEcho('a');
  // A TLS backend for passthrough and for the 'https' protocol.
  const tlsBackend = https.createServer({ cert: certBackend.certPem, key: certBackend.keyPem }, (req, res) => res.end(`tls-backend ${req.url} ${(req.socket as tls.TLSSocket).servername}`));
  await new Promise<void>((r) => tlsBackend.listen(0, '127.0.0.1', r));
  const tlsPort = (tlsBackend.address() as net.AddressInfo).port;
  const proxy = new GatewayProxy({ bindAddress: '127.0.0.1' });
  t.after(async () => {
    await proxy.close();
    await a.close();
    await new Promise((r) => tlsBackend.close(r));
  });
  const port = await freePort();
  const tlsB = backend({ name: 'tls', port: tlsPort }, { protocol: 'https' });
  const config = (withPassthrough: boolean): ProxyConfig => ({
    ports: [
      {
        kind: 'http',
        port,
        tls: {
          certificates: [
            { hostnames: ['*'], ...certDefault },
            { hostnames: ['a.test'], ...certA },
            { hostnames: ['*.b.test'], ...certWild },
          ],
          passthrough: withPassthrough ? [{ source: { kind: 'TLSRoute', namespace: 'default', name: 'pass', rule: 0, match: 0 }, hostnames: ['pass.test'], backends: [backend({ name: 'tls', port: tlsPort })] }] : [],
        },
        hosts: [vhost('secure.b.test', [entry(prefix('/https'), [tlsB])]), vhost('*', [entry(prefix('/'), [backend(a)])])],
      },
    ],
  });
  await proxy.update(config(false));
  assert.equal((await peerCN(port, 'a.test')).cn, 'a.test');
  assert.equal((await peerCN(port, 'x.b.test')).cn, '*.b.test');
  assert.equal((await peerCN(port, 'other.test')).cn, 'default.test');
  assert.equal((await peerCN(port, undefined)).cn, 'default.test', 'no SNI -> the default');
  assert.equal((await peerCN(port, 'a.test', ['h2', 'http/1.1'])).alpn, 'h2');
  assert.equal((await peerCN(port, 'a.test', ['http/1.1'])).alpn, 'http/1.1');

  const r = await httpsGet(port, 'a.test', '/hello');
  assert.equal(r.status, 200);
  const echo = JSON.parse(r.body) as { headers: Record<string, string> };
  assert.equal(echo.headers['x-forwarded-proto'], 'https');
  assert.equal(echo.headers.host, 'a.test');
  const viaHttps = await httpsGet(port, 'secure.b.test', '/https/x');
  assert.equal(viaHttps.body, 'tls-backend /https/x secure.b.test', "an 'https' backend is reached over TLS, SNI from the Host");

  const h2 = http2.connect(`https://127.0.0.1:${port}`, { servername: 'a.test', rejectUnauthorized: false });
  t.after(() => h2.close());
  const h2body = await new Promise<string>((resolve, reject) => {
    const s = h2.request({ ':path': '/over-h2', ':authority': 'a.test' });
    let d = '';
    s.on('data', (c: Buffer) => (d += c.toString()));
    s.on('end', () => resolve(d));
    s.on('error', reject);
  });
  assert.equal((JSON.parse(h2body) as { url: string }).url, '/over-h2');

  // Passthrough: pass.test reaches the backend's own certificate; other names are terminated here.
  await proxy.update(config(true));
  assert.equal((await peerCN(port, 'pass.test')).cn, 'backend.internal');
  assert.equal((await peerCN(port, 'a.test')).cn, 'a.test');
  const passed = await httpsGet(port, 'pass.test', '/through');
  assert.equal(passed.body, 'tls-backend /through pass.test', 'the backend terminated TLS itself');
  const terminated = await httpsGet(port, 'a.test', '/terminated');
  assert.equal((JSON.parse(terminated.body) as { url: string }).url, '/terminated');

  // Garbage on the TLS port does not hurt.
  for (const garbage of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0x16, 3, 1, 0, 10, 1, 2, 3]), Buffer.alloc(20_000, 0x16)]) {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end(garbage));
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.resume();
    });
  }
  await proxy.update(config(false));
  await new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(Buffer.from('not tls at all\r\n\r\n')));
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume();
  });
  assert.equal((await httpsGet(port, 'a.test', '/ok')).status, 200);
});

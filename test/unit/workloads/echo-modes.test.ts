// echo-basic's gRPC, TCP and UDP modes on real sockets (in this process's namespace).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { runEchoBasic } from '../../../src/workloads/echo-basic.js';
import { goTlsVersionName, TCP_WELCOME } from '../../../src/workloads/echo-tcp.js';
import { WorkloadStartError, type WorkloadContext } from '../../../src/workloads/workload.js';
import { grpcEchoCall } from '../../e2e/gateway/grpc-client.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function context(env: Record<string, string>, lines: string[] = []): WorkloadContext {
  return { netns: '', podIP: '127.0.0.1', hostname: 'h', namespace: 'ctx-ns', podName: 'ctx-pod', args: [], env, ports: [], stdout: (t) => lines.push(t), stderr: () => undefined };
}

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });

/** Reads lines from a socket: each call answers the next line (without the newline). */
function lineReader(sock: net.Socket | tls.TLSSocket): () => Promise<string> {
  let buffered = '';
  const waiting: ((l: string) => void)[] = [];
  const lines: string[] = [];
  sock.setEncoding('utf8');
  sock.on('data', (c: string) => {
    buffered += c;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  return () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiting.push(resolve)));
}

test('gRPC mode: Echo and EchoTwo answer with method, metadata, authority and context; EchoThree is UNIMPLEMENTED', async (t) => {
  const port = await freePort();
  const w = await runEchoBasic(context({ GRPC_ECHO_SERVER: '1', HTTP_PORT: String(port), POD_NAME: 'grpc-infra-backend-v1-abc', NAMESPACE: 'gateway-conformance-infra' }));
  t.after(() => w.stop());
  const one = await grpcEchoCall(await connect(port), { authority: 'grpc.example:80', method: 'Echo', metadata: { version: 'one', 'x-multi': 'a' } });
  assert.equal(one.code, 0, one.message);
  assert.equal(one.assertions?.fullyQualifiedMethod, '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo');
  assert.equal(one.assertions?.authority, 'grpc.example:80');
  assert.deepEqual(one.assertions?.context, { namespace: 'gateway-conformance-infra', ingress: '', serviceName: '', pod: 'grpc-infra-backend-v1-abc' });
  const keys = one.assertions!.headers.map((h) => h.key);
  assert.ok(one.assertions!.headers.some((h) => h.key === 'version' && h.value === 'one'), JSON.stringify(one.assertions!.headers));
  assert.ok(keys.includes(':authority'));
  for (const reserved of ['content-type', 'te', ':path', ':method']) assert.ok(!keys.includes(reserved), `${reserved} is not metadata`);
  const two = await grpcEchoCall(await connect(port), { authority: 'grpc.example', method: 'EchoTwo' });
  assert.equal(two.assertions?.fullyQualifiedMethod, '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/EchoTwo');
  const three = await grpcEchoCall(await connect(port), { authority: 'grpc.example', method: 'EchoThree' });
  assert.equal(three.code, 12);
  assert.match(three.message, /EchoThree/);
});

test('TCP mode: welcome, PING, IS_TLS and TEST plain and over TLS (certificate given as PEM text in env)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'echo-tcp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=abc.example.com', '-addext', 'subjectAltName=DNS:abc.example.com', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const [tcpPort, tlsPort] = [await freePort(), await freePort()];
  const w = await runEchoBasic(context({ TCP_ECHO_SERVER: '1', TCP_PORT: String(tcpPort), TLS_PORT: String(tlsPort), TLS_SERVER_CERT: cert, TLS_SERVER_PRIV_KEY: readFileSync(join(dir, 'key.pem'), 'utf8'), POD_NAME: 'tcp-backend-xyz', NAMESPACE: 'ns1' }));
  t.after(() => w.stop());

  const plain = await connect(tcpPort);
  const next = lineReader(plain);
  assert.equal(`${await next()}\n`, TCP_WELCOME);
  plain.write('PING\nIS_TLS\nTEST\n');
  assert.equal(await next(), 'PONG');
  assert.equal(await next(), 'false');
  assert.deepEqual(JSON.parse(await next()), { namespace: 'ns1', ingress: '', service: '', pod: 'tcp-backend-xyz', tcpport: String(tcpPort), tlsport: String(tlsPort), isTLS: false });
  plain.destroy();

  const secure = tls.connect({ host: '127.0.0.1', port: tlsPort, servername: 'abc.example.com', ca: cert });
  await new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
  const nextTls = lineReader(secure);
  assert.equal(`${await nextTls()}\n`, TCP_WELCOME);
  secure.write('IS_TLS\nTEST\n');
  assert.equal(await nextTls(), 'true');
  const payload = JSON.parse(await nextTls()) as { isTLS: boolean; tls: { serverName: string; version: string; cipherSuite: string } };
  assert.equal(payload.isTLS, true);
  assert.equal(payload.tls.serverName, 'abc.example.com');
  assert.equal(payload.tls.version, goTlsVersionName(secure.getProtocol()));
  assert.match(payload.tls.cipherSuite, /^TLS_/);
  secure.destroy();
});

test('UDP mode: each datagram is answered with the request and the pod context', async (t) => {
  const port = await freePort();
  const w = await runEchoBasic(context({ UDP_ECHO_SERVER: '1', UDP_PORT: String(port), POD_NAME: 'udp-backend-1', NAMESPACE: 'ns2' }));
  t.after(() => w.stop());
  const client = dgram.createSocket('udp4');
  t.after(() => client.close());
  const answer = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
  client.send('hello udp', port, '127.0.0.1');
  assert.deepEqual(JSON.parse(await answer), { request: 'hello udp', namespace: 'ns2', ingress: '', service: '', pod: 'udp-backend-1' });
});

test('the modes name their bad env fields', async () => {
  await assert.rejects(runEchoBasic(context({ UDP_ECHO_SERVER: '1', UDP_PORT: 'x' })), (e: Error) => e instanceof WorkloadStartError && /UDP_PORT/.test(e.message));
  await assert.rejects(
    runEchoBasic(context({ TCP_ECHO_SERVER: '1', TCP_PORT: String(await freePort()), TLS_SERVER_CERT: '/nonexistent/crt', TLS_SERVER_PRIV_KEY: '/nonexistent/key' })),
    (e: Error) => e instanceof WorkloadStartError && /TLS_SERVER_CERT/.test(e.message),
  );
});

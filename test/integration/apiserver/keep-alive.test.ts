// A client that sends its next request as soon as it has read a large response, on the same
// keep-alive TLS connection, with a large body (what kubectl's server-side apply of big CRDs
// does): every request is answered and the connection is not reset (Node's HTTP server used to fail
// such a body with HPE_PAUSED while the previous response was still above the socket's 16 KiB mark).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false });
});
after(async () => {
  await s?.stop();
});

test('large requests right after large responses on one keep-alive TLS connection are all answered (CRDs created, then applied)', async () => {
  const ca = readFileSync(join(s.dataDir, 'ca.crt'));
  const token = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  const url = new URL(s.url);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
  const send = (method: string, path: string, body: string, contentType: string) =>
    new Promise<string>((resolve) => {
      const req = https.request(
        { host: url.hostname, port: url.port, method, path, agent, headers: { authorization: `Bearer ${token}`, 'content-type': contentType, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
      req.end(body);
    });
  const answers: string[] = [];
  for (let i = 0; i < 6; i++) {
    // A CRD whose schema makes every answer about 100 KB, created and then applied at once.
    const properties = Object.fromEntries(Array.from({ length: 800 }, (_, p) => [`field${p}`, { type: 'string', description: `field ${p} of a large schema `.repeat(3) }]));
    const plural = `bigs${i}`;
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.keepalive.flatnet.dev` },
      spec: { group: 'keepalive.flatnet.dev', scope: 'Namespaced', names: { plural, kind: `Big${i}` }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties } } } } }] },
    };
    const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
    answers.push(await send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', JSON.stringify(crd), 'application/json'));
    answers.push(await send('PATCH', `${path}?fieldManager=kubectl&force=false`, JSON.stringify(crd), 'application/apply-patch+yaml'));
    answers.push(await send('PATCH', `${path}?fieldManager=kubectl&force=false`, JSON.stringify(crd), 'application/apply-patch+yaml'));
  }
  agent.destroy();
  assert.deepEqual(answers, Array.from({ length: 6 }, () => ['201', '200', '200']).flat());
});

/** The status line and body length of each HTTP/1.1 response in `raw`, in order (bodies framed by content-length). */
function responses(raw: Buffer): { status: string; bodyBytes: number }[] {
  const out: { status: string; bodyBytes: number }[] = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const head = raw.subarray(at, end).toString('latin1').split('\r\n');
    const length = Number(/^content-length:\s*(\d+)$/im.exec(head.join('\n'))?.[1] ?? NaN);
    if (!(length >= 0) || end + 4 + length > raw.length) break;
    out.push({ status: head[0], bodyBytes: length });
    at = end + 4 + length;
  }
  return out;
}

test('a ~1 MB create sent while a list answer above 16 MiB is still being written, on one TLS connection, is answered', async () => {
  const ca = readFileSync(join(s.dataDir, 'ca.crt'));
  const token = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  const url = new URL(s.url);
  const configMap = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { blob: 'x'.repeat(900_000) } });
  // 20 ConfigMaps of 900 KB: the list answer is about 18 MB, above the sockets' 16 MiB mark.
  for (let i = 0; i < 20; i++) await s.client.create(R.configmaps, JSON.parse(configMap(`big-${i}`)) as KubeObject, {});
  const host = `${url.hostname}:${url.port}`;
  const list = `GET /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n\r\n`;
  const body = configMap('sent-during-the-list');
  const create = `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  let failure = '';
  const raw = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca, servername: 'localhost' }, () => socket.write(list));
    socket.once('data', () => {
      // The list answer has begun and cannot be flushed before this client reads most of its 18 MB
      // (the kernel buffers hold a few MB): the create arrives while the server is above its write mark.
      socket.pause();
      socket.write(create);
      socket.resume();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const got = responses(Buffer.concat(chunks));
      if (got.length === 2) socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (failure = err.code ?? err.message));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
  const got = responses(raw);
  assert.equal(got.length, 2, `two answers on the connection, got ${JSON.stringify(got)} (${raw.length} bytes in all${failure ? `, then ${failure}` : ''})`);
  assert.equal(got[0].status, 'HTTP/1.1 200 OK');
  assert.ok(got[0].bodyBytes > 16 * 1024 * 1024, `the list answer is ${got[0].bodyBytes} bytes`);
  assert.equal(got[1].status, 'HTTP/1.1 201 Created');
  assert.equal((await s.client.get(R.configmaps, 'default', 'sent-during-the-list'))?.metadata.name, 'sent-during-the-list');
});

// A client that sends its next request as soon as it has read a large response, on the same
// keep-alive TLS connection, with a large body (what kubectl's server-side apply of big CRDs
// does): every request is answered and the connection is not reset (Node's HTTP server used to fail
// such a body with HPE_PAUSED while the previous response was still above the socket's 16 KiB mark).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionFromEnvironment } from '../../../src/gateway/proxy-identity.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('in a pod: the kubernetes Service address, the proxy token and the CA from the environment', () => {
  const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', FLATNET_PROXY_TOKEN: 'fnp1.a.b\n', FLATNET_PROXY_CA: PEM };
  assert.deepEqual(connectionFromEnvironment(env), { server: 'https://10.96.0.1:443', token: 'fnp1.a.b', ca: Buffer.from(PEM) });
  assert.equal(connectionFromEnvironment({ ...env, KUBERNETES_SERVICE_HOST: 'fd00::1' }).server, 'https://[fd00::1]:443');
});

test('the CA may be a file path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwt-env-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), PEM);
    const c = connectionFromEnvironment({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', FLATNET_PROXY_TOKEN: 't', FLATNET_PROXY_CA: join(dir, 'ca.crt') });
    assert.deepEqual(c.ca, Buffer.from(PEM));
    assert.throws(() => connectionFromEnvironment({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', FLATNET_PROXY_TOKEN: 't', FLATNET_PROXY_CA: join(dir, 'missing') }), /FLATNET_PROXY_CA: neither PEM text nor a readable file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what is missing or wrong is named', () => {
  assert.throws(() => connectionFromEnvironment({}), /KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT, FLATNET_PROXY_TOKEN, FLATNET_PROXY_CA are not set \(outside a pod, pass --kubeconfig\)/);
  assert.throws(() => connectionFromEnvironment({ KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '443', FLATNET_PROXY_CA: PEM }), /FLATNET_PROXY_TOKEN is not set/);
  assert.throws(() => connectionFromEnvironment({ KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: 'https', FLATNET_PROXY_TOKEN: 't', FLATNET_PROXY_CA: PEM }), /KUBERNETES_SERVICE_PORT "https" is not a port number/);
});

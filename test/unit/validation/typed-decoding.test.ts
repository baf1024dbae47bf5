// Typed decoding against the schema: each wrong JSON type is reported as kube-apiserver's decoder
// words it, values of the right type pass, and null is accepted everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { base64ErrorOffset, checkTyped } from '../../../src/api/schema/typed.js';

const pod = (container: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x', ...container }] } });

test('values of the right type pass, quantities and int-or-strings in both forms, null anywhere', () => {
  const ok = pod({
    resources: { limits: { cpu: 1, memory: '1Gi' }, requests: { cpu: '500m', memory: 1e9 } },
    ports: [{ containerPort: 80, protocol: 'TCP' }],
    livenessProbe: { httpGet: { port: 'http', path: '/' }, periodSeconds: 5 },
    readinessProbe: { tcpSocket: { port: 8080 } },
    env: null,
  });
  assert.deepEqual(checkTyped(R.pods, ok), { error: undefined, unknown: [] });
  const secret = { metadata: { name: 's' }, data: { a: 'aGVsbG8=', b: '' }, stringData: { c: 'plain' } };
  assert.equal(checkTyped(R.secrets, secret).error, undefined);
  assert.equal(checkTyped(R.deployments, { metadata: { name: 'd', creationTimestamp: null }, spec: { replicas: null, paused: false } }).error, undefined);
});

test('each wrong type is named with its Go struct field and type', () => {
  const cases: [typeof R.pods, unknown, string][] = [
    [R.configmaps, { metadata: { name: 5 } }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string'],
    [R.configmaps, { metadata: { labels: ['a'] } }, 'json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string'],
    [R.configmaps, { metadata: { ownerReferences: {} } }, 'json: cannot unmarshal object into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference'],
    [R.configmaps, { metadata: 'x' }, 'json: cannot unmarshal string into Go struct field ConfigMap.metadata of type v1.ObjectMeta'],
    [R.configmaps, { data: { a: { b: 1 } } }, 'json: cannot unmarshal object into Go struct field ConfigMap.data of type string'],
    [R.configmaps, { immutable: 'true' }, 'json: cannot unmarshal string into Go struct field ConfigMap.immutable of type bool'],
    [R.deployments, { spec: { replicas: '3' } }, 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'],
    [R.deployments, { spec: { replicas: 1.5 } }, 'json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32'],
    [R.pods, pod({ ports: [{ containerPort: '80' }] }), 'json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'],
    [R.pods, pod({ livenessProbe: { httpGet: { port: true } } }), 'json: cannot unmarshal bool into Go value of type int32'],
    [R.pods, pod({ resources: { limits: { cpu: 'lots' } } }), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    [R.secrets, { data: { a: 'not base64!' } }, 'illegal base64 data at input byte 3'],
    [R.secrets, { data: { a: 5 } }, 'json: cannot unmarshal number into Go struct field Secret.data of type []uint8'],
    [R.events, { count: 'many' }, 'json: cannot unmarshal string into Go struct field Event.count of type int32'],
  ];
  for (const [r, obj, message] of cases) assert.equal(checkTyped(r, obj).error, message, JSON.stringify(obj));
});

test('unknown fields are collected with their indexed paths in the same walk', () => {
  assert.deepEqual(checkTyped(R.pods, { ...pod({ bogus: 1 }), extra: true }).unknown, ['spec.containers[0].bogus', 'extra']);
});

test("base64 is checked as Go's StdEncoding: alphabet, padding, length", () => {
  assert.equal(base64ErrorOffset(''), -1);
  assert.equal(base64ErrorOffset('aGVsbG8='), -1);
  assert.equal(base64ErrorOffset('aGVs\nbG8='), -1);
  assert.equal(base64ErrorOffset('aGVsbG8'), 4, 'a missing pad: the last quantum is short');
  assert.equal(base64ErrorOffset('aG-s'), 2, 'URL-safe alphabet is not StdEncoding');
  assert.equal(base64ErrorOffset('a==='), 1);
  assert.equal(base64ErrorOffset('aGVsbG8=aGVs'), 8, 'nothing may follow padding');
});

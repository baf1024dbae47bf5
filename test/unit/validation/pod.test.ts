import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { createErrors, updateErrors } from './helpers.js';

const meta = { name: 'p', namespace: 'default' };
const pod = (spec: Record<string, unknown>, m: Record<string, unknown> = meta) => ({ apiVersion: 'v1', kind: 'Pod', metadata: m, spec });
const c = (extra: Record<string, unknown> = {}) => ({ name: 'app', image: 'nginx:1.27', ...extra });

test('a minimal pod is valid', () => {
  assert.deepEqual(createErrors(R.pods, pod({ containers: [c()] })), []);
});

test('pod validation, upstream field paths and messages', () => {
  const table: [string, Record<string, unknown>, string][] = [
    ['name', pod({ containers: [c()] }, { name: 'Bad_Name', namespace: 'default' }),
      `metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
    ['no name', pod({ containers: [c()] }, { namespace: 'default' }), 'metadata.name: Required value: name or generateName is required'],
    ['containers required', pod({ containers: [] }), 'spec.containers: Required value'],
    ['image required', pod({ containers: [{ name: 'app' }] }), 'spec.containers[0].image: Required value'],
    ['container name', pod({ containers: [c({ name: 'App' })] }),
      `spec.containers[0].name: Invalid value: "App": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`],
    ['container names unique', pod({ containers: [c(), c()] }), 'spec.containers[1].name: Duplicate value: "app"'],
    ['containerPort range', pod({ containers: [c({ ports: [{ containerPort: 70000 }] })] }), 'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ['containerPort required', pod({ containers: [c({ ports: [{ name: 'http' }] })] }), 'spec.containers[0].ports[0].containerPort: Required value'],
    ['hostPort range', pod({ containers: [c({ ports: [{ containerPort: 80, hostPort: -1 }] })] }), 'spec.containers[0].ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive'],
    ['port names unique', pod({ containers: [c({ ports: [{ containerPort: 80, name: 'http' }, { containerPort: 81, name: 'http' }] })] }), 'spec.containers[0].ports[1].name: Duplicate value: "http"'],
    ['port name IANA', pod({ containers: [c({ ports: [{ containerPort: 80, name: 'http_x' }] })] }), 'spec.containers[0].ports[0].name: Invalid value: "http_x": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
    ['probe needs a handler', pod({ containers: [c({ livenessProbe: { periodSeconds: 5 } })] }), 'spec.containers[0].livenessProbe: Required value: must specify a handler type'],
    ['probe one handler', pod({ containers: [c({ readinessProbe: { httpGet: { port: 80 }, tcpSocket: { port: 80 } } })] }), 'spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type'],
    ['liveness success threshold', pod({ containers: [c({ livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } })] }), 'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
    ['restartPolicy enum', pod({ containers: [c()], restartPolicy: 'Sometimes' }), 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
    ['dnsPolicy enum', pod({ containers: [c()], dnsPolicy: 'Google' }), 'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"'],
    ['dnsPolicy None needs dnsConfig', pod({ containers: [c()], dnsPolicy: 'None' }), 'spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None'],
    ['dnsPolicy None needs a nameserver', pod({ containers: [c()], dnsPolicy: 'None', dnsConfig: { searches: ['a.b'] } }), 'spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None'],
    ['at most 3 nameservers', pod({ containers: [c()], dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4'] } }),
      'spec.dnsConfig.nameservers: Invalid value: []string{"1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"}: must not have more than 3 nameservers'],
    ['volume mount must name a volume', pod({ containers: [c({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })] }), 'spec.containers[0].volumeMounts[0].name: Not found: "data"'],
    ['requests within limits', pod({ containers: [c({ resources: { limits: { cpu: '500m' }, requests: { cpu: '1' } } })] }),
      'spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m'],
    ['quantity syntax', pod({ containers: [c({ resources: { limits: { memory: 'lots' } } })] }),
      "spec.containers[0].resources.limits[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['resource names', pod({ containers: [c({ resources: { limits: { gpu: '1' } } })] }), 'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified'],
    ['one volume source', pod({ containers: [c()], volumes: [{ name: 'v', emptyDir: {}, hostPath: { path: '/x' } }] }), 'spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type'],
    ['configMap volume name', pod({ containers: [c()], volumes: [{ name: 'v', configMap: {} }] }), 'spec.volumes[0].configMap.name: Required value'],
    ['relative item paths', pod({ containers: [c()], volumes: [{ name: 'v', secret: { secretName: 's', items: [{ key: 'k', path: '/abs' }] } }] }),
      'spec.volumes[0].secret.items[0].path: Invalid value: "/abs": must be a relative path'],
    ['labels', pod({ containers: [c()] }, { name: 'p', namespace: 'default', labels: { 'bad key!': 'v' } }),
      `metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`],
  ];
  for (const [name, obj, expected] of table) {
    const errs = createErrors(R.pods, obj);
    assert.ok(errs.includes(expected), `${name}: got ${JSON.stringify(errs, null, 1)}`);
  }
});

test('pod updates: image and activeDeadlineSeconds may change, other spec fields may not', () => {
  const old = pod({ containers: [c()], nodeName: 'node-1' });
  assert.deepEqual(updateErrors(R.pods, pod({ containers: [c({ image: 'nginx:1.28' })], nodeName: 'node-1' }), old), []);
  assert.deepEqual(updateErrors(R.pods, pod({ containers: [c()], nodeName: 'node-1', activeDeadlineSeconds: 30 }), old), []);
  const labelsChanged = pod({ containers: [c()], nodeName: 'node-1' }, { ...meta, labels: { a: 'b' } });
  assert.deepEqual(updateErrors(R.pods, labelsChanged, old), []);
  const errs = updateErrors(R.pods, pod({ containers: [c({ ports: [{ containerPort: 80 }] })], nodeName: 'node-1' }), old);
  assert.equal(errs.length, 1);
  assert.match(errs[0], /^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`,/);
  const moved = updateErrors(R.pods, pod({ containers: [c()], nodeName: 'node-2' }), old);
  assert.ok(moved.includes('spec.nodeName: Invalid value: "node-2": field is immutable'), JSON.stringify(moved));
});

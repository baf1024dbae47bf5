import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { createErrors, updateErrors } from './helpers.js';

const meta = { name: 'web', namespace: 'default' };
const svc = (spec: Record<string, unknown>, m: Record<string, unknown> = meta) => ({ apiVersion: 'v1', kind: 'Service', metadata: m, spec });

test('a plain ClusterIP service is valid', () => {
  assert.deepEqual(createErrors(R.services, svc({ selector: { app: 'web' }, ports: [{ port: 80 }] })), []);
  assert.deepEqual(createErrors(R.services, svc({ clusterIP: 'None', selector: { app: 'web' } })), []);
  assert.deepEqual(createErrors(R.services, svc({ type: 'ExternalName', externalName: 'db.example.com.' })), []);
});

test('service validation, upstream field paths and messages', () => {
  const table: [string, Record<string, unknown>, string][] = [
    ['name must be a DNS-1035 label', svc({ ports: [{ port: 80 }] }, { name: '1web', namespace: 'default' }),
      `metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`],
    ['ports required', svc({}), 'spec.ports: Required value'],
    ['port range', svc({ ports: [{ port: 0 }] }), 'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive'],
    ['port range high', svc({ ports: [{ port: 70000 }] }), 'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ['names required with >1 port', svc({ ports: [{ port: 80, name: 'http' }, { port: 443 }] }), 'spec.ports[1].name: Required value'],
    ['unique names', svc({ ports: [{ port: 80, name: 'http' }, { port: 81, name: 'http' }] }), 'spec.ports[1].name: Duplicate value: "http"'],
    ['unique port+protocol', svc({ ports: [{ port: 80, name: 'a' }, { port: 80, name: 'b' }] }),
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'],
    ['protocol enum', svc({ ports: [{ port: 80, protocol: 'ICMP' }] }), 'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
    ['targetPort name', svc({ ports: [{ port: 80, targetPort: 'Http_1' }] }), 'spec.ports[0].targetPort: Invalid value: "Http_1": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
    ['targetPort number', svc({ ports: [{ port: 80, targetPort: 65536 }] }), 'spec.ports[0].targetPort: Invalid value: 65536: must be between 1 and 65535, inclusive'],
    ['nodePort on ClusterIP', svc({ ports: [{ port: 80, nodePort: 30080 }] }), "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
    ['type enum', svc({ type: 'Magic', ports: [{ port: 80 }] }), 'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'],
    ['ExternalName needs a name', svc({ type: 'ExternalName' }), 'spec.externalName: Required value'],
    ['ExternalName must be a DNS name', svc({ type: 'ExternalName', externalName: 'not_dns' }),
      `spec.externalName: Invalid value: "not_dns": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
    ['affinity enum', svc({ sessionAffinity: 'Cookie', ports: [{ port: 80 }] }), 'spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"'],
    ['affinity timeout', svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } }, ports: [{ port: 80 }] }),
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400'],
    ['externalTrafficPolicy needs an external service', svc({ externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }),
      'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services'],
    ['externalTrafficPolicy enum', svc({ type: 'NodePort', externalTrafficPolicy: 'Nearest', ports: [{ port: 80 }] }),
      'spec.externalTrafficPolicy: Unsupported value: "Nearest": supported values: "Cluster", "Local"'],
    ['source ranges are CIDRs', svc({ type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/33'], ports: [{ port: 80 }] }),
      'spec.loadBalancerSourceRanges[0]: Invalid value: "10.0.0.0/33": must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 '],
    ['source ranges only for LB', svc({ loadBalancerSourceRanges: ['10.0.0.0/8'], ports: [{ port: 80 }] }),
      "spec.loadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"],
    ['selector labels', svc({ selector: { app: '-x' }, ports: [{ port: 80 }] }),
      `spec.selector: Invalid value: "-x": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`],
    ['clusterIP must be an IP', svc({ clusterIP: '10.0.0', ports: [{ port: 80 }] }), 'spec.clusterIPs[0]: Invalid value: "10.0.0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
  ];
  for (const [name, obj, expected] of table) {
    const errs = createErrors(R.services, obj);
    assert.ok(errs.includes(expected), `${name}: got ${JSON.stringify(errs, null, 1)}`);
  }
});

test('the cluster IP may not change once set (upstream words it on clusterIPs[0])', () => {
  const old = svc({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80 }] });
  const expected = 'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set';
  // both fields changed (kubectl replace), or only clusterIP (kubectl patch): one error, as upstream
  assert.deepEqual(updateErrors(R.services, svc({ clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.11'], ports: [{ port: 80 }] }), old), [expected]);
  assert.deepEqual(updateErrors(R.services, svc({ clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.10'], ports: [{ port: 80 }] }), old), [expected]);
  // ports may change; an update that leaves the IPs out keeps them
  assert.deepEqual(updateErrors(R.services, svc({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 8080 }] }), old), []);
  assert.deepEqual(updateErrors(R.services, svc({ ports: [{ port: 8080 }] }), old), []);
  // moving to ExternalName drops the IP
  assert.deepEqual(updateErrors(R.services, svc({ type: 'ExternalName', externalName: 'a.example.com' }), old), []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { createErrors, defaulted, updateErrors } from './helpers.js';

const meta = { name: 'x', namespace: 'default' };

function expectErrors(r: (typeof R)[keyof typeof R], table: [string, Record<string, unknown>, string][]): void {
  for (const [name, obj, expected] of table) {
    const errs = createErrors(r, obj);
    assert.ok(errs.includes(expected), `${name}: got ${JSON.stringify(errs, null, 1)}`);
  }
}

test('EndpointSlice', () => {
  const slice = (extra: Record<string, unknown>) => ({ metadata: meta, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.5'] }], ports: [{ name: 'http', port: 80 }], ...extra });
  assert.deepEqual(createErrors(R.endpointslices, slice({})), []);
  expectErrors(R.endpointslices, [
    ['addressType enum', slice({ addressType: 'IPv5' }), 'addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"'],
    ['address matches type', slice({ endpoints: [{ addresses: ['fd00::1'] }] }), 'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address'],
    ['addresses required', slice({ endpoints: [{ addresses: [] }] }), 'endpoints[0].addresses: Required value: must contain at least 1 address'],
    ['max 1000 endpoints', slice({ endpoints: Array.from({ length: 1001 }, () => ({ addresses: ['10.0.0.1'] })) }), 'endpoints: Too many: 1001: must have at most 1000 items'],
    ['port protocol', slice({ ports: [{ name: 'x', port: 80, protocol: 'ICMP' }] }), 'ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
    ['port names unique', slice({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }), 'ports[1].name: Duplicate value: "a"'],
  ]);
  assert.ok(updateErrors(R.endpointslices, slice({ addressType: 'IPv6', endpoints: [] }), slice({})).includes('addressType: Invalid value: "IPv6": field is immutable'));
});

test('Endpoints', () => {
  const ep = (subsets: unknown[]) => ({ metadata: meta, subsets });
  assert.deepEqual(createErrors(R.endpoints, ep([{ addresses: [{ ip: '10.244.1.5' }], ports: [{ port: 80 }] }])), []);
  assert.deepEqual(createErrors(R.endpoints, ep([{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: 6443 }] }])), [], 'the kubernetes Endpoints of a loopback API server');
  expectErrors(R.endpoints, [
    ['link-local', ep([{ addresses: [{ ip: '169.254.1.1' }], ports: [{ port: 80 }] }]), 'subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
    ['unspecified', ep([{ addresses: [{ ip: '0.0.0.0' }], ports: [{ port: 80 }] }]), 'subsets[0].addresses[0].ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)'],
    ['names with >1 port', ep([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }, { port: 81, name: 'b' }] }]), 'subsets[0].ports[0].name: Required value'],
  ]);
});

test('ConfigMap and Secret: keys, sizes, immutability, type-specific keys, stringData', () => {
  assert.deepEqual(createErrors(R.configmaps, { metadata: meta, data: { 'app.conf': 'x', KEY_1: 'y' } }), []);
  expectErrors(R.configmaps, [
    ['key charset', { metadata: meta, data: { 'a/b': 'x' } },
      "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"],
    ['size', { metadata: meta, data: { big: 'x'.repeat(1024 * 1024 + 1) } }, '[]: Too long: may not be more than 1048576 bytes'],
  ]);
  const frozen = { metadata: meta, immutable: true, data: { a: '1' } };
  assert.ok(updateErrors(R.configmaps, { ...frozen, data: { a: '2' } }, frozen).includes('data: Forbidden: field is immutable when `immutable` is set'));
  expectErrors(R.secrets, [
    ['tls keys', { metadata: meta, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } }, 'data[tls.key]: Required value'],
  ]);
  assert.ok(updateErrors(R.secrets, { metadata: meta, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==', 'tls.key': 'eA==' } }, { metadata: meta, data: {} }).includes('type: Invalid value: "kubernetes.io/tls": field is immutable'));
  const s = defaulted(R.secrets, { metadata: meta, data: { a: 'b2xk' }, stringData: { a: 'new', b: 'x' } });
  assert.deepEqual(s.data, { a: Buffer.from('new').toString('base64'), b: Buffer.from('x').toString('base64') });
  assert.equal(s.stringData, undefined);
});

test('Node, Namespace, Lease', () => {
  const node = (spec: Record<string, unknown>) => ({ metadata: { name: 'node-1' }, spec });
  assert.deepEqual(createErrors(R.nodes, node({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] })), []);
  expectErrors(R.nodes, [
    ['podCIDRs', node({ podCIDRs: ['10.244.1.0/33'] }), 'spec.podCIDRs[0]: Invalid value: []string{"10.244.1.0/33"}: must be a valid CIDR'],
    ['taint effect', node({ taints: [{ key: 'k', effect: 'Maybe' }] }), 'spec.taints[0].effect: Unsupported value: "Maybe": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"'],
    ['namespaced field on a cluster kind', { metadata: { name: 'n', namespace: 'default' }, spec: {} }, 'metadata.namespace: Forbidden: not allowed on this type'],
  ]);
  assert.ok(updateErrors(R.nodes, node({ podCIDRs: ['10.244.2.0/24'] }), node({ podCIDRs: ['10.244.1.0/24'] })).includes('spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid'));
  assert.deepEqual(updateErrors(R.nodes, node({ podCIDRs: ['10.244.2.0/24'] }), node({})), []);
  expectErrors(R.namespaces, [
    ['namespace names are labels', { metadata: { name: 'team.a' } },
      `metadata.name: Invalid value: "team.a": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`],
  ]);
  expectErrors(R.leases, [['duration', { metadata: meta, spec: { leaseDurationSeconds: 0 } }, 'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']]);
});

test('Gateway API kinds: CRD schema and CEL rules', () => {
  const gw = (listeners: unknown[], extra: Record<string, unknown> = {}) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: meta, spec: { gatewayClassName: 'flatnet', listeners, ...extra } });
  assert.deepEqual(createErrors(R.gateways, gw([{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'https', port: 443, protocol: 'HTTPS', hostname: '*.example.com', tls: { certificateRefs: [{ name: 'c' }] } }])), []);
  expectErrors(R.gateways, [
    ['class required', { metadata: meta, spec: { listeners: [{ name: 'h', port: 80, protocol: 'HTTP' }] } }, 'spec.gatewayClassName: Required value'],
    ['port range', gw([{ name: 'h', port: 0, protocol: 'HTTP' }]), 'spec.listeners[0].port: Invalid value: 0: spec.listeners[0].port in body should be greater than or equal to 1'],
    ['unique names', gw([{ name: 'h', port: 80, protocol: 'HTTP' }, { name: 'h', port: 81, protocol: 'HTTP' }]), 'spec.listeners: Invalid value: "array": Listener name must be unique within the Gateway'],
    ['unique port/protocol/hostname', gw([{ name: 'a', port: 80, protocol: 'HTTP' }, { name: 'b', port: 80, protocol: 'HTTP' }]), 'spec.listeners: Invalid value: "array": Combination of port, protocol and hostname must be unique for each listener'],
    ['no tls on HTTP', gw([{ name: 'a', port: 80, protocol: 'HTTP', tls: {} }]), "spec.listeners: Invalid value: \"array\": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"],
    ['no hostname on TCP', gw([{ name: 'a', port: 9000, protocol: 'TCP', hostname: 'a.b' }]), "spec.listeners: Invalid value: \"array\": hostname must not be specified for protocols ['TCP', 'UDP']"],
    ['hostname pattern', gw([{ name: 'a', port: 80, protocol: 'HTTP', hostname: 'A.com' }]),
      "spec.listeners[0].hostname: Invalid value: \"A.com\": spec.listeners[0].hostname in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'"],
    ['from enum', gw([{ name: 'a', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Some' } } }]), 'spec.listeners[0].allowedRoutes.namespaces.from: Unsupported value: "Some": supported values: "All", "Selector", "Same", "None"'],
  ]);
  const route = (rules: unknown[]) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: meta, spec: { parentRefs: [{ name: 'gw' }], rules } });
  assert.deepEqual(createErrors(R.httproutes, route([{ matches: [{ path: { type: 'Exact', value: '/a' } }], backendRefs: [{ name: 'svc', port: 80, weight: 3 }] }])), []);
  expectErrors(R.httproutes, [
    ['path type enum', route([{ matches: [{ path: { type: 'Glob', value: '/' } }] }]), 'spec.rules[0].matches[0].path.type: Unsupported value: "Glob": supported values: "Exact", "PathPrefix", "RegularExpression"'],
    ['absolute path', route([{ matches: [{ path: { type: 'PathPrefix', value: 'a' } }] }]), "spec.rules[0].matches[0].path: Invalid value: \"object\": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"],
    ['backend port', route([{ backendRefs: [{ name: 'svc' }] }]), 'spec.rules[0].backendRefs[0]: Invalid value: "object": Must have port for Service reference'],
    ['weight range', route([{ backendRefs: [{ name: 'svc', port: 80, weight: 1000001 }] }]), 'spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000'],
    ['filter field for type', route([{ filters: [{ type: 'RequestRedirect' }] }]), 'spec.rules[0].filters[0]: Invalid value: "object": filter.requestRedirect must be specified for RequestRedirect filter.type'],
    ['redirect with backends', route([{ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301 } }], backendRefs: [{ name: 's', port: 80 }] }]),
      'spec.rules[0]: Invalid value: "object": RequestRedirect filter must not be used together with backendRefs'],
    ['status code enum', route([{ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 305 } }] }]), 'spec.rules[0].filters[0].requestRedirect.statusCode: Unsupported value: "305": supported values: "301", "302", "303", "307", "308"'],
    ['parentRef name', { metadata: meta, spec: { parentRefs: [{}] } }, 'spec.parentRefs[0].name: Required value'],
  ]);
  assert.ok(
    updateErrors(R.gatewayclasses, { metadata: { name: 'c' }, spec: { controllerName: 'flatnet.dev/b' } }, { metadata: { name: 'c' }, spec: { controllerName: 'flatnet.dev/a' } }).includes(
      'spec.controllerName: Invalid value: "flatnet.dev/b": Value is immutable',
    ),
  );
  expectErrors(R.tcproutes, [['rules required', { metadata: meta, spec: { parentRefs: [{ name: 'g' }] } }, 'spec.rules: Required value']]);
  expectErrors(R.referencegrants, [['from required', { metadata: meta, spec: { to: [{ group: '', kind: 'Service' }] } }, 'spec.from: Invalid value: []interface {}{}: spec.from in body should have at least 1 items']]);
});

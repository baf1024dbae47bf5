import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { createErrors } from './helpers.js';

const np = (spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'default' }, spec });
const ingressPorts = (ports: unknown[]) => np({ podSelector: {}, ingress: [{ ports }] });
const from = (peers: unknown[]) => np({ podSelector: {}, ingress: [{ from: peers }] });

test('valid policies', () => {
  const ok = [
    np({ podSelector: {} }),
    np({ podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ podSelector: {} }, { namespaceSelector: {}, podSelector: { matchLabels: { a: 'b' } } }], ports: [{ port: 5432 }] }] }),
    np({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 32000, endPort: 32768 }, { port: 'dns', protocol: 'UDP' }] }] }),
  ];
  for (const o of ok) assert.deepEqual(createErrors(R.networkpolicies, o), [], JSON.stringify(o));
});

test('network policy validation, upstream field paths and messages', () => {
  const table: [string, Record<string, unknown>, string][] = [
    ['protocol enum', ingressPorts([{ protocol: 'ICMP' }]), 'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'],
    ['port range', ingressPorts([{ port: 0 }]), 'spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive'],
    ['port name', ingressPorts([{ port: 'HTTP' }]), 'spec.ingress[0].ports[0].port: Invalid value: "HTTP": must contain at least one letter (a-z)'],
    ['endPort >= port', ingressPorts([{ port: 100, endPort: 90 }]), 'spec.ingress[0].ports[0].endPort: Invalid value: 100: must be greater than or equal to `port`'],
    ['endPort needs numeric port', ingressPorts([{ port: 'http', endPort: 90 }]), 'spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric'],
    ['endPort needs a port', ingressPorts([{ endPort: 90 }]), 'spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is not specified'],
    ['peer required', from([{}]), 'spec.ingress[0].from[0]: Required value: must specify a peer'],
    ['ipBlock exclusive', from([{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }]), 'spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer'],
    ['cidr valid', from([{ ipBlock: { cidr: '10.0.0.0/40' } }]), 'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/40": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'],
    ['cidr required', from([{ ipBlock: {} }]), 'spec.ingress[0].from[0].ipBlock.cidr: Required value'],
    ['except within cidr', from([{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }]), 'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`'],
    ['except strict subset', from([{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.0.0/16'] } }]), 'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.0.0.0/16": must be a strict subset of `cidr`'],
    ['egress peers', np({ podSelector: {}, egress: [{ to: [{}] }] }), 'spec.egress[0].to[0]: Required value: must specify a peer'],
    ['policyTypes enum', np({ podSelector: {}, policyTypes: ['Both'] }), 'spec.policyTypes[0]: Unsupported value: "Both": supported values: "Ingress", "Egress"'],
    ['pod selector', np({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }),
      "spec.podSelector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"],
  ];
  for (const [name, obj, expected] of table) {
    const errs = createErrors(R.networkpolicies, obj);
    assert.ok(errs.includes(expected), `${name}: got ${JSON.stringify(errs, null, 1)}`);
  }
});

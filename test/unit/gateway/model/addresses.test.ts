// Gateway spec.addresses (GatewayStaticAddresses): unsupported types, addresses the pool did not
// give, and the usable address alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBalancerHolders, requestedAddresses, unusableAddresses } from '../../../../src/gateway/model/addresses.js';
import { computeGatewayState } from '../../../../src/gateway/model/state.js';
import { INFRA, backend, conds, gateway, gatewayClass, http, world } from './fixtures.js';

const key = `${INFRA}/gateway-static-addresses`;
const gw = (addresses: unknown[]) => gateway('gateway-static-addresses', [http('http', 8080)], { spec: { addresses } });
const statusOf = (addresses: unknown[], assigned: string[]) =>
  computeGatewayState(world([gatewayClass(), gw(addresses)], { [key]: { addresses: assigned, readyReplicas: 1 } })).gateways.get(key)!.status;

test('requestedAddresses: IPv4 values in order without repeats; other types and malformed values are unsupported, naming the field', () => {
  assert.deepEqual(requestedAddresses(gw([{ value: '172.18.255.9' }, { type: 'IPAddress', value: '172.18.255.9' }, { type: 'IPAddress' }])), { ips: ['172.18.255.9'] });
  const r = requestedAddresses(gw([{ type: 'test/fake-invalid-type', value: 'x' }, { type: 'IPAddress', value: 'not-an-ip' }, { type: 'Hostname', value: 'gw.example' }]));
  assert.equal(r.unsupported?.reason, 'UnsupportedAddress');
  for (const field of ['spec.addresses[0].type', 'spec.addresses[1].value', 'spec.addresses[2].type']) assert.match(r.unsupported!.message, new RegExp(field.replace(/[[\].]/g, '\\$&')));
});

test('unusableAddresses: more than one address, or another address assigned, is AddressNotUsable; nothing assigned yet is not', () => {
  assert.equal(unusableAddresses(['10.1.1.1', '172.18.255.9'], ['172.18.255.9'])?.reason, 'AddressNotUsable');
  assert.equal(unusableAddresses(['10.1.1.1'], ['172.18.255.2'])?.reason, 'AddressNotUsable');
  assert.equal(unusableAddresses(['172.18.255.9'], []), undefined);
  assert.equal(unusableAddresses(['172.18.255.9'], ['172.18.255.9']), undefined);
  assert.equal(unusableAddresses([], ['172.18.255.2']), undefined);
});

test('GatewayStaticAddresses: invalid type -> Accepted=False/UnsupportedAddress; unusable + usable -> Programmed=False/AddressNotUsable; usable -> Programmed with that address', () => {
  const invalid = { type: 'test/fake-invalid-type', value: 'fake address' };
  const unusable = { value: '10.99.0.1' };
  const usable = { type: 'IPAddress', value: '172.18.255.240' };
  assert.equal(conds(statusOf([invalid, unusable, usable], ['172.18.255.3']).conditions).Accepted, 'False/UnsupportedAddress');
  assert.deepEqual(conds(statusOf([unusable, usable], ['172.18.255.3']).conditions), { Accepted: 'True/Accepted', Programmed: 'False/AddressNotUsable' });
  const done = statusOf([usable], ['172.18.255.240']);
  assert.deepEqual(conds(done.conditions), { Accepted: 'True/Accepted', Programmed: 'True/Programmed' });
  assert.deepEqual(done.addresses, [{ type: 'IPAddress', value: '172.18.255.240' }]);
  assert.deepEqual(conds(statusOf([usable], []).conditions), { Accepted: 'True/Accepted', Programmed: 'False/AddressNotAssigned' });
});

test('an address another LoadBalancer Service holds is AddressNotUsable at once, naming that Service', () => {
  const [svc] = backend('other-lb', ['10.244.0.9'], { type: 'LoadBalancer' });
  svc.status = { loadBalancer: { ingress: [{ ip: '172.18.255.7', ipMode: 'VIP' }] } };
  const holders = loadBalancerHolders([svc, ...backend('cluster-ip', ['10.244.0.10'])]);
  assert.deepEqual([...holders], [['172.18.255.7', `${INFRA}/other-lb`]]);
  assert.match(unusableAddresses(['172.18.255.7'], [], holders)?.message ?? '', /other-lb/);
  const st = computeGatewayState(world([gatewayClass(), gw([{ value: '172.18.255.7' }]), svc], { [key]: { addresses: [], readyReplicas: 1 } })).gateways.get(key)!.status;
  assert.deepEqual(conds(st.conditions), { Accepted: 'True/Accepted', Programmed: 'False/AddressNotUsable' });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressPool, poolAddresses, viewOf } from '../../../src/controllers/loadbalancer-ip.js';
import { svc } from './fixtures.js';

const lb = (name: string, spec: Record<string, unknown> = {}, ips: string[] = []) =>
  viewOf(svc(name, { type: 'LoadBalancer', ...spec }, ips.length ? { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } : {}));

test('pool addresses leave out network and broadcast', () => {
  const p = poolAddresses('172.18.255.0/24');
  assert.ok(p.contains('172.18.255.1') && p.contains('172.18.255.254'));
  assert.ok(!p.contains('172.18.255.0') && !p.contains('172.18.255.255') && !p.contains('172.18.254.1'));
  assert.throws(() => poolAddresses('not-a-cidr'), /not an IPv4 CIDR/);
});

test('addresses are handed out in order, kept, and released on delete or type change', () => {
  const pool = new AddressPool('172.18.255.0/30');
  assert.deepEqual(pool.decide(lb('a')), { kind: 'assign', ip: '172.18.255.1' });
  assert.deepEqual(pool.decide(lb('b')), { kind: 'assign', ip: '172.18.255.2' });
  assert.deepEqual(pool.decide(lb('c')), { kind: 'pending', reason: 'the load balancer pool 172.18.255.0/30 has no free address' });
  assert.deepEqual(pool.decide(lb('a', {}, ['172.18.255.1'])), { kind: 'keep', ip: '172.18.255.1' });
  assert.deepEqual(pool.decide(viewOf(svc('a', { type: 'ClusterIP' }, { loadBalancer: { ingress: [{ ip: '172.18.255.1' }] } }))), { kind: 'release', ips: ['172.18.255.1'] });
  assert.deepEqual(pool.decide(lb('c')), { kind: 'assign', ip: '172.18.255.1' });
  pool.releaseAll('default/b');
  assert.equal(pool.holderOf('172.18.255.2'), undefined);
});

test('spec.loadBalancerIP is honoured when in the pool and free', () => {
  const pool = new AddressPool('172.18.255.0/24');
  assert.deepEqual(pool.decide(lb('a', { loadBalancerIP: '172.18.255.50' })), { kind: 'assign', ip: '172.18.255.50' });
  assert.match((pool.decide(lb('b', { loadBalancerIP: '172.18.255.50' })) as { reason: string }).reason, /already used by Service default\/a/);
  assert.match((pool.decide(lb('c', { loadBalancerIP: '10.0.0.1' })) as { reason: string }).reason, /not in the pool 172\.18\.255\.0\/24/);
  // Changing the requested address moves the Service.
  assert.deepEqual(pool.decide(lb('a', { loadBalancerIP: '172.18.255.60' }, ['172.18.255.50'])), { kind: 'assign', ip: '172.18.255.60' });
  assert.equal(pool.holderOf('172.18.255.50'), undefined);
});

test('addresses shown before a restart are adopted, not handed to others', () => {
  const pool = new AddressPool('172.18.255.0/24');
  pool.adopt(lb('old', {}, ['172.18.255.1']));
  assert.deepEqual(pool.decide(lb('new')), { kind: 'assign', ip: '172.18.255.2' });
  assert.deepEqual(pool.decide(lb('old', {}, ['172.18.255.1'])), { kind: 'keep', ip: '172.18.255.1' });
});

test('Services with a loadBalancerClass belong to someone else', () => {
  const pool = new AddressPool('172.18.255.0/24');
  assert.deepEqual(pool.decide(lb('x', { loadBalancerClass: 'example.com/lb' })), { kind: 'none' });
});

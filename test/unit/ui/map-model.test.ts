import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildClusterMap, flowEdges, verdictClass, type MapInput } from '../../../src/ui/map-model.js';
import type { FlowEvent, Identity, Verdict } from '../../../src/flows/types.js';

let seq = 0;
function flow(verdict: Verdict, src: Identity, dst: Identity, extra: Partial<FlowEvent> = {}): FlowEvent {
  return { seq: seq++, time: '2026-12-06T22:00:00.000000Z', node: 'n1', verdict, protocol: 'tcp', source: { ip: '10.244.1.2', identity: src }, destination: { ip: '10.244.2.2', port: 80, identity: dst }, summary: '', origin: 'nflog', ...extra };
}

const pod = (namespace: string, name: string): Identity => ({ kind: 'pod', namespace, name });

const input: MapInput = {
  nodes: [
    { name: 'n2', ready: true, internalIP: '172.18.0.12' },
    { name: 'n1', ready: false, internalIP: '172.18.0.11' },
  ],
  pods: [
    { namespace: 'prod', name: 'web', node: 'n1', ip: '10.244.1.2', phase: 'Running' },
    { namespace: 'prod', name: 'db', node: 'n2', ip: '10.244.2.2', phase: 'Running' },
    { namespace: 'prod', name: 'api', node: 'n1', ip: '10.244.1.3', phase: 'Running' },
    { namespace: 'prod', name: 'pending', phase: 'Pending' },
  ],
  services: [{ namespace: 'prod', name: 'db', clusterIP: '10.96.0.20', type: 'ClusterIP' }],
  flows: [],
};

test('nodes become columns holding their pods; Services sit above; unscheduled pods get their own column', () => {
  const map = buildClusterMap(input);
  const box = (id: string) => map.boxes.find((b) => b.id === id)!;
  assert.deepEqual(map.boxes.filter((b) => b.kind === 'node').map((b) => b.label), ['n1', 'n2', '(not scheduled)']);
  assert.equal(box('node:n1').detail, '172.18.0.11 NotReady');
  const n1 = box('node:n1');
  for (const id of ['pod:prod/api', 'pod:prod/web']) {
    const p = box(id);
    assert.ok(p.x >= n1.x && p.x + p.w <= n1.x + n1.w && p.y >= n1.y && p.y + p.h <= n1.y + n1.h, `${id} inside n1`);
  }
  assert.ok(box('pod:prod/api').y < box('pod:prod/web').y, 'pods sorted by name');
  const n2 = box('node:n2');
  assert.ok(box('pod:prod/db').x >= n2.x);
  assert.ok(box('svc:prod/db').y + box('svc:prod/db').h < n1.y, 'Services above the nodes');
  assert.ok(box('pod:prod/pending'));
  assert.ok(box('world'));
  for (const b of map.boxes) assert.ok(b.x + b.w <= map.width && b.y + b.h <= map.height, `${b.id} within the canvas`);
});

test('flows become edges coloured by verdict: forwarded and replied allowed, dropped and rejected denied', () => {
  assert.equal(verdictClass('forwarded'), 'allowed');
  assert.equal(verdictClass('replied'), 'allowed');
  assert.equal(verdictClass('translated'), 'allowed');
  assert.equal(verdictClass('dropped'), 'denied');
  assert.equal(verdictClass('rejected'), 'denied');
  const flows = [
    flow('forwarded', pod('prod', 'web'), pod('prod', 'db')),
    flow('replied', pod('prod', 'web'), pod('prod', 'db')),
    flow('dropped', pod('prod', 'api'), pod('prod', 'db'), { policy: { direction: 'ingress', policies: ['prod/db-only-web'], defaultDeny: false, chain: 'x' } }),
  ];
  const map = buildClusterMap({ ...input, flows });
  assert.deepEqual(
    map.edges.map((e) => [e.from, e.to, e.verdictClass, e.verdict, e.count, e.policies]),
    [
      ['pod:prod/web', 'pod:prod/db', 'allowed', 'replied', 2, []],
      ['pod:prod/api', 'pod:prod/db', 'denied', 'dropped', 1, ['prod/db-only-web']],
    ],
  );
});

test('a Service flow draws source -> Service -> chosen endpoint; unknown peers and self-flows draw nothing', () => {
  const ids = new Set(buildClusterMap(input).boxes.map((b) => b.id));
  const svcFlow = flow('translated', pod('prod', 'web'), { kind: 'service', namespace: 'prod', name: 'db', port: 'sql' }, {
    service: { namespace: 'prod', name: 'db' },
    endpoint: { ip: '10.244.2.2', port: 5432, identity: pod('prod', 'db') },
  });
  const rejected = flow('rejected', pod('prod', 'web'), { kind: 'service', namespace: 'prod', name: 'db' }, { service: { namespace: 'prod', name: 'db' } });
  const outside = flow('forwarded', { kind: 'world' }, pod('prod', 'web'));
  const unknown = flow('forwarded', pod('gone', 'x'), pod('prod', 'web'));
  const self = flow('forwarded', pod('prod', 'web'), pod('prod', 'web'));
  const edges = flowEdges([svcFlow, rejected, outside, unknown, self], ids);
  assert.deepEqual(
    edges.map((e) => `${e.from}>${e.to}:${e.verdictClass}`),
    ['pod:prod/web>svc:prod/db:allowed', 'svc:prod/db>pod:prod/db:allowed', 'pod:prod/web>svc:prod/db:denied', 'world>pod:prod/web:allowed'],
  );
});

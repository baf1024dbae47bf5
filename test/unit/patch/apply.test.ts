import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import type { KubeObject } from '../../../src/api/types.js';
import { PatchError, applyConflictMessage, recordUpdate, serverSideApply } from '../../../src/api/patch/index.js';
import { applyDefaults } from '../../../src/api/validation/index.js';

function manifest(replicas: number, opts: { image?: string; sidecar?: boolean; labels?: Record<string, string> } = {}): KubeObject {
  const containers: Record<string, unknown>[] = [{ name: 'nginx', image: opts.image ?? 'nginx:1.27', ports: [{ containerPort: 80 }] }];
  if (opts.sidecar) containers.push({ name: 'sidecar', image: 'busybox' });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: opts.labels ?? { app: 'web' } },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } },
  };
}

function apply(live: KubeObject | undefined, applied: KubeObject, manager = 'kubectl', force = false) {
  const res = serverSideApply(R.deployments, live, applied, manager, force);
  if (res.object) applyDefaults(R.deployments, res.object);
  return res;
}

function entry(obj: KubeObject, manager: string, operation = 'Apply'): any {
  return (obj.metadata.managedFields as any[]).find((e) => e.manager === manager && e.operation === operation);
}

test('apply creates the object and records fieldsV1 with list-map keys', () => {
  const res = apply(undefined, manifest(3));
  assert.ok(res.object);
  const obj = res.object;
  assert.equal((obj.spec as any).replicas, 3);
  const e = entry(obj, 'kubectl');
  assert.equal(e.apiVersion, 'apps/v1');
  assert.equal(e.fieldsType, 'FieldsV1');
  assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(e.fieldsV1, {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': {
          'f:containers': {
            'k:{"name":"nginx"}': {
              '.': {},
              'f:image': {},
              'f:name': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            },
          },
        },
      },
    },
  });
});

test('apply again: fields this manager no longer applies are removed, others kept', () => {
  const first = apply(undefined, manifest(3, { sidecar: true, labels: { app: 'web', team: 'a' } })).object!;
  const second = apply(first, manifest(3, { image: 'nginx:1.28' })).object!;
  const spec = second.spec as any;
  assert.deepEqual(spec.template.spec.containers.map((c: any) => c.name), ['nginx']);
  assert.equal(spec.template.spec.containers[0].image, 'nginx:1.28');
  assert.deepEqual(second.metadata.labels, { app: 'web' });
  // defaults nobody applied stay
  assert.equal(spec.strategy.type, 'RollingUpdate');
  assert.equal(spec.template.spec.containers[0].terminationMessagePath, '/dev/termination-log');
});

test('kubectl scale after apply, then apply again: conflict on .spec.replicas; force takes it over', () => {
  const applied = apply(undefined, manifest(3)).object!;
  const scaled = structuredClone(applied);
  (scaled.spec as any).replicas = 5;
  const afterScale = recordUpdate(R.deployments, applied, scaled, 'kubectl-scale');
  const scaleEntry = entry(afterScale, 'kubectl-scale', 'Update');
  assert.deepEqual(scaleEntry.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  assert.equal(entry(afterScale, 'kubectl').fieldsV1['f:spec']['f:replicas'], undefined, 'the applier lost replicas');

  const again = apply(afterScale, manifest(3));
  assert.equal(again.object, undefined);
  assert.equal(again.conflicts!.length, 1);
  assert.equal(again.conflicts![0].manager, 'kubectl-scale');
  assert.equal(again.conflicts![0].field, '.spec.replicas');
  assert.equal(applyConflictMessage(again.conflicts!), `Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1 at ${scaleEntry.time}: .spec.replicas`);

  // same value: no conflict, shared ownership
  const same = apply(afterScale, manifest(5));
  assert.ok(same.object);
  // leaving replicas out: no conflict, and the scaled value stays
  const without = structuredClone(manifest(3)) as any;
  delete without.spec.replicas;
  const left = apply(afterScale, without);
  assert.equal((left.object!.spec as any).replicas, 5);

  const forced = apply(afterScale, manifest(3), 'kubectl', true);
  assert.equal((forced.object!.spec as any).replicas, 3);
  assert.equal(entry(forced.object!, 'kubectl-scale', 'Update'), undefined, 'the scaler owned only replicas and lost it');
  assert.deepEqual(entry(forced.object!, 'kubectl').fieldsV1['f:spec']['f:replicas'], {});
});

test('conflicts with a client-side-apply manager after kubectl apply (no --server-side)', () => {
  const created = manifest(2);
  applyDefaults(R.deployments, created);
  const live = recordUpdate(R.deployments, undefined, created, 'kubectl-client-side-apply');
  const csa = entry(live, 'kubectl-client-side-apply', 'Update');
  assert.ok(csa.fieldsV1['f:spec']['f:strategy'], 'defaulted fields belong to the creating manager');
  const res = apply(live, manifest(4, { image: 'nginx:1.29' }));
  assert.deepEqual(res.conflicts!.map((c) => c.field).sort(), ['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image']);
  const msg = applyConflictMessage(res.conflicts!);
  assert.match(msg, /^Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps\/v1 at [^:]+:\d\d:\d\dZ:\n- \.spec/);
  // equal values: shared ownership, no conflict
  assert.ok(apply(live, manifest(2)).object);
});

test('recordUpdate keeps managedFields when a write omits them and drops fields that were removed', () => {
  const applied = apply(undefined, manifest(3, { labels: { app: 'web', team: 'a' } })).object!;
  const edited = structuredClone(applied);
  delete edited.metadata.managedFields;
  delete edited.metadata.labels!.team;
  const out = recordUpdate(R.deployments, applied, edited, 'kubectl-edit');
  assert.deepEqual(entry(out, 'kubectl').fieldsV1['f:metadata'], { 'f:labels': { '.': {}, 'f:app': {} } });
  assert.equal(entry(out, 'kubectl-edit', 'Update'), undefined, 'a pure removal changes no field');
  const unchanged = recordUpdate(R.deployments, applied, structuredClone(applied), 'someone');
  assert.deepEqual(unchanged.metadata.managedFields, applied.metadata.managedFields);
});

test('service ports are keyed by port and protocol', () => {
  const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ port: 53, protocol: 'UDP', name: 'dns' }, { port: 53, name: 'dns-tcp' }] } };
  const res = serverSideApply(R.services, undefined, svc, 'kubectl', false);
  const ports = (res.object!.metadata.managedFields as any[])[0].fieldsV1['f:spec']['f:ports'];
  assert.deepEqual(Object.keys(ports).sort(), ['k:{"port":53,"protocol":"TCP"}', 'k:{"port":53,"protocol":"UDP"}']);
  const again = serverSideApply(R.services, res.object, { ...svc, spec: { ports: [{ port: 53, protocol: 'UDP', name: 'dns' }] } }, 'kubectl', false);
  assert.deepEqual((again.object!.spec as any).ports, [{ port: 53, protocol: 'UDP', name: 'dns' }]);
});

test('gateway kinds apply with their CRD list types (listeners keyed by name)', () => {
  const gw = (listeners: unknown[]): KubeObject => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'g', namespace: 'default' }, spec: { gatewayClassName: 'c', listeners } });
  const first = serverSideApply(R.gateways, undefined, gw([{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'alt', port: 8080, protocol: 'HTTP' }]), 'kubectl', false).object!;
  const fields = (first.metadata.managedFields as any[])[0].fieldsV1['f:spec']['f:listeners'];
  assert.deepEqual(Object.keys(fields), ['k:{"name":"alt"}', 'k:{"name":"http"}']);
  const second = serverSideApply(R.gateways, first, gw([{ name: 'http', port: 81, protocol: 'HTTP' }]), 'kubectl', false).object!;
  assert.deepEqual((second.spec as any).listeners, [{ name: 'http', port: 81, protocol: 'HTTP' }]);
});

test('managers are (name, operation) pairs: an Update under the applier name conflicts too', () => {
  const applied = apply(undefined, manifest(3)).object!;
  const scaled = structuredClone(applied);
  (scaled.spec as any).replicas = 5;
  const afterScale = recordUpdate(R.deployments, applied, scaled, 'kubectl');
  const res = apply(afterScale, manifest(3));
  assert.deepEqual(res.conflicts?.map((c) => [c.manager, c.operation, c.field]), [['kubectl', 'Update', '.spec.replicas']]);
});

test('values that differ only by defaults do not conflict (HTTPRoute parentRefs after client-side apply)', () => {
  const route = (port: number): KubeObject => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web', port }] }] },
  });
  const created = route(80);
  applyDefaults(R.httproutes, created);
  const live = recordUpdate(R.httproutes, undefined, created, 'kubectl-client-side-apply');
  const res = serverSideApply(R.httproutes, live, route(9090), 'kubectl', false);
  assert.deepEqual(res.conflicts?.map((c) => c.field), ['.spec.rules']);
});

test('an applied list-map item without its key is refused', () => {
  const bad = manifest(1) as any;
  delete bad.spec.template.spec.containers[0].name;
  assert.throws(
    () => serverSideApply(R.deployments, undefined, bad, 'kubectl', false),
    (e: unknown) =>
      e instanceof PatchError &&
      e.message ===
        'failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
  );
});

test('apply to the status subresource sets only status and records a status-subresource manager', () => {
  const live = apply(undefined, manifest(2)).object!;
  const applied = { ...manifest(9), status: { conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] } } as KubeObject;
  const res = serverSideApply(R.deployments, live, applied, 'status-writer', false, 'status');
  assert.ok(res.object);
  assert.equal((res.object.spec as any).replicas, 2, 'spec is not the status subresource\'s to change');
  assert.deepEqual((res.object.status as any).conditions, [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }]);
  const e = (res.object.metadata.managedFields as any[]).find((m) => m.manager === 'status-writer');
  assert.equal(e.subresource, 'status');
  assert.deepEqual(Object.keys(e.fieldsV1), ['f:status']);
  // A second status apply merges conditions by type and keeps the main resource's Apply entry apart.
  const again = serverSideApply(R.deployments, res.object, { ...applied, status: { conditions: [{ type: 'Progressing', status: 'True' }] } } as KubeObject, 'other', false, 'status');
  assert.deepEqual((again.object!.status as any).conditions.map((c: any) => c.type), ['Available', 'Progressing']);
  assert.ok(entry(again.object!, 'kubectl'), 'the main resource apply entry stays');
});

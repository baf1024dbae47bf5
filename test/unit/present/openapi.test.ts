import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openapiV3 } from '../../../src/apiserver/present/index.js';
import { schemaFor, fieldsOf, type FieldType } from '../../../src/api/schema/index.js';
import { RESOURCES, apiVersionOf, GATEWAY_API_GROUP } from '../../../src/api/resources.js';

type Any = any;

const index = openapiV3('/openapi/v3') as Any;

function docFor(group: string, version: string): Any {
  const key = group === '' ? `api/${version}` : `apis/${group}/${version}`;
  return openapiV3(index.paths[key].serverRelativeURL);
}

test('the index lists every served group-version with a content hash', () => {
  // Every served group-version is listed (others join as kinds are added).
  const listed = new Set(Object.keys(index.paths));
  for (const gv of [
    'api/v1',
    'apis/apps/v1',
    'apis/authentication.k8s.io/v1',
    'apis/authorization.k8s.io/v1',
    'apis/batch/v1',
    'apis/coordination.k8s.io/v1',
    'apis/discovery.k8s.io/v1',
    'apis/gateway.networking.k8s.io/v1',
    'apis/networking.k8s.io/v1',
    'apis/rbac.authorization.k8s.io/v1',
  ]) assert.ok(listed.has(gv), gv);
  for (const [path, entry] of Object.entries<Any>(index.paths)) {
    const m = /^\/openapi\/v3\/(.+)\?hash=([0-9A-F]{128})$/.exec(entry.serverRelativeURL);
    assert.ok(m, entry.serverRelativeURL);
    assert.equal(m[1], path);
    const doc = openapiV3(`/openapi/v3/${path}`);
    assert.equal(createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase(), m[2]);
  }
  assert.equal(openapiV3('/openapi/v3/apis/nope/v1'), undefined);
  assert.equal(openapiV3('/openapi/v2'), undefined);
});

test('every kind has PATCH operations with its GVK and a fieldValidation parameter', () => {
  // Create-only kinds (the access and token reviews) are served with a POST alone, as upstream.
  for (const r of RESOURCES.filter((r) => r.verbs.includes('patch'))) {
    const doc = docFor(r.group, r.version);
    const patches = Object.entries<Any>(doc.paths)
      .filter(([, p]) => p.patch && p.patch['x-kubernetes-group-version-kind']?.kind === r.kind)
      .map(([path, p]) => ({ path, op: p.patch }));
    assert.ok(patches.length >= 1, `${apiVersionOf(r)} ${r.kind}`);
    for (const { path, op } of patches) {
      assert.deepEqual(op['x-kubernetes-group-version-kind'], { group: r.group, version: r.version, kind: r.kind });
      assert.ok(op.parameters.some((p: Any) => p.name === 'fieldValidation' && p.in === 'query'), path);
      const types = Object.keys(op.requestBody.content);
      assert.ok(types.includes('application/merge-patch+json') && types.includes('application/apply-patch+yaml'), path);
      assert.equal(types.includes('application/strategic-merge-patch+json'), r.group !== GATEWAY_API_GROUP, path);
    }
    // The schema explain and SMP look up by GVK.
    const schemas = Object.values<Any>(doc.components.schemas).filter((s) =>
      (s['x-kubernetes-group-version-kind'] ?? []).some((g: Any) => g.group === r.group && g.version === r.version && g.kind === r.kind),
    );
    assert.equal(schemas.length, 1, `${r.kind} schema`);
    assert.ok(schemas[0].properties.metadata && schemas[0].properties.apiVersion, r.kind);
  }
});

test('the scale subresource speaks autoscaling/v1 Scale', () => {
  const apps = docFor('apps', 'v1');
  const scale = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
  assert.deepEqual(scale.patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  assert.deepEqual(apps.components.schemas['io.k8s.api.autoscaling.v1.Scale']['x-kubernetes-group-version-kind'], [{ group: 'autoscaling', version: 'v1', kind: 'Scale' }]);
});

test('every $ref resolves inside its document', () => {
  for (const key of Object.keys(index.paths)) {
    const doc = openapiV3(`/openapi/v3/${key}`) as Any;
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const r of new Set(refs)) {
      const name = r.slice('"$ref":"#/components/schemas/'.length, -1);
      assert.ok(doc.components.schemas[name], `${key}: ${name}`);
    }
  }
});

test('built-in schemas carry upstream patch strategies and merge keys', () => {
  const core = docFor('', 'v1').components.schemas;
  const apps = docFor('apps', 'v1').components.schemas;
  const prop = (schemas: Any, type: string, field: string) => schemas[type].properties[field];
  assert.deepEqual(
    [prop(core, 'io.k8s.api.core.v1.PodSpec', 'containers')['x-kubernetes-patch-strategy'], prop(core, 'io.k8s.api.core.v1.PodSpec', 'containers')['x-kubernetes-patch-merge-key']],
    ['merge', 'name'],
  );
  assert.equal(prop(core, 'io.k8s.api.core.v1.PodSpec', 'volumes')['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.equal(prop(core, 'io.k8s.api.core.v1.Container', 'ports')['x-kubernetes-patch-merge-key'], 'containerPort');
  assert.deepEqual(prop(core, 'io.k8s.api.core.v1.Container', 'ports')['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.equal(prop(core, 'io.k8s.api.core.v1.Container', 'env')['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(prop(core, 'io.k8s.api.core.v1.ServiceSpec', 'ports')['x-kubernetes-patch-merge-key'], 'port');
  assert.equal(prop(core, 'io.k8s.api.core.v1.PodSpec', 'tolerations')['x-kubernetes-patch-strategy'], undefined);
  assert.equal(prop(core, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences')['x-kubernetes-patch-merge-key'], 'uid');
  assert.equal(prop(core, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers')['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(prop(apps, 'io.k8s.api.apps.v1.DeploymentSpec', 'strategy')['x-kubernetes-patch-strategy'], 'retainKeys');
  assert.equal(prop(core, 'io.k8s.api.core.v1.ServiceSpec', 'ports').items.allOf[0].$ref, '#/components/schemas/io.k8s.api.core.v1.ServicePort');
  assert.deepEqual(core['io.k8s.api.core.v1.ServicePort'].required, ['port']);
  assert.equal(prop(core, 'io.k8s.api.core.v1.ServicePort', 'targetPort').$ref, '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  assert.equal(prop(core, 'io.k8s.api.core.v1.ResourceRequirements', 'limits').additionalProperties.$ref, '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity');
});

/** Every list field reachable from a kind's schema, with the OpenAPI schema name of its owner. */
function listFields(ft: FieldType, owner: string, out: Map<string, FieldType>, seen = new Set<string>()): void {
  if (ft.t !== 'object' || !ft.model || seen.has(ft.model)) return;
  seen.add(ft.model);
  for (const [name, child] of Object.entries(fieldsOf(ft))) {
    const inner = child.t === 'list' ? child.item : child.t === 'map' ? child.value : child;
    if (child.t === 'list') out.set(`${ft.model}.${name}`, child);
    if (child.t === 'object' && child.retainKeys) out.set(`${ft.model}.${name}`, child);
    listFields(inner, owner, out, seen);
  }
}

test('server-side merges and the OpenAPI document read the same list and patch metadata (upstream values)', () => {
  const all: Record<string, Any> = {};
  for (const key of Object.keys(index.paths)) Object.assign(all, (openapiV3(`/openapi/v3/${key}`) as Any).components.schemas);
  const fields = new Map<string, FieldType>();
  for (const r of RESOURCES.filter((r) => r.group !== GATEWAY_API_GROUP)) {
    const ft = schemaFor(r);
    if (ft) listFields(ft, r.kind, fields);
  }
  let compared = 0;
  const disagreements: string[] = [];
  for (const [key, ft] of fields) {
    const [model, field] = key.split('.');
    const go = model.replace(/^(CoreV1|DiscoveryV1|EventsV1|AuthenticationV1|V1)/, '');
    const schema = Object.entries<Any>(all).find(([name, s]) => name.endsWith(`.${go}`) && s.properties?.[field])?.[1];
    if (!schema) continue;
    const p = schema.properties[field];
    const fromSchema =
      ft.t === 'list'
        ? { strategy: [ft.merge ? 'merge' : '', ft.retainKeys ? 'retainKeys' : ''].filter(Boolean).join(',') || undefined, key: ft.mergeKey, listType: ft.listType, mapKeys: ft.mapKeys }
        : { strategy: ft.t === 'object' && ft.retainKeys ? 'retainKeys' : undefined, key: undefined, listType: undefined, mapKeys: undefined };
    const fromOpenapi = { strategy: p['x-kubernetes-patch-strategy'], key: p['x-kubernetes-patch-merge-key'], listType: p['x-kubernetes-list-type'], mapKeys: p['x-kubernetes-list-map-keys'] };
    if (JSON.stringify(fromSchema) !== JSON.stringify(fromOpenapi)) disagreements.push(`${key}: schema ${JSON.stringify(fromSchema)} openapi ${JSON.stringify(fromOpenapi)}`);
    compared++;
  }
  assert.deepEqual(disagreements, []);
  assert.ok(compared > 150, `only ${compared} list fields compared`);
  // Upstream's values (k8s.io/api v0.32.4 markers) where the two tables used to disagree.
  const prop = (name: string, field: string) => all[name].properties[field];
  assert.equal(prop('io.k8s.api.core.v1.PodStatus', 'hostIPs')['x-kubernetes-list-type'], 'atomic');
  assert.equal(prop('io.k8s.api.core.v1.PodStatus', 'hostIPs')['x-kubernetes-patch-merge-key'], 'ip');
  assert.equal(prop('io.k8s.api.core.v1.ServiceSpec', 'externalIPs')['x-kubernetes-list-type'], 'atomic');
  assert.equal(prop('io.k8s.api.networking.v1.IngressLoadBalancerStatus', 'ingress')['x-kubernetes-list-type'], 'atomic');
  assert.equal(prop('io.k8s.api.apps.v1.DeploymentSpec', 'strategy')['x-kubernetes-patch-strategy'], 'retainKeys');
  assert.deepEqual(prop('io.k8s.api.core.v1.Container', 'ports')['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'volumes')['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  assert.equal(prop('io.k8s.api.core.v1.ContainerStatus', 'volumeMounts')['x-kubernetes-patch-merge-key'], 'mountPath');
});

test('gateway kinds have hand-written schemas reachable by GVK', () => {
  const gw = docFor(GATEWAY_API_GROUP, 'v1');
  const gateway = gw.components.schemas['io.k8s.networking.gateway.v1.Gateway'];
  assert.deepEqual(gateway['x-kubernetes-group-version-kind'], [{ group: GATEWAY_API_GROUP, version: 'v1', kind: 'Gateway' }]);
  assert.deepEqual(gateway.properties.spec.required, ['gatewayClassName', 'listeners']);
  assert.equal(gateway.properties.metadata.allOf[0].$ref, '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  const rules = gw.components.schemas['io.k8s.networking.gateway.v1.HTTPRoute'].properties.spec.properties.rules;
  assert.ok(rules.items.properties.backendRefs.items.properties.weight);
});

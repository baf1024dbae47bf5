// How custom resources are presented: printer columns, discovery merged with the built-in
// documents (a CRD-only group, and a custom kind joining a built-in group), and OpenAPI v3
// documents with the operations and schemas kubectl reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { defaultCustomResourceDefinition } from '../../../src/api/crd/validation.js';
import type { CustomResourceDefinition } from '../../../src/api/crd/types.js';
import { customResourceInfo } from '../../../src/apiserver/crd/resource.js';
import { customResourcePrinter, evalJsonPath } from '../../../src/apiserver/crd/printer.js';
import { aggregatedWithCustom, legacyWithCustom } from '../../../src/apiserver/crd/discovery.js';
import { withCustomResources } from '../../../src/apiserver/crd/openapi.js';
import { aggregatedDiscovery, legacyDiscovery, openapiV3 } from '../../../src/apiserver/present/index.js';
import { WIDGET_CRD, gatewayBundleCrd } from './fixtures.js';

function info(yaml: string) {
  const crd = parse(yaml) as CustomResourceDefinition;
  defaultCustomResourceDefinition(crd as unknown as Record<string, unknown>);
  return customResourceInfo(crd, crd.spec.versions[0], crd.spec.names);
}

const widgets = info(WIDGET_CRD);
const listenerSets = info(gatewayBundleCrd({ plural: 'listenersets', kind: 'ListenerSet', scope: 'Namespaced', versions: ['v1'], status: true }));

test('JSONPath subset of printer columns', () => {
  const obj = { a: { b: [{ type: 'X', v: 1 }, { type: 'Y', v: 2 }], 'c.d': 'dotted' } };
  assert.deepEqual(evalJsonPath(obj, '.a.b[*].v'), [1, 2]);
  assert.deepEqual(evalJsonPath(obj, '.a.b[?(@.type=="Y")].v'), [2]);
  assert.deepEqual(evalJsonPath(obj, ".a.b[?(@.type=='X')].v"), [1]);
  assert.deepEqual(evalJsonPath(obj, '{.a.b[1].type}'), ['Y']);
  assert.deepEqual(evalJsonPath(obj, ".a['c.d']"), ['dotted']);
  assert.deepEqual(evalJsonPath(obj, '.a.missing'), []);
  assert.deepEqual(evalJsonPath(obj, 'not a path'), []);
});

test('printer: NAME then the CRD columns with their cell rules; NAME and AGE without columns', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  const row = widgets.custom.printer.row(
    { metadata: { name: 'w', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { size: 'small', replicas: 2 }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    now,
  );
  assert.deepEqual(widgets.custom.printer.columns.map((c) => c.name), ['Name', 'Size', 'Replicas', 'Ready', 'Age']);
  assert.deepEqual(row.cells, ['w', 'small', 2, 'True', '60m']);
  assert.deepEqual(widgets.custom.printer.row({ metadata: { name: 'x' }, spec: { size: 3 } }, now).cells, ['x', '3', null, null, null]);
  const plain = customResourcePrinter([]);
  assert.deepEqual(plain.columns.map((c) => c.name), ['Name', 'Age']);
});

test('legacy discovery: a CRD-only group and a custom kind in a built-in group', () => {
  const list = legacyWithCustom('/apis', legacyDiscovery('/apis') as Record<string, unknown>, [widgets, listenerSets]) as { groups: { name: string; preferredVersion: { version: string } }[] };
  assert.equal(list.groups.filter((g) => g.name === 'gateway.networking.k8s.io').length, 1);
  assert.deepEqual(list.groups.find((g) => g.name === 'demo.flatnet.dev')?.preferredVersion.version, 'v1');
  const gw = legacyWithCustom('/apis/gateway.networking.k8s.io/v1', legacyDiscovery('/apis/gateway.networking.k8s.io/v1') as Record<string, unknown>, [listenerSets]) as { resources: { name: string }[] };
  const names = gw.resources.map((r) => r.name);
  assert.ok(names.includes('gateways') && names.includes('listenersets') && names.includes('listenersets/status'), names.join(','));
  assert.equal(legacyWithCustom('/apis/demo.flatnet.dev/v2', undefined, [widgets]), undefined);
  assert.deepEqual((legacyWithCustom('/apis/demo.flatnet.dev', undefined, [widgets]) as { versions: unknown[] }).versions, [{ groupVersion: 'demo.flatnet.dev/v1', version: 'v1' }]);
});

test('aggregated discovery: custom resources join or add groups, never duplicate them', () => {
  const before = aggregatedDiscovery('apis') as { items: { metadata: { name: string } }[] };
  const doc = aggregatedWithCustom(before as unknown as Record<string, unknown>, [widgets, listenerSets]) as {
    items: { metadata: { name: string }; versions: { version: string; resources: { resource: string }[] }[] }[];
  };
  assert.equal(doc.items.length, before.items.length + 1);
  const gw = doc.items.filter((g) => g.metadata.name === 'gateway.networking.k8s.io');
  assert.equal(gw.length, 1);
  const v1 = gw[0].versions.find((v) => v.version === 'v1')!;
  assert.ok(v1.resources.some((r) => r.resource === 'gateways'));
  assert.ok(v1.resources.some((r) => r.resource === 'listenersets'));
  assert.equal(before.items.find((g) => g.metadata.name === 'demo.flatnet.dev'), undefined, 'the built-in document is not changed');
});

test('OpenAPI v3: the index lists the custom group-version; its document has the PATCH operation kubectl checks and the schemas explain reads', () => {
  const builtin = (p: string) => openapiV3(p) as Record<string, unknown> | undefined;
  const index = withCustomResources('/openapi/v3', builtin, [widgets]) as { paths: Record<string, { serverRelativeURL: string }> };
  assert.match(index.paths['apis/demo.flatnet.dev/v1'].serverRelativeURL, /^\/openapi\/v3\/apis\/demo\.flatnet\.dev\/v1\?hash=[0-9A-F]+$/);
  assert.ok(index.paths['api/v1'], 'built-in entries stay');
  const doc = withCustomResources('/openapi/v3/apis/demo.flatnet.dev/v1', builtin, [widgets]) as {
    paths: Record<string, Record<string, { parameters?: { name: string }[]; 'x-kubernetes-group-version-kind'?: unknown }>>;
    components: { schemas: Record<string, Record<string, unknown>> };
  };
  const item = doc.paths['/apis/demo.flatnet.dev/v1/namespaces/{namespace}/widgets/{name}'];
  assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'demo.flatnet.dev', version: 'v1', kind: 'Widget' });
  assert.ok(item.patch.parameters?.some((p) => p.name === 'fieldValidation'));
  assert.ok(doc.paths['/apis/demo.flatnet.dev/v1/namespaces/{namespace}/widgets/{name}/scale']);
  const kind = doc.components.schemas['dev.flatnet.demo.v1.Widget'];
  assert.deepEqual(kind['x-kubernetes-group-version-kind'], [{ group: 'demo.flatnet.dev', version: 'v1', kind: 'Widget' }]);
  assert.ok((kind.properties as Record<string, unknown>).spec);
  assert.ok(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'], 'metadata is resolvable');
  assert.ok(doc.components.schemas['dev.flatnet.demo.v1.WidgetList']);
  // A custom kind in a built-in group is added to the built-in document.
  const gw = withCustomResources('/openapi/v3/apis/gateway.networking.k8s.io/v1', builtin, [listenerSets]) as { paths: Record<string, unknown> };
  const paths = Object.keys(gw.paths);
  assert.ok(paths.some((p) => p.endsWith('/gateways/{name}')) && paths.some((p) => p.endsWith('/listenersets/{name}')));
});

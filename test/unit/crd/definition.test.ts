// CustomResourceDefinition objects: defaulting and validation as apiextensions-apiserver does
// them, the status the server writes (accepted names, conflicts, established, terminating), and
// the discovery ordering of versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { defaultCustomResourceDefinition, validateCustomResourceDefinition, validateCustomResourceDefinitionUpdate } from '../../../src/api/crd/validation.js';
import type { CustomResourceDefinition } from '../../../src/api/crd/types.js';
import { desiredStatus, isEstablished } from '../../../src/apiserver/crd/naming.js';
import { compareVersions } from '../../../src/apiserver/crd/discovery.js';
import { customResourceInfo } from '../../../src/apiserver/crd/resource.js';
import { customScaleOf, setCustomScaleReplicas } from '../../../src/apiserver/crd/scale.js';
import { RESOURCES } from '../../../src/api/resources.js';
import { applyDefaults, validateCreate } from '../../../src/api/validation/index.js';
import { GATEWAY_STANDARD_KINDS, WIDGET_CRD, gatewayBundleCrd } from './fixtures.js';

function widget(): CustomResourceDefinition {
  const crd = parse(WIDGET_CRD) as CustomResourceDefinition;
  defaultCustomResourceDefinition(crd as unknown as Record<string, unknown>);
  return crd;
}

const messages = (crd: CustomResourceDefinition) => validateCustomResourceDefinition(crd).map((e) => `${e.field}: ${e.message}`);

test('defaults: listKind and singular from the kind, conversion None', () => {
  const crd = parse(WIDGET_CRD) as CustomResourceDefinition;
  delete crd.spec.names.singular;
  defaultCustomResourceDefinition(crd as unknown as Record<string, unknown>);
  assert.equal(crd.spec.names.singular, 'widget');
  assert.equal(crd.spec.names.listKind, 'WidgetList');
  assert.deepEqual(crd.spec.conversion, { strategy: 'None' });
});

test('the fixtures are valid CRDs', () => {
  assert.deepEqual(messages(widget()), []);
  for (const k of GATEWAY_STANDARD_KINDS) {
    const crd = parse(gatewayBundleCrd(k)) as CustomResourceDefinition;
    defaultCustomResourceDefinition(crd as unknown as Record<string, unknown>);
    assert.deepEqual(messages(crd), [], k.plural);
  }
});

test('names: <plural>.<group>, a dotted group, DNS-1035 names, listKind unlike kind', () => {
  let crd = widget();
  crd.metadata.name = 'widgets';
  assert.deepEqual(messages(crd), ['metadata.name: Invalid value: "widgets": must be spec.names.plural+"."+spec.group']);
  crd = widget();
  crd.spec.group = 'demo';
  crd.metadata.name = 'widgets.demo';
  assert.deepEqual(messages(crd), ['spec.group: Invalid value: "demo": should be a domain with at least one dot']);
  crd = widget();
  crd.spec.names.plural = 'Widgets';
  crd.metadata.name = 'Widgets.demo.flatnet.dev';
  assert.match(messages(crd)[0], /^spec\.names\.plural: Invalid value: "Widgets": a DNS-1035 label/);
  crd = widget();
  crd.spec.names.listKind = 'Widget';
  assert.deepEqual(messages(crd), ['spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same']);
  crd = widget();
  crd.spec.names.shortNames = ['ok', 'Not_OK'];
  assert.match(messages(crd)[0], /^spec\.names\.shortNames\[1\]: Invalid value: "Not_OK"/);
});

test('protected groups need the approval annotation', () => {
  const crd = parse(gatewayBundleCrd(GATEWAY_STANDARD_KINDS[0])) as CustomResourceDefinition;
  delete crd.metadata.annotations!['api-approved.kubernetes.io'];
  defaultCustomResourceDefinition(crd as unknown as Record<string, unknown>);
  assert.deepEqual(messages(crd), [
    'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
  ]);
});

test('scope, versions, storage, served, schema, scale paths and printer columns', () => {
  let crd = widget();
  crd.spec.scope = 'Global' as 'Cluster';
  assert.deepEqual(messages(crd), ['spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']);
  crd = widget();
  crd.spec.versions.push({ ...crd.spec.versions[0], name: 'v2' });
  assert.match(messages(crd).join('\n'), /spec\.versions: Invalid value: .*must have exactly one version marked as storage version/);
  crd = widget();
  crd.spec.versions[0].served = false;
  assert.match(messages(crd).join('\n'), /must have at least one version marked as served/);
  crd = widget();
  delete crd.spec.versions[0].schema;
  delete crd.spec.versions[0].selectableFields;
  assert.deepEqual(messages(crd), ['spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required']);
  crd = widget();
  crd.spec.versions[0].subresources!.scale!.specReplicasPath = '.status.replicas';
  assert.deepEqual(messages(crd), ['spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec']);
  crd = widget();
  crd.spec.versions[0].additionalPrinterColumns![0].type = 'text';
  assert.deepEqual(messages(crd), ['spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "text": supported values: "integer", "number", "string", "boolean", "date"']);
  crd = widget();
  (crd.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec as { type?: string }).type = undefined;
  assert.deepEqual(messages(crd), ['spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields']);
});

test('selectable fields: simple paths to string, integer or boolean fields, at most 8', () => {
  let crd = widget();
  crd.spec.versions[0].selectableFields = [{ jsonPath: '.spec.replicas' }, { jsonPath: '.spec.tags' }, { jsonPath: '.spec.nope' }, { jsonPath: '.metadata.name' }, { jsonPath: '.spec.replicas' }];
  assert.deepEqual(messages(crd), [
    'spec.versions[0].selectableFields[1].jsonPath: Invalid value: ".spec.tags": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
    'spec.versions[0].selectableFields[2].jsonPath: Invalid value: ".spec.nope": is an invalid path: does not refer to a field of the schema',
    'spec.versions[0].selectableFields[3].jsonPath: Invalid value: ".metadata.name": must be a simple json path to a field outside metadata, such as .spec.color',
    'spec.versions[0].selectableFields[4].jsonPath: Duplicate value: ".spec.replicas"',
  ]);
  crd = widget();
  crd.spec.versions[0].selectableFields = Array.from({ length: 9 }, () => ({ jsonPath: '.spec.size' }));
  assert.match(messages(crd)[0], /selectableFields: Too many: 9: must have at most 8 items/);
  const r = customResourceInfo(widget(), widget().spec.versions[0], widget().spec.names);
  assert.equal(r.custom.selectableFields['spec.size']({ metadata: {}, spec: { size: 'large' } }), 'large');
});

test('scope is immutable', () => {
  const old = widget();
  const next = widget();
  next.spec.scope = 'Cluster';
  assert.deepEqual(
    validateCustomResourceDefinitionUpdate(next, old).map((e) => `${e.field}: ${e.message}`),
    ['spec.scope: Invalid value: "Cluster": field is immutable'],
  );
});

test('status: names accepted and established; conflicts with other CRDs and built-ins are reported', () => {
  const now = '2026-01-01T00:00:00Z';
  const first = widget();
  first.status = desiredStatus(first, [], RESOURCES, now);
  assert.ok(isEstablished(first));
  assert.deepEqual(first.status.acceptedNames?.plural, 'widgets');
  assert.deepEqual(
    first.status.conditions?.map((c) => [c.type, c.status, c.reason]),
    [
      ['NamesAccepted', 'True', 'NoConflicts'],
      ['Established', 'True', 'InitialNamesAccepted'],
    ],
  );
  // A second CRD in the group with the same kind under another plural.
  const second = widget();
  second.metadata.name = 'gadgets.demo.flatnet.dev';
  second.spec.names = { plural: 'gadgets', singular: 'gadget', kind: 'Widget', listKind: 'WidgetList' };
  const s2 = desiredStatus(second, [first], RESOURCES, now);
  assert.deepEqual(s2.conditions?.find((c) => c.type === 'NamesAccepted'), { type: 'NamesAccepted', status: 'False', reason: 'KindConflict', message: '"Widget" is already in use', lastTransitionTime: now });
  assert.deepEqual(s2.conditions?.find((c) => c.type === 'Established')?.status, 'False');
  // A short name a built-in Gateway API kind already has.
  const third = parse(gatewayBundleCrd({ plural: 'meshes', kind: 'Mesh', scope: 'Cluster', versions: ['v1alpha1'], shortNames: ['gtw'], status: true })) as CustomResourceDefinition;
  const s3 = desiredStatus(third, [], RESOURCES, now);
  assert.deepEqual(s3.conditions?.find((c) => c.type === 'NamesAccepted')?.reason, 'ShortNamesConflict');
  // The Gateway API CRD of a built-in kind agrees with it.
  const gateways = parse(gatewayBundleCrd(GATEWAY_STANDARD_KINDS[1])) as CustomResourceDefinition;
  const s4 = desiredStatus(gateways, [], RESOURCES, now);
  assert.ok(s4.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
  assert.deepEqual(s4.storedVersions, ['v1']);
});

test('a custom kind named like a built-in kind gets none of its defaults or rules', () => {
  const crd = parse(WIDGET_CRD.replace(/Widget/g, 'Gateway')) as CustomResourceDefinition;
  defaultCustomResourceDefinition(crd as unknown as Record<string, unknown>);
  const r = customResourceInfo(crd, crd.spec.versions[0], crd.spec.names);
  const obj = { apiVersion: 'demo.flatnet.dev/v1', kind: 'Gateway', metadata: { name: 'g', namespace: 'default' }, spec: { size: 'small' } };
  applyDefaults(r, obj);
  assert.deepEqual(obj.spec, { size: 'small' }, 'no Gateway API defaults');
  assert.deepEqual(validateCreate(r, obj), [], 'no Gateway API validation (spec.gatewayClassName, listeners)');
  const builtin = RESOURCES.find((x) => x.kind === 'Gateway')!;
  assert.ok(validateCreate(builtin, { ...obj, apiVersion: 'gateway.networking.k8s.io/v1' }).length > 0, 'the built-in Gateway is still validated');
});

test('versions sort as Kubernetes prefers them', () => {
  assert.deepEqual(['v1alpha1', 'v1', 'foo', 'v2beta1', 'v1beta2', 'v2', 'v1beta1'].sort(compareVersions), ['v2', 'v1', 'v2beta1', 'v1beta2', 'v1beta1', 'v1alpha1', 'foo']);
});

test('the scale subresource reads and writes the CRD paths', () => {
  const crd = widget();
  const r = customResourceInfo(crd, crd.spec.versions[0], crd.spec.names);
  const obj = { apiVersion: 'demo.flatnet.dev/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default', resourceVersion: '5' }, spec: { size: 'small', replicas: 2 }, status: { replicas: 1, selector: 'app=w' } };
  assert.deepEqual(customScaleOf(r, obj), {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: 'w', namespace: 'default', uid: undefined, resourceVersion: '5', creationTimestamp: undefined },
    spec: { replicas: 2 },
    status: { replicas: 1, selector: 'app=w' },
  });
  assert.equal(setCustomScaleReplicas(r, obj, 7), true);
  assert.equal(obj.spec.replicas, 7);
  assert.equal(customScaleOf(RESOURCES[0], obj), undefined);
});

test('generation: status changes count only when status is not a subresource', () => {
  const crd = widget();
  const withStatus = customResourceInfo(crd, crd.spec.versions[0], crd.spec.names);
  assert.ok(withStatus.custom.generationIgnores.includes('status'));
  delete crd.spec.versions[0].subresources;
  const without = customResourceInfo(crd, crd.spec.versions[0], crd.spec.names);
  assert.ok(!without.custom.generationIgnores.includes('status'));
  assert.deepEqual(without.subresources, []);
});

test('Webhook conversion is accepted with one served version and refused with several (no webhook is ever called)', () => {
  const one = widget();
  one.spec.conversion = { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'] } };
  assert.deepEqual(messages(one), []);
  const two = widget();
  two.spec.conversion = { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'] } };
  two.spec.versions = [two.spec.versions[0], { ...two.spec.versions[0], name: 'v2', storage: false }];
  assert.deepEqual(messages(two), ['spec.conversion.strategy: Forbidden: flatnet does not call conversion webhooks; serve one version or use the None strategy']);
});

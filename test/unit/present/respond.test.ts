// Response media types negotiated from Accept, YAML as kube-apiserver writes it, and the
// /openapi/v2 document converted from the v3 component schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { encodeResponse, jsonToYaml, responseFormat } from '../../../src/apiserver/present/respond.js';
import { openapiV2Document, toV2Schema, wantsOpenapiV2Protobuf } from '../../../src/apiserver/present/openapi/v2.js';
import { decodeOpenapiV2Protobuf } from '../../../src/apiserver/present/openapi/v2-protobuf.js';
import { openapiV2 } from '../../../src/apiserver/present/index.js';
import { decodeProtobuf } from '../../../src/apiserver/present/protobuf/decode.js';

test('Accept negotiation: highest q wins, client order breaks ties, protobuf only when JSON is not acceptable', () => {
  const cases: [string | undefined, string][] = [
    [undefined, 'json'],
    ['', 'json'],
    ['application/json', 'json'],
    ['*/*', 'json'],
    ['application/yaml', 'yaml'],
    ['application/yaml, application/json', 'yaml'],
    ['application/json, application/yaml', 'json'],
    ['application/json;q=0.9, application/yaml', 'yaml'],
    ['application/yaml;q=0, application/json', 'json'],
    ['application/vnd.kubernetes.protobuf', 'protobuf'],
    ['application/vnd.kubernetes.protobuf, application/json', 'json'], // kubectl's typed clients: JSON is what flatnet holds
    ['application/json;as=Table;v=v1;g=meta.k8s.io, application/json', 'json'],
    ['text/html', 'json'],
  ];
  for (const [accept, want] of cases) assert.equal(responseFormat(accept), want, String(accept));
});

test('YAML answers sort keys, keep sequences unindented, never fold lines, and quote strings YAML 1.1 would retype', () => {
  const json = JSON.stringify({
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: 'x', creationTimestamp: '2026-01-02T03:04:05Z', finalizers: ['a', 'b'] },
    data: { on: 'yes', port: '8080', long: 'x'.repeat(200), multi: 'a\nb\n' },
  });
  const yaml = jsonToYaml(json);
  assert.ok(yaml.startsWith('apiVersion: v1\ndata:\n'), yaml);
  assert.match(yaml, /\n {2}finalizers:\n {2}- a\n {2}- b\n/);
  assert.match(yaml, /creationTimestamp: "2026-01-02T03:04:05Z"/);
  assert.match(yaml, /"on": "yes"/);
  assert.match(yaml, /port: "8080"/);
  assert.match(yaml, new RegExp(`long: x{200}\\n`));
  assert.deepEqual(parseYaml(yaml), JSON.parse(json));
  const answer = encodeResponse('application/yaml', json);
  assert.equal(answer.contentType, 'application/yaml');
  assert.equal(answer.body.toString(), yaml);
});

test('protobuf answers wrap the object in the runtime.Unknown envelope; kinds without a message stay JSON', () => {
  const json = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } });
  const proto = encodeResponse('application/vnd.kubernetes.protobuf', json);
  assert.equal(proto.contentType, 'application/vnd.kubernetes.protobuf');
  assert.deepEqual(decodeProtobuf(proto.body), JSON.parse(json));
  const table = JSON.stringify({ apiVersion: 'meta.k8s.io/v1', kind: 'Table', rows: [] });
  assert.equal(encodeResponse('application/vnd.kubernetes.protobuf', table).contentType, 'application/json');
});

test('v3 schemas become v2 schemas: allOf refs are $refs, int-or-string a string format, v3-only keywords dropped', () => {
  assert.deepEqual(toV2Schema({ allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }], description: 'd', default: {} }), {
    $ref: '#/definitions/io.k8s.api.core.v1.PodSpec',
    description: 'd',
  });
  assert.deepEqual(toV2Schema({ 'x-kubernetes-int-or-string': true, format: 'int-or-string', description: 'p' }), {
    type: 'string',
    format: 'int-or-string',
    description: 'p',
    'x-kubernetes-int-or-string': true,
  });
  assert.deepEqual(toV2Schema({ type: 'array', items: { allOf: [{ $ref: '#/components/schemas/X' }] }, nullable: true, oneOf: [{}], 'x-kubernetes-list-type': 'atomic' }), {
    type: 'array',
    items: { $ref: '#/definitions/X' },
    'x-kubernetes-list-type': 'atomic',
  });
  // No definition refers to a schema that is not in the document.
  const doc = openapiV2Document() as { definitions: Record<string, unknown> };
  const refs = JSON.stringify(doc).match(/"\$ref":"#\/definitions\/[^"]+"/g) ?? [];
  for (const r of new Set(refs)) assert.ok(r.slice('"$ref":"#/definitions/'.length, -1) in doc.definitions, r);
  assert.ok(!JSON.stringify(doc).includes('#/components/schemas/'));
});

test('/openapi/v2 negotiation and the protobuf form hold the same definitions with GVK extensions as YAML', () => {
  assert.equal(wantsOpenapiV2Protobuf('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), true);
  assert.equal(wantsOpenapiV2Protobuf('application/com.github.proto-openapi.spec.v2.v1.0+protobuf, application/json'), true);
  assert.equal(wantsOpenapiV2Protobuf('application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), false);
  assert.equal(wantsOpenapiV2Protobuf('application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0.5, application/json'), false);
  assert.equal(wantsOpenapiV2Protobuf(undefined), false);
  const proto = openapiV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
  assert.equal(proto.contentType, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  const doc = decodeOpenapiV2Protobuf(proto.body) as { definitions: { additionalProperties: { name: string; value: { vendorExtension?: { name: string; value: { yaml: string } }[] } }[] } };
  const json = openapiV2(undefined);
  assert.equal(json.contentType, 'application/json');
  const defs = (JSON.parse(json.body.toString()) as { definitions: Record<string, unknown> }).definitions;
  assert.deepEqual(doc.definitions.additionalProperties.map((d) => d.name), Object.keys(defs));
  const pod = doc.definitions.additionalProperties.find((d) => d.name === 'io.k8s.api.core.v1.Pod')!;
  const gvk = pod.value.vendorExtension!.find((e) => e.name === 'x-kubernetes-group-version-kind')!;
  assert.deepEqual(parseYaml(gvk.value.yaml), [{ group: '', version: 'v1', kind: 'Pod' }]);
});

test('responseFormat answers a repeated Accept header the same, also after many distinct headers', () => {
  const cases: [string, string][] = [
    ['application/yaml', 'yaml'],
    ['application/vnd.kubernetes.protobuf', 'protobuf'],
    ['application/vnd.kubernetes.protobuf, application/json', 'json'],
    ['application/json;q=0.5, application/yaml', 'yaml'],
  ];
  for (let round = 0; round < 2; round++) for (const [accept, want] of cases) assert.equal(responseFormat(accept), want, accept);
  for (let i = 0; i < 200; i++) assert.equal(responseFormat(`application/yaml;q=0.${(i % 9) + 1}, application/json;q=0.05, text/x-${i}`), 'yaml');
  for (let i = 0; i < 200; i++) assert.equal(responseFormat(`application/yaml;q=0.01, application/json;q=0.5, text/x-${i}`), 'json');
  for (const [accept, want] of cases) assert.equal(responseFormat(accept), want, accept);
  assert.equal(responseFormat(undefined), 'json');
});

// The protobuf codec over the whole upstream field table: every served built-in kind has a message,
// every message round-trips a fully populated JSON object (JSON -> wire -> JSON), and the wire
// form matches upstream's field numbers for hand-checked cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { RESOURCES, apiVersionOf, GATEWAY_API_GROUP } from '../../../src/api/resources.js';
import { UPSTREAM_FIELDS } from '../../../src/api/schema/upstream/index.js';
import { decodeMessage, encodeMessage, goDuration } from '../../../src/apiserver/present/protobuf/codec.js';
import { decodeProtobuf, encodeProtobuf, messageOf } from '../../../src/apiserver/present/protobuf/decode.js';

type Plain = Record<string, unknown>;

/** A JSON value for one field type, `depth` levels of nesting deep at most. */
function sampleValue(type: string, depth: number): unknown {
  switch (type) {
    case 'string':
      return 'text';
    case 'int32':
      return 7;
    case 'int64':
      return 1234567890123;
    case 'bool':
      return true;
    case 'double':
      return 1.5;
    case 'apiextensions.v1.JSON':
      return { any: ['json', 1] };
    case 'apiextensions.v1.JSONSchemaPropsOrArray':
      return depth % 2 ? [{ type: 'string' }, { type: 'integer' }] : { type: 'integer', format: 'int32' };
    case 'apiextensions.v1.JSONSchemaPropsOrStringArray':
      return depth % 2 ? ['a', 'b'] : { type: 'integer', format: 'int32' };
    case 'apiextensions.v1.JSONSchemaPropsOrBool':
      return depth % 2 ? false : { type: 'string' };
    case 'bytes':
      return Buffer.from('bytes').toString('base64');
    case 'meta.v1.Time':
      return '2026-01-02T03:04:05Z';
    case 'meta.v1.MicroTime':
      return '2026-01-02T03:04:05.123456Z';
    case 'intstr.IntOrString':
      return depth % 2 ? 8080 : 'http';
    case 'resource.Quantity':
      return '100m';
    case 'runtime.RawExtension':
      return { apiVersion: 'v1', kind: 'ConfigMap' };
    case 'meta.v1.FieldsV1':
      return { 'f:metadata': { 'f:labels': {} } };
    default:
      return sampleMessage(type, depth - 1);
  }
}

/** Every field of a message filled (nested messages down to a depth), as Go's JSON shows it. */
function sampleMessage(message: string, depth: number): Plain | undefined {
  if (depth < 0) return undefined;
  const out: Plain = {};
  for (const f of UPSTREAM_FIELDS.get(message)!) {
    if (f.type === 'meta.v1.Duration') continue;
    const v = sampleValue(f.type, depth);
    if (v === undefined || (typeof v === 'object' && v !== null && Object.keys(v).length === 0 && !f.inline)) continue;
    if (f.inline) Object.assign(out, v as Plain);
    else if (f.map) out[f.json] = { key: v };
    else if (f.repeated) out[f.json] = [v];
    else out[f.json] = v;
  }
  return out;
}

test('every served built-in kind, its list and its subresource kinds have a protobuf message', () => {
  const missing: string[] = [];
  for (const r of RESOURCES) {
    if (r.group === GATEWAY_API_GROUP) continue; // CRD-served kinds take JSON, as upstream
    if (!messageOf(apiVersionOf(r), r.kind)) missing.push(`${apiVersionOf(r)} ${r.kind}`);
    if (r.verbs.includes('list') && !messageOf(apiVersionOf(r), r.listKind)) missing.push(`${apiVersionOf(r)} ${r.listKind}`);
    for (const s of r.subresources) {
      if (s.kind && !messageOf(s.group !== undefined ? `${s.group ? `${s.group}/` : ''}${s.version}` : apiVersionOf(r), s.kind)) missing.push(`${r.plural}/${s.name} ${s.kind}`);
    }
  }
  assert.deepEqual(missing, []);
  assert.equal(messageOf('v1', 'DeleteOptions'), 'meta.v1.DeleteOptions');
  assert.equal(messageOf('policy/v1', 'Eviction'), 'policy.v1.Eviction');
  assert.equal(messageOf('gateway.networking.k8s.io/v1', 'Gateway'), undefined);
});

test('every message of the table round-trips a fully populated object', () => {
  let count = 0;
  for (const message of UPSTREAM_FIELDS.keys()) {
    if (/^(runtime|intstr|resource)\./.test(message) || /^apiextensions\.v1\.(JSON|JSONSchemaPropsOr\w+)$/.test(message) || ['meta.v1.Time', 'meta.v1.MicroTime', 'meta.v1.FieldsV1', 'meta.v1.Duration'].includes(message)) continue;
    const sample = sampleMessage(message, 3)!;
    const back = decodeMessage(message, encodeMessage(message, sample));
    assert.deepEqual(back, sample, message);
    count++;
  }
  assert.ok(count > 400, `${count} messages`);
});

test('wire numbers match upstream generated.proto for hand-checked fields', () => {
  // Pod{metadata=1{name=1}, spec=2{containers=2{name=1, image=2}, nodeName=10}}
  const bytes = encodeProtobuf({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n', containers: [{ name: 'c', image: 'i' }] } })!;
  assert.deepEqual([...bytes.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]);
  const envelope = protobuf.Reader.create(bytes.subarray(4));
  const seen: number[] = [];
  let raw: Uint8Array | undefined;
  while (envelope.pos < envelope.len) {
    const tag = envelope.uint32();
    seen.push(tag >>> 3);
    if (tag >>> 3 === 2) raw = envelope.bytes();
    else envelope.skipType(tag & 7);
  }
  assert.deepEqual(seen, [1, 2]);
  const r = protobuf.Reader.create(raw!);
  const fields: Record<number, Uint8Array> = {};
  while (r.pos < r.len) {
    const tag = r.uint32();
    fields[tag >>> 3] = r.bytes();
  }
  const spec = protobuf.Reader.create(fields[2]);
  const specFields: number[] = [];
  while (spec.pos < spec.len) {
    const tag = spec.uint32();
    specFields.push(tag >>> 3);
    spec.skipType(tag & 7);
  }
  assert.deepEqual(specFields.sort((a, b) => a - b), [2, 10]);
});

test('Go JSON conventions: inline structs, zero values, IntOrString, bytes, RawExtension', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'c', ports: [{ containerPort: 0 }], livenessProbe: { tcpSocket: { port: 'http' } } }],
      volumes: [{ name: 'v', configMap: { name: 'cm', items: [{ key: 'k', path: 'p' }] } }],
    },
  };
  assert.deepEqual(decodeProtobuf(encodeProtobuf(pod)!), pod);
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: Buffer.from([0, 1, 2, 255]).toString('base64') }, type: 'Opaque' };
  assert.deepEqual(decodeProtobuf(encodeProtobuf(secret)!), secret);
  const revision = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, data: { spec: { template: {} } }, revision: 3 };
  assert.deepEqual(decodeProtobuf(encodeProtobuf(revision)!), revision);
  // A Status (an error answer) encodes too.
  const status = { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: 'nope', reason: 'NotFound', code: 404 };
  const back = decodeMessage('meta.v1.Status', encodeMessage('meta.v1.Status', status));
  assert.deepEqual(back, { metadata: {}, status: 'Failure', message: 'nope', reason: 'NotFound', code: 404 });
  // A CRD: JSON defaults and enums, schema-or-bool, schema-or-array, x-kubernetes-* fields.
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { plural: 'widgets', kind: 'Widget' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['size'],
                  properties: {
                    size: { type: 'integer', minimum: 1, default: 3 },
                    mode: { type: 'string', enum: ['a', 'b'] },
                    labels: { type: 'object', additionalProperties: { type: 'string' } },
                    open: { type: 'object', additionalProperties: true, 'x-kubernetes-preserve-unknown-fields': true },
                    port: { 'x-kubernetes-int-or-string': true },
                    ratio: { type: 'number', maximum: 0.5 },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
  assert.deepEqual(decodeProtobuf(encodeProtobuf(crd)!), crd);
  assert.equal(goDuration(3_723_000_000_000), '1h2m3s');
  assert.equal(goDuration(1_500_000_000), '1.5s');
});

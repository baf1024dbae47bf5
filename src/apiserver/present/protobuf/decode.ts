// application/vnd.kubernetes.protobuf bodies: "k8s\0" magic, then a runtime.Unknown envelope
// {typeMeta{apiVersion, kind}, raw, contentEncoding, contentType} whose raw bytes are the kind's
// message. Decoding gives the JSON object the same request would carry as JSON; encoding writes
// responses for clients that accept protobuf only.
import type { KubeObject } from '../../../api/types.js';
import { checkKnownFields, decodeMessage, encodeMessage, MESSAGE_FIELDS } from './codec.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** A protobuf body of a kind flatnet has no protobuf message for (CRD-served kinds, unknown groups): 415, as upstream. */
export class UnsupportedProtobufKind extends Error {}

/** The message of apiVersion/kind: v1 Pod -> core.v1.Pod, apps/v1 Deployment -> apps.v1.Deployment. */
export function messageOf(apiVersion: string, kind: string): string | undefined {
  if (kind === 'DeleteOptions') return 'meta.v1.DeleteOptions'; // sent under the resource's own group version
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const pkg = group === '' ? 'core' : group === 'meta.k8s.io' ? 'meta' : group.split('.')[0];
  // gateway.networking.k8s.io must not land on networking.k8s.io's messages.
  if (group !== '' && group !== 'meta.k8s.io' && group !== pkg && group !== `${pkg}.k8s.io` && group !== `${pkg}.authorization.k8s.io`) return undefined;
  const name = `${pkg}.${version}.${kind}`;
  return MESSAGE_FIELDS.has(name) ? name : undefined;
}

/** Decode one protobuf body; throws an Error naming what could not be decoded. */
export function decodeProtobuf(body: Buffer): KubeObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) {
    throw new Error('protobuf body does not start with the "k8s\\0" magic; send application/vnd.kubernetes.protobuf bodies as kubectl does, or JSON');
  }
  let envelope: Record<string, unknown>;
  try {
    envelope = decodeMessage('runtime.Unknown', body.subarray(4));
  } catch (err) {
    throw new Error(`protobuf body: cannot decode the runtime.Unknown envelope: ${(err as Error).message}`, { cause: err });
  }
  const apiVersion = String(envelope.apiVersion ?? '');
  const kind = String(envelope.kind ?? '');
  if (!kind) throw new Error('protobuf body: the envelope names no kind (typeMeta.kind is empty)');
  if (envelope.contentEncoding) throw new Error(`protobuf body: content encoding "${String(envelope.contentEncoding)}" is not supported; send it unencoded`);
  const message = messageOf(apiVersion, kind);
  if (!message) throw new UnsupportedProtobufKind(`protobuf bodies are accepted for the built-in kinds only; send kind ${kind} (${apiVersion || 'no apiVersion'}) as JSON or YAML`);
  const raw = Buffer.from(String(envelope.raw ?? ''), 'base64');
  checkKnownFields(message, raw, '');
  let obj: Record<string, unknown>;
  try {
    obj = decodeMessage(message, raw);
  } catch (err) {
    throw new Error(`protobuf body: cannot decode ${kind}: ${(err as Error).message}`, { cause: err });
  }
  return { apiVersion, kind, ...obj, metadata: (obj.metadata as KubeObject['metadata']) ?? {} };
}

/** The protobuf form of a JSON object (an object, a list or a Status), or undefined when its kind has no message. */
export function encodeProtobuf(obj: Record<string, unknown>): Buffer | undefined {
  const apiVersion = String(obj.apiVersion ?? '');
  const kind = String(obj.kind ?? '');
  const message = messageOf(apiVersion, kind) ?? (kind === 'Status' ? 'meta.v1.Status' : undefined);
  if (!message) return undefined;
  const raw = encodeMessage(message, obj);
  const envelope = encodeMessage('runtime.Unknown', { apiVersion, kind, raw: Buffer.from(raw).toString('base64') });
  return Buffer.concat([MAGIC, envelope]);
}

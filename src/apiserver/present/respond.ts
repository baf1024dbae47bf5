// The media type of a response, negotiated from the Accept header as kube-apiserver does for its
// three serializers: JSON, YAML (application/yaml) and Kubernetes protobuf. The acceptable type
// of highest q wins, the client's order breaks ties. Protobuf is written only for clients that
// take nothing else: kubectl offers JSON beside it, and JSON is what flatnet's store holds.
import { stringify as toYaml } from 'yaml';
import { parseAccept } from './negotiate.js';
import { encodeProtobuf } from './protobuf/decode.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
export type ResponseFormat = 'json' | 'yaml' | 'protobuf';

const FORMAT_OF: Record<string, ResponseFormat> = {
  'application/json': 'json',
  'application/*': 'json',
  '*/*': 'json',
  'application/yaml': 'yaml',
  [PROTOBUF]: 'protobuf',
};

/**
 * Accept headers seen before and their format: clients send the same few headers on every
 * request. A pure function of the header text, so nothing goes stale; bounded, so distinct headers
 * from a client cannot grow it.
 */
const formatOfAccept = new Map<string, ResponseFormat>();
const FORMAT_MEMO_LIMIT = 64;

/** The format an Accept header asks for (JSON when it names nothing flatnet writes, or nothing at all). */
export function responseFormat(accept: string | undefined): ResponseFormat {
  if (accept === undefined) return 'json';
  let format = formatOfAccept.get(accept);
  if (format === undefined) {
    format = negotiateFormat(accept);
    if (formatOfAccept.size < FORMAT_MEMO_LIMIT) formatOfAccept.set(accept, format);
  }
  return format;
}

function negotiateFormat(accept: string): ResponseFormat {
  let best: { format: ResponseFormat; q: number } | undefined;
  let jsonAcceptable = false;
  for (const m of parseAccept(accept)) {
    const format = FORMAT_OF[m.type];
    if (!format) continue;
    const q = m.params.q === undefined ? 1 : Number(m.params.q);
    if (!(q > 0)) continue;
    if (format === 'json') jsonAcceptable = true;
    if (!best || q > best.q) best = { format, q };
  }
  if (!best || (best.format === 'protobuf' && jsonAcceptable)) return 'json';
  return best.format;
}

/**
 * JSON text as YAML the way kube-apiserver writes it (sigs.k8s.io/yaml over go-yaml v2): keys sorted,
 * sequences not indented, no line folding, YAML 1.1 quoting (timestamps, yes/no/on/off stay strings).
 */
export function jsonToYaml(json: string): string {
  return toYaml(JSON.parse(json), { version: '1.1', sortMapEntries: true, indentSeq: false, lineWidth: 0, minContentWidth: 0 });
}

/** A JSON response body in the format the client asked for; protobuf falls back to JSON for kinds without a message (Tables, CRD kinds). */
export function encodeResponse(accept: string | undefined, json: string): { contentType: string; body: Buffer } {
  switch (responseFormat(accept)) {
    case 'yaml':
      return { contentType: 'application/yaml', body: Buffer.from(jsonToYaml(json)) };
    case 'protobuf': {
      const proto = encodeProtobuf(JSON.parse(json) as Record<string, unknown>);
      if (proto) return { contentType: PROTOBUF, body: proto };
      break;
    }
  }
  return { contentType: 'application/json', body: Buffer.from(json) };
}

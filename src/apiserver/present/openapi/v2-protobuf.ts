// Encoding a Swagger 2.0 document as gnostic's openapi.v2.Document protobuf, the form kubectl
// parses /openapi/v2 in. Only the messages and fields a Kubernetes document uses are declared
// (field numbers from gnostic-models openapiv2/OpenAPIv2.proto); paths are sent empty.
import protobuf from 'protobufjs';
import type { Schema } from './schema.js';

const field = (id: number, type: string, rule?: 'repeated') => ({ id, type, ...(rule ? { rule } : {}) });

const DESCRIPTOR = {
  nested: {
    openapi: {
      nested: {
        Document: {
          fields: {
            swagger: field(1, 'string'),
            info: field(2, 'Info'),
            paths: field(8, 'Paths'),
            definitions: field(9, 'Definitions'),
          },
        },
        Info: { fields: { title: field(1, 'string'), version: field(2, 'string') } },
        Paths: { fields: {} },
        Definitions: { fields: { additionalProperties: field(1, 'NamedSchema', 'repeated') } },
        NamedSchema: { fields: { name: field(1, 'string'), value: field(2, 'Schema') } },
        Properties: { fields: { additionalProperties: field(1, 'NamedSchema', 'repeated') } },
        Any: { fields: { yaml: field(2, 'string') } },
        NamedAny: { fields: { name: field(1, 'string'), value: field(2, 'Any') } },
        TypeItem: { fields: { value: field(1, 'string', 'repeated') } },
        ItemsItem: { fields: { schema: field(1, 'Schema', 'repeated') } },
        AdditionalPropertiesItem: { fields: { schema: field(1, 'Schema'), boolean: field(2, 'bool') } },
        Schema: {
          fields: {
            ref: field(1, 'string'),
            format: field(2, 'string'),
            description: field(4, 'string'),
            default: field(5, 'Any'),
            required: field(19, 'string', 'repeated'),
            additionalProperties: field(21, 'AdditionalPropertiesItem'),
            type: field(22, 'TypeItem'),
            items: field(23, 'ItemsItem'),
            properties: field(25, 'Properties'),
            vendorExtension: field(31, 'NamedAny', 'repeated'),
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);
const documentType = root.lookupType('openapi.Document');

type Yaml = (value: unknown) => string;
type Message = Record<string, unknown>;

function schemaMessage(s: Schema, yaml: Yaml): Message {
  const m: Message = {};
  if (typeof s.$ref === 'string') m.ref = s.$ref;
  if (typeof s.format === 'string') m.format = s.format;
  if (typeof s.description === 'string') m.description = s.description;
  if (s.default !== undefined) m.default = { yaml: yaml(s.default) };
  if (Array.isArray(s.required)) m.required = s.required;
  if (typeof s.type === 'string') m.type = { value: [s.type] };
  if (s.items && typeof s.items === 'object') m.items = { schema: [schemaMessage(s.items as Schema, yaml)] };
  if (s.properties && typeof s.properties === 'object') {
    m.properties = { additionalProperties: Object.entries(s.properties as Record<string, Schema>).map(([name, p]) => ({ name, value: schemaMessage(p, yaml) })) };
  }
  if (typeof s.additionalProperties === 'boolean') m.additionalProperties = { boolean: s.additionalProperties };
  else if (s.additionalProperties && typeof s.additionalProperties === 'object') m.additionalProperties = { schema: schemaMessage(s.additionalProperties as Schema, yaml) };
  const extensions = Object.entries(s).filter(([k]) => k.startsWith('x-'));
  if (extensions.length) m.vendorExtension = extensions.map(([name, value]) => ({ name, value: { yaml: yaml(value) } }));
  return m;
}

/** The document (swagger, info, definitions) as protobuf bytes. */
export function encodeOpenapiV2Protobuf(doc: Schema, yaml: Yaml): Buffer {
  const info = (doc.info ?? {}) as Message;
  const definitions = Object.entries((doc.definitions ?? {}) as Record<string, Schema>).map(([name, s]) => ({ name, value: schemaMessage(s, yaml) }));
  const message = documentType.fromObject({ swagger: doc.swagger, info, paths: {}, definitions: { additionalProperties: definitions } });
  return Buffer.from(documentType.encode(message).finish());
}

/** Decode bytes written by encodeOpenapiV2Protobuf (for tests and diagnostics). */
export function decodeOpenapiV2Protobuf(bytes: Uint8Array): Message {
  return documentType.toObject(documentType.decode(bytes), { defaults: false }) as Message;
}

// Typed decoding against a kind's schema, as kube-apiserver's JSON decoder does it: a value of the
// wrong JSON type (a string where an int32 is, an array where labels are, an object where a
// ConfigMap value is), an integer out of its range, or Secret data that is not base64 is an error
// worded as Go's encoding/json words it (`json: cannot unmarshal string into Go struct field
// DeploymentSpec.spec.replicas of type int32`). The same walk collects the unknown fields
// (`spec.foo`, `spec.containers[0].bogus`) for fieldValidation Strict/Warn. JSON null is accepted
// everywhere, as Go leaves the zero value.
import type { ResourceInfo } from '../resources.js';
import { schemaFor } from './index.js';
import type { FieldType, ScalarKind } from './types.js';

export interface TypedCheck {
  /** The first type error, as upstream's decoder words it; undefined when every value has its type. */
  error?: string;
  /** Paths of fields the kind does not have. */
  unknown: string[];
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

const GO_SCALAR: Record<ScalarKind, string> = {
  string: 'string',
  int32: 'int32',
  int64: 'int64',
  float: 'float64',
  bool: 'bool',
  time: 'v1.Time',
  intOrString: 'intstr.IntOrString',
  quantity: 'resource.Quantity',
  bytes: '[]uint8',
};

/** The Go type a field type decodes into, for messages: int32, map[string]string, []v1.Container. */
export function goTypeName(ft: FieldType): string {
  switch (ft.t) {
    case 'scalar':
      return ft.kind ? GO_SCALAR[ft.kind] : 'interface {}';
    case 'any':
      return 'interface {}';
    case 'map':
      return `map[string]${goTypeName(ft.value)}`;
    case 'list':
      return `[]${goTypeName(ft.item)}`;
    case 'object': {
      const name = ft.ref().goName;
      return name ? `v1.${name}` : 'struct';
    }
  }
}

/** Go's base64.StdEncoding check: the offset of the first byte it rejects, or -1 when `s` decodes. */
export function base64ErrorOffset(s: string): number {
  let n = 0;
  let pad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13) continue;
    const alphabet = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (c === 61) {
      if (n % 4 < 2) return i;
      pad++;
      n++;
      continue;
    }
    if (!alphabet || pad > 0) return i;
    n++;
  }
  if (n % 4 !== 0) return n - (n % 4);
  return -1;
}

const QUANTITY = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/;

/**
 * One walk of a value against a field type. The path of the value being visited is kept as a stack
 * of segments and turned into text (`spec.containers[0].image`) only for an error or an unknown
 * field, so a valid object costs no string building.
 */
class Walk {
  error: string | undefined;
  readonly unknown: string[] = [];
  /** Field names (object keys) and bracketed segments (map keys, list indexes), outermost first. */
  private readonly segments: (string | number)[] = [];
  /** Per segment: true when it is bracketed (`[k]`, `[0]`). */
  private readonly bracketed: boolean[] = [];

  /** prune: unknown fields are removed as they are found, as Go's decoder drops them. */
  constructor(
    private readonly rootName: string,
    private readonly prune: boolean,
  ) {}

  private enter(segment: string | number, bracket: boolean): void {
    this.segments.push(segment);
    this.bracketed.push(bracket);
  }

  private leave(): void {
    this.segments.pop();
    this.bracketed.pop();
  }

  /** The path as the messages spell it: `a.b[k][0].c`. */
  private at(): string {
    let out = '';
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i];
      if (this.bracketed[i]) out += `[${seg}]`;
      else out += out === '' ? seg : `.${seg}`;
    }
    return out;
  }

  private fail(value: unknown, ft: FieldType, owner: string, numberText?: string): void {
    if (this.error) return;
    const what = numberText !== undefined ? `number ${numberText}` : jsonKind(value);
    const goPath = this.at().replace(/\[[^\]]*\]/g, '');
    const into = goPath === '' ? `Go value` : `Go struct field ${owner}.${goPath}`;
    this.error = `json: cannot unmarshal ${what} into ${into} of type ${goTypeName(ft)}`;
  }

  private scalar(value: unknown, ft: FieldType & { t: 'scalar' }, owner: string): void {
    const kind = ft.kind;
    if (!kind) return;
    switch (kind) {
      case 'string':
        if (typeof value !== 'string') this.fail(value, ft, owner);
        return;
      case 'time':
        if (typeof value !== 'string') {
          if (!this.error) this.error = `json: cannot unmarshal ${jsonKind(value)} into Go value of type string`;
        } else if (Number.isNaN(Date.parse(value))) {
          if (!this.error) this.error = `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(value)} as "2006"`;
        }
        return;
      case 'bool':
        if (typeof value !== 'boolean') this.fail(value, ft, owner);
        return;
      case 'float':
        if (typeof value !== 'number') this.fail(value, ft, owner);
        return;
      case 'int32':
      case 'int64':
        if (typeof value !== 'number') this.fail(value, ft, owner);
        else if (!Number.isInteger(value) || (kind === 'int32' && (value < INT32_MIN || value > INT32_MAX))) this.fail(value, ft, owner, String(value));
        return;
      case 'intOrString':
        if (typeof value === 'string') return;
        if (typeof value !== 'number') {
          if (!this.error) this.error = `json: cannot unmarshal ${jsonKind(value)} into Go value of type int32`;
        } else if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
          if (!this.error) this.error = `json: cannot unmarshal number ${value} into Go value of type int32`;
        }
        return;
      case 'quantity':
        if ((typeof value !== 'string' && typeof value !== 'number') || !QUANTITY.test(String(value).trim())) {
          if (!this.error) this.error = `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`;
        }
        return;
      case 'bytes': {
        if (typeof value !== 'string') {
          this.fail(value, ft, owner);
          return;
        }
        const bad = base64ErrorOffset(value);
        if (bad >= 0 && !this.error) this.error = `illegal base64 data at input byte ${bad}`;
        return;
      }
    }
  }

  visit(value: unknown, ft: FieldType, owner: string): void {
    if (value === null || value === undefined) return;
    switch (ft.t) {
      case 'any':
        return;
      case 'scalar':
        this.scalar(value, ft, owner);
        return;
      case 'map': {
        if (typeof value !== 'object' || Array.isArray(value)) {
          this.fail(value, ft, owner);
          return;
        }
        const entries = value as Record<string, unknown>;
        for (const k in entries) {
          this.enter(k, true);
          this.visit(entries[k], ft.value, owner);
          this.leave();
        }
        return;
      }
      case 'list':
        if (!Array.isArray(value)) {
          this.fail(value, ft, owner);
          return;
        }
        for (let i = 0; i < value.length; i++) {
          this.enter(i, true);
          this.visit(value[i], ft.item, owner);
          this.leave();
        }
        return;
      case 'object': {
        if (typeof value !== 'object' || Array.isArray(value)) {
          this.fail(value, ft, owner);
          return;
        }
        const schema = ft.ref();
        const fields = schema.fields;
        const inner = schema.goName ?? this.rootName;
        const o = value as Record<string, unknown>;
        for (const k in o) {
          const sub = fields[k];
          this.enter(k, false);
          if (!sub) {
            this.unknown.push(this.at());
            if (this.prune) delete o[k];
          } else this.visit(o[k], sub, inner);
          this.leave();
        }
      }
    }
  }
}

/**
 * Checks an object of kind `r` against its schema: the first type error and the unknown fields.
 * For built-in kinds (whose schema is upstream's, from the generated models) unknown fields are
 * also removed from `obj`, as kube-apiserver's decoder drops them (fieldValidation Ignore and Warn
 * store the object without them; Strict rejects it).
 */
export function checkTyped(r: Pick<ResourceInfo, 'kind'>, obj: unknown): TypedCheck {
  const ft = schemaFor(r);
  if (!ft) return { unknown: [] };
  const w = new Walk(r.kind, ft.t === 'object' && ft.model !== undefined);
  w.visit(obj, ft, r.kind);
  return { error: w.error, unknown: w.unknown };
}

// Label selectors (=, ==, !=, in, notin, exists, !exists, gt, lt) and field selectors (=, ==, !=
// on the fields upstream supports per resource), parsed once per request into predicates.
import type { KubeObject } from '../api/types.js';

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

export type LabelRequirement =
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type Predicate = (obj: KubeObject) => boolean;

const everything: Predicate = () => true;

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const labelKeyPattern = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValuePattern = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string, whole: string): string {
  if (!labelKeyPattern.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in selector "${whole}"`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (value.length > 63 || !labelValuePattern.test(value)) {
    throw new SelectorError(`unable to parse requirement: invalid label value "${value}" in selector "${whole}": must be 63 characters or less and consist of alphanumerics, '-', '_' or '.'`);
  }
  return value;
}

export function parseLabelSelector(selector: string | undefined | null): LabelRequirement[] {
  if (!selector || selector.trim() === '') return [];
  const reqs: LabelRequirement[] = [];
  for (const rawPart of splitTopLevel(selector)) {
    const part = rawPart.trim();
    if (part === '') throw new SelectorError(`found '', expected: identifier in selector "${selector}"`);
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^!\s*([^\s=!<>(),]+)$/))) {
      reqs.push({ key: checkKey(m[1], selector), op: '!exists' });
    } else if ((m = part.match(/^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/))) {
      const values = m[3].split(',').map((v) => checkValue(v.trim(), selector));
      reqs.push({ key: checkKey(m[1], selector), op: m[2] as 'in' | 'notin', values });
    } else if ((m = part.match(/^([^\s=!<>(),]+)\s*(==|=|!=)\s*([^\s=!<>(),]*)$/))) {
      reqs.push({ key: checkKey(m[1], selector), op: m[2] === '!=' ? '!=' : '=', value: checkValue(m[3], selector) });
    } else if ((m = part.match(/^([^\s=!<>(),]+)\s*([<>])\s*(-?\d+)$/))) {
      reqs.push({ key: checkKey(m[1], selector), op: m[2] === '>' ? 'gt' : 'lt', value: Number(m[3]) });
    } else if ((m = part.match(/^([^\s=!<>(),]+)$/))) {
      reqs.push({ key: checkKey(m[1], selector), op: 'exists' });
    } else {
      throw new SelectorError(`unable to parse requirement: "${part}" in label selector "${selector}"`);
    }
  }
  return reqs;
}

export function matchLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  for (const r of reqs) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels![r.key] : undefined;
    switch (r.op) {
      case 'exists':
        if (!has) return false;
        break;
      case '!exists':
        if (has) return false;
        break;
      case '=':
        if (v !== r.value) return false;
        break;
      case '!=':
        if (v === r.value) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'gt':
      case 'lt': {
        if (v === undefined || !/^-?\d+$/.test(v)) return false;
        const n = Number(v);
        if (r.op === 'gt' ? !(n > r.value) : !(n < r.value)) return false;
        break;
      }
    }
  }
  return true;
}

export function labelPredicate(selector: string | undefined | null): Predicate {
  const reqs = parseLabelSelector(selector);
  if (reqs.length === 0) return everything;
  return (obj) => matchLabels(reqs, obj.metadata.labels);
}

// ---- field selectors ----

export type FieldGetter = (obj: KubeObject) => string;

function path(...keys: string[]): FieldGetter {
  return (obj) => {
    let cur: unknown = obj;
    for (const k of keys) {
      if (cur === null || typeof cur !== 'object') return '';
      cur = (cur as Record<string, unknown>)[k];
    }
    if (cur === undefined || cur === null) return '';
    return typeof cur === 'string' ? cur : String(cur);
  };
}

const metadataFields: Record<string, FieldGetter> = {
  'metadata.name': path('metadata', 'name'),
  'metadata.namespace': path('metadata', 'namespace'),
};

/** The fields each resource supports in fieldSelector, beyond metadata.name/namespace (upstream's field label conversions). */
const resourceFields: Record<string, Record<string, FieldGetter>> = {
  '/pods': {
    'spec.nodeName': path('spec', 'nodeName'),
    'spec.restartPolicy': path('spec', 'restartPolicy'),
    'spec.schedulerName': path('spec', 'schedulerName'),
    'spec.serviceAccountName': path('spec', 'serviceAccountName'),
    'spec.hostNetwork': (o) => String(((o.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork ?? false)),
    'status.phase': path('status', 'phase'),
    'status.podIP': path('status', 'podIP'),
    'status.nominatedNodeName': path('status', 'nominatedNodeName'),
  },
  '/events': {
    'involvedObject.kind': path('involvedObject', 'kind'),
    'involvedObject.namespace': path('involvedObject', 'namespace'),
    'involvedObject.name': path('involvedObject', 'name'),
    'involvedObject.uid': path('involvedObject', 'uid'),
    'involvedObject.apiVersion': path('involvedObject', 'apiVersion'),
    'involvedObject.resourceVersion': path('involvedObject', 'resourceVersion'),
    'involvedObject.fieldPath': path('involvedObject', 'fieldPath'),
    reason: path('reason'),
    reportingComponent: path('reportingComponent'),
    source: path('source', 'component'),
    type: path('type'),
  },
  '/secrets': { type: path('type') },
  '/namespaces': { 'status.phase': path('status', 'phase') },
  '/nodes': { 'spec.unschedulable': (o) => String(((o.spec as { unschedulable?: boolean } | undefined)?.unschedulable ?? false)) },
  '/services': { 'spec.clusterIP': path('spec', 'clusterIP'), 'spec.type': path('spec', 'type') },
  'apps/replicasets': { 'status.replicas': path('status', 'replicas') },
};

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
  get: FieldGetter;
}

function unescapeFieldValue(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

/** Splits on commas not escaped with a backslash. */
function splitEscaped(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[++i];
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** `resourceKey` is "group/plural" (core: "/pods"); `extra`: the selectable fields of a custom resource. */
export function parseFieldSelector(resourceKey: string, selector: string | undefined | null, extra: Record<string, FieldGetter> = {}): FieldRequirement[] {
  if (!selector || selector.trim() === '') return [];
  const fields = { ...metadataFields, ...(resourceFields[resourceKey] ?? {}), ...extra };
  const reqs: FieldRequirement[] = [];
  for (const rawPart of splitEscaped(selector)) {
    const part = rawPart.trim();
    const m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
    const get = fields[m[1]];
    if (!get) throw new SelectorError(`field label not supported: ${m[1]}`);
    reqs.push({ field: m[1], op: m[2] === '!=' ? '!=' : '=', value: unescapeFieldValue(m[3]), get });
  }
  return reqs;
}

export function fieldPredicate(resourceKey: string, selector: string | undefined | null, extra?: Record<string, FieldGetter>): Predicate {
  const reqs = parseFieldSelector(resourceKey, selector, extra);
  if (reqs.length === 0) return everything;
  return (obj) => reqs.every((r) => (r.get(obj) === r.value) === (r.op === '='));
}

/** Both selectors combined; undefined when neither restricts anything. */
export function selectorPredicate(resourceKey: string, labelSelector?: string | null, fieldSelector?: string | null, extraFields?: Record<string, FieldGetter>): Predicate | undefined {
  const l = labelPredicate(labelSelector);
  const f = fieldPredicate(resourceKey, fieldSelector, extraFields);
  if (l === everything && f === everything) return undefined;
  if (l === everything) return f;
  if (f === everything) return l;
  return (obj) => l(obj) && f(obj);
}

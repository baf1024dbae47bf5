// events.k8s.io/v1 Event <-> core/v1 Event, as upstream converts them (both versions are served
// from the same stored Events): note <-> message, regarding <-> involvedObject, related,
// reportingController <-> reportingComponent, reportingInstance, action, series, eventTime, and
// the deprecated* fields <-> source, firstTimestamp, lastTimestamp, count. Plus the stricter
// checks upstream applies to Events written through events.k8s.io/v1.
import type { KubeObject } from '../api/types.js';
import type { FieldError } from '../api/validation/index.js';
import { FIELD_IMMUTABLE, invalid, path, required } from '../api/validation/errors.js';
import { isQualifiedName } from '../api/validation/names.js';

export const EVENTS_V1 = 'events.k8s.io/v1';

type Obj = Record<string, unknown>;

/** [core field, events.k8s.io/v1 field] for every field that only changes its name. */
const RENAMED: [string, string][] = [
  ['message', 'note'],
  ['involvedObject', 'regarding'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];
const SAME = ['metadata', 'eventTime', 'series', 'related', 'action', 'reason', 'type', 'reportingInstance'];

function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0) return true;
  return typeof v === 'object' && !Array.isArray(v) && Object.keys(v as Obj).length === 0;
}

function copyFields(from: Obj, to: Obj, pairs: [string, string][]): void {
  for (const [a, b] of pairs) if (from[a] !== undefined && from[a] !== null) to[b] = from[a];
}

/** A stored (core/v1) Event as events.k8s.io/v1 shows it. */
export function toEventsV1(core: KubeObject): KubeObject {
  const src = core as unknown as Obj;
  const out: Obj = { apiVersion: EVENTS_V1, kind: 'Event' };
  copyFields(src, out, SAME.map((f) => [f, f]));
  copyFields(src, out, RENAMED);
  // As Go encodes the v1 struct: struct fields always present, zero times null, a zero count omitted.
  out.regarding ??= {};
  out.deprecatedSource ??= {};
  if (out.deprecatedCount === 0) delete out.deprecatedCount;
  for (const f of ['eventTime', 'deprecatedFirstTimestamp', 'deprecatedLastTimestamp']) out[f] ??= null;
  return out as unknown as KubeObject;
}

/** An events.k8s.io/v1 Event as the core/v1 Event that is stored. */
export function fromEventsV1(v1: KubeObject): KubeObject {
  const src = v1 as unknown as Obj;
  const out: Obj = { apiVersion: 'v1', kind: 'Event' };
  copyFields(src, out, SAME.map((f) => [f, f]));
  copyFields(
    src,
    out,
    RENAMED.map(([a, b]) => [b, a]),
  );
  if (out.involvedObject === undefined) out.involvedObject = {};
  normalizeTimes(out);
  return out as unknown as KubeObject;
}

/** Rewrites the timestamps of a core Event as Go stores them (UTC; MicroTime with six fraction digits), leaving unparseable ones alone. */
function normalizeTimes(core: Obj): void {
  const rewrite = (o: Obj, field: string, micro: boolean): void => {
    const instant = instantOf(o[field]);
    if (instant) o[field] = formatInstant(instant, micro);
  };
  rewrite(core, 'eventTime', true);
  rewrite(core, 'firstTimestamp', false);
  rewrite(core, 'lastTimestamp', false);
  const series = core.series;
  if (series && typeof series === 'object' && !Array.isArray(series)) {
    const copy = { ...(series as Obj) };
    rewrite(copy, 'lastObservedTime', true);
    core.series = copy;
  }
}

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function validateSeries(ev: Obj): FieldError[] {
  const series = ev.series as { count?: number; lastObservedTime?: string } | undefined | null;
  if (!series) return [];
  const errs: FieldError[] = [];
  if ((series.count ?? 0) < 2) errs.push(invalid(path('series', 'count'), '', 'should be at least 2'));
  if (!series.lastObservedTime) errs.push(required(path('series', 'lastObservedTime'), ''));
  return errs;
}

/** The checks upstream runs on an Event created through events.k8s.io/v1 (fields named as v1 names them). */
export function validateEventsV1Create(v1: KubeObject): FieldError[] {
  const ev = v1 as unknown as Obj;
  const errs: FieldError[] = [];
  const ns = v1.metadata?.namespace ?? '';
  const regarding = (ev.regarding ?? {}) as { namespace?: string };
  if (!ev.eventTime) errs.push(required(path('eventTime'), ''));
  else {
    if (!regarding.namespace && ns !== 'default' && ns !== 'kube-system') {
      errs.push(invalid(path('regarding', 'namespace'), regarding.namespace ?? '', 'does not match event.namespace'));
    }
    const controller = str(ev.reportingController);
    if (!controller) errs.push(required(path('reportingController'), ''));
    for (const msg of isQualifiedName(controller)) errs.push(invalid(path('reportingController'), controller, msg));
    const instance = str(ev.reportingInstance);
    if (!instance) errs.push(required(path('reportingInstance'), ''));
    if (instance.length > REPORTING_INSTANCE_LIMIT) errs.push(invalid(path('reportingInstance'), '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`));
    const action = str(ev.action);
    if (!action) errs.push(required(path('action'), ''));
    if (action.length > ACTION_LIMIT) errs.push(invalid(path('action'), '', `can have at most ${ACTION_LIMIT} characters`));
    const reason = str(ev.reason);
    if (!reason) errs.push(required(path('reason'), ''));
    if (reason.length > REASON_LIMIT) errs.push(invalid(path('reason'), '', `can have at most ${REASON_LIMIT} characters`));
    if (str(ev.note).length > NOTE_LIMIT) errs.push(invalid(path('note'), '', `can have at most ${NOTE_LIMIT} characters`));
  }
  errs.push(...validateSeries(ev));
  if (ev.type !== 'Normal' && ev.type !== 'Warning') errs.push(invalid(path('type'), '', `has invalid value: ${str(ev.type)}`));
  if (ev.deprecatedFirstTimestamp) errs.push(invalid(path('deprecatedFirstTimestamp'), '', 'needs to be unset'));
  if (ev.deprecatedLastTimestamp) errs.push(invalid(path('deprecatedLastTimestamp'), '', 'needs to be unset'));
  if (ev.deprecatedCount) errs.push(invalid(path('deprecatedCount'), '', 'needs to be unset'));
  const source = (ev.deprecatedSource ?? {}) as { component?: string; host?: string };
  if (source.component || source.host) errs.push(invalid(path('deprecatedSource'), '', 'needs to be unset'));
  return errs;
}

/** Fields an update through events.k8s.io/v1 may not change (only series and metadata may), by their core names as upstream reports them. */
const IMMUTABLE_ON_UPDATE: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['reason', 'reason'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['type', 'type'],
  ['eventTime', 'eventTime'],
  ['action', 'action'],
  ['related', 'related'],
  ['reportingController', 'reportingController'],
  ['reportingInstance', 'reportingInstance'],
];

/** Timestamp fields of an Event and the precision their Go types keep: MicroTime microseconds, Time seconds. */
const MICRO_TIME_FIELDS = new Set(['eventTime']);
const TIME_FIELDS = new Set(['deprecatedFirstTimestamp', 'deprecatedLastTimestamp']);

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** An RFC 3339 timestamp as the instant it names, [seconds since the epoch, microseconds]; undefined when it is not one. */
export function instantOf(v: unknown): [number, number] | undefined {
  if (typeof v !== 'string') return undefined;
  const m = RFC3339.exec(v);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, , sign, oh, om] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (Number.isNaN(ms)) return undefined;
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60) : 0;
  const micros = frac ? Number(frac.slice(0, 6).padEnd(6, '0')) : 0;
  return [ms / 1000 - offset, micros];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A timestamp as Go writes it back: RFC 3339 in UTC, with six fraction digits for a MicroTime. */
function formatInstant([seconds, micros]: [number, number], micro: boolean): string {
  const d = new Date(seconds * 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return `${date}T${time}${micro ? `.${pad(micros, 6)}` : ''}Z`;
}

/** Two timestamps name the same instant at the precision of their type (as upstream's semantic equality compares times). */
function sameInstant(a: unknown, b: unknown, micro: boolean): boolean {
  const ia = instantOf(a);
  const ib = instantOf(b);
  if (!ia || !ib) return JSON.stringify(a) === JSON.stringify(b);
  return ia[0] === ib[0] && (!micro || ia[1] === ib[1]);
}

/** Semantic equality of decoded values: zero values equal absent ones and object keys compare in any order (Go structs). */
function sameValue(a: unknown, b: unknown): boolean {
  if (isEmptyValue(a) && isEmptyValue(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ao = a as Obj;
    const bo = b as Obj;
    return [...new Set([...Object.keys(ao), ...Object.keys(bo)])].every((k) => sameValue(ao[k], bo[k]));
  }
  return a === b;
}

function sameField(field: string, a: unknown, b: unknown): boolean {
  if (isEmptyValue(a) && isEmptyValue(b)) return true;
  if (MICRO_TIME_FIELDS.has(field)) return sameInstant(a, b, true);
  if (TIME_FIELDS.has(field)) return sameInstant(a, b, false);
  return sameValue(a, b);
}

export function validateEventsV1Update(v1: KubeObject, oldV1: KubeObject): FieldError[] {
  const ev = v1 as unknown as Obj;
  const old = oldV1 as unknown as Obj;
  const errs = validateSeries(ev);
  for (const [v1Field, coreField] of IMMUTABLE_ON_UPDATE) {
    if (!sameField(v1Field, ev[v1Field], old[v1Field])) errs.push(invalid(path(coreField), ev[v1Field] ?? '', FIELD_IMMUTABLE));
  }
  return errs;
}

/** A field selector of events.k8s.io/v1 in the names the stored (core) Events are selected by. */
export function coreFieldSelector(selector: string | null): string | null {
  if (!selector) return selector;
  return selector
    .replace(/(^|,)(\s*)regarding\./g, '$1$2involvedObject.')
    .replace(/(^|,)(\s*)reportingController(\s*!?=)/g, '$1$2reportingComponent$3')
    .replace(/(^|,)(\s*)deprecatedSource(\s*!?=)/g, '$1$2source$3');
}

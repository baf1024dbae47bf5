// Cron schedules as CronJobs read them (upstream parses them with robfig/cron v3's ParseStandard):
// five fields (minute hour day-of-month month day-of-week) with `*`/`?`, lists, ranges, steps and
// month/day names, or a descriptor (@yearly @annually @monthly @weekly @daily @midnight @hourly,
// @every <duration>). Day-of-month and day-of-week both restrict only when neither starts with `*`
// (then either may match). Parse errors are worded as robfig/cron words them, which is what the
// API server reports for spec.schedule. `nextAfter` walks wall-clock time in an IANA time zone.

export interface CronSchedule {
  kind: 'fields';
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** Day-of-month or day-of-week started with `*` (or `?`) and had no step above 1. */
  domStar: boolean;
  dowStar: boolean;
}

export interface EverySchedule {
  kind: 'every';
  /** The delay in whole seconds (at least 1). */
  seconds: number;
}

export type Schedule = CronSchedule | EverySchedule;

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS: Bounds = { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } };
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };
const BOUNDS: Bounds[] = [{ min: 0, max: 59 }, { min: 0, max: 23 }, { min: 1, max: 31 }, MONTHS, DOW];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export class CronParseError extends Error {}

function parseNumber(expr: string): number {
  if (!/^[+-]?[0-9]+$/.test(expr)) throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const n = Number(expr);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseValue(expr: string, b: Bounds): number {
  const named = b.names?.[expr.toLowerCase()];
  return named ?? parseNumber(expr);
}

/** One comma-separated part: `*`, `n`, `a-b`, with an optional `/step`. */
function parseRange(expr: string, b: Bounds, out: Set<number>): boolean {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  let star = false;
  let start: number;
  let end: number;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseValue(lowAndHigh[0]!, b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseValue(lowAndHigh[1]!, b);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseNumber(rangeAndStep[1]!);
    if (lowAndHigh.length === 1) end = b.max; // `n/step` means n-max/step
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronParseError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronParseError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronParseError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) out.add(v);
  return star;
}

function parseField(field: string, b: Bounds): { values: Set<number>; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const part of field.split(',')) star = parseRange(part, b, values) || star;
  return { values, star };
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Go's time.ParseDuration, in seconds. */
function parseGoDuration(text: string): number {
  const err = () => new CronParseError(`failed to parse duration ${text}: time: invalid duration ${JSON.stringify(text)}`);
  if (text === '0') return 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  if (text === '') throw err();
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw err();
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    i = re.lastIndex;
  }
  return total;
}

/** Parses a schedule as robfig/cron's ParseStandard does; throws CronParseError with its wording. */
export function parseSchedule(spec: string): Schedule {
  if (spec.length === 0) throw new CronParseError('empty spec string');
  let text = spec;
  if (text.startsWith('TZ=') || text.startsWith('CRON_TZ=')) {
    const sp = text.indexOf(' ');
    const tz = text.slice(text.indexOf('=') + 1, sp < 0 ? undefined : sp);
    if (!isTimeZone(tz)) throw new CronParseError(`provided bad location ${tz}: unknown time zone ${tz}`);
    text = sp < 0 ? '' : text.slice(sp).trim();
  }
  if (text.startsWith('@')) {
    if (text.startsWith('@every ')) {
      const seconds = parseGoDuration(text.slice('@every '.length));
      return { kind: 'every', seconds: Math.max(1, Math.floor(seconds)) };
    }
    const expanded = DESCRIPTORS[text.toLowerCase()];
    if (!expanded) throw new CronParseError(`unrecognized descriptor: ${text}`);
    text = expanded;
  }
  const fields = text.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const [minute, hour, dom, month, dow] = fields.map((f, i) => parseField(f, BOUNDS[i]!));
  return {
    kind: 'fields',
    minutes: minute!.values,
    hours: hour!.values,
    daysOfMonth: dom!.values,
    months: month!.values,
    daysOfWeek: dow!.values,
    domStar: dom!.star,
    dowStar: dow!.star,
  };
}

/** Is this an IANA time zone name this runtime knows (as Go's time.LoadLocation would find it)? */
export function isTimeZone(name: string): boolean {
  if (name === '' || name.toLowerCase() === 'local') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The offset of a zone from UTC at an instant, in ms (wall clock = instant + offset). */
export function zoneOffsetMs(timeZone: string, instantMs: number): number {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(instantMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
  return wall - Math.floor(instantMs / 1000) * 1000;
}

function dayMatches(s: CronSchedule, wall: Date): boolean {
  const dom = s.daysOfMonth.has(wall.getUTCDate());
  const dow = s.daysOfWeek.has(wall.getUTCDay());
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

/**
 * The first activation strictly after `afterMs` (an instant, ms) in `timeZone` (default UTC), or
 * undefined when none comes within five years (e.g. `0 0 30 2 *`). Wall-clock times a daylight
 * saving change skips are skipped.
 */
export function nextAfter(schedule: Schedule, afterMs: number, timeZone = 'UTC'): number | undefined {
  if (schedule.kind === 'every') return Math.floor(afterMs / 1000) * 1000 + schedule.seconds * 1000;
  const s = schedule;
  // Walk the wall clock as if it were UTC, then map the match back to an instant.
  let wall = new Date(Math.floor((afterMs + zoneOffsetMs(timeZone, afterMs)) / 60_000) * 60_000 + 60_000);
  const limit = wall.getUTCFullYear() + 5;
  while (wall.getUTCFullYear() <= limit) {
    if (!s.months.has(wall.getUTCMonth() + 1)) {
      wall = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth() + 1, 1));
      continue;
    }
    if (!dayMatches(s, wall)) {
      wall = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate() + 1));
      continue;
    }
    if (!s.hours.has(wall.getUTCHours())) {
      wall = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(), wall.getUTCHours() + 1));
      continue;
    }
    if (!s.minutes.has(wall.getUTCMinutes())) {
      wall = new Date(wall.getTime() + 60_000);
      continue;
    }
    const w = wall.getTime();
    const guess = w - zoneOffsetMs(timeZone, w);
    const instant = w - zoneOffsetMs(timeZone, guess);
    if (instant + zoneOffsetMs(timeZone, instant) === w && instant > afterMs) return instant;
    wall = new Date(w + 60_000); // a wall time the zone skips (or already passed): go on
  }
  return undefined;
}

/**
 * The most recent activation in (sinceMs, nowMs] and how many there were (capped at `cap`+1, as
 * upstream stops counting past 100 missed starts), or undefined when none.
 */
export function mostRecentSchedule(schedule: Schedule, sinceMs: number, nowMs: number, timeZone = 'UTC', cap = 100): { at: number; missed: number } | undefined {
  let t = nextAfter(schedule, sinceMs, timeZone);
  if (t === undefined || t > nowMs) return undefined;
  let missed = 1;
  let last = t;
  while (missed <= cap) {
    t = nextAfter(schedule, last, timeZone);
    if (t === undefined || t > nowMs) return { at: last, missed };
    last = t;
    missed++;
  }
  // Too many to walk: jump to the latest by searching back from now.
  const recent = latestBefore(schedule, nowMs, timeZone) ?? last;
  return { at: recent, missed };
}

function latestBefore(schedule: Schedule, nowMs: number, timeZone: string): number | undefined {
  for (const span of [3_600_000, 86_400_000, 31 * 86_400_000, 366 * 86_400_000]) {
    let t = nextAfter(schedule, nowMs - span, timeZone);
    let last: number | undefined;
    while (t !== undefined && t <= nowMs) {
      last = t;
      t = nextAfter(schedule, t, timeZone);
    }
    if (last !== undefined) return last;
  }
  return undefined;
}

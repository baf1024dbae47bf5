// Query parameters read as kube-apiserver's parameter codec reads them (apimachinery's
// runtime/conversion.go): a boolean is false only when absent, "0" or "false" in any case, and true
// for anything else (`watch=True`, `force=1`, `watch=`); integers are Go's strconv.ParseInt, whose
// error is the 400 message; a watch's timeoutSeconds of 0 (or none) is the server's default.
import { errors } from './errors.js';

/** apimachinery's Convert_Slice_string_To_bool: absent, "0" and "false" (any case) are false. */
export function queryBool(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  if (v === null) return false;
  return !(v === '0' || v.toLowerCase() === 'false');
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** strconv.ParseInt(v, 10, 64): undefined when absent, 400 with Go's message when not an int64. */
export function queryInt(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const big = BigInt(v);
  if (big > INT64_MAX || big < INT64_MIN) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(big);
}

/** Node timers fire at once beyond this many milliseconds (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** kube-apiserver's --min-request-timeout: a watch without a timeout lasts 1 to 2 times this. */
export const MIN_REQUEST_TIMEOUT_SECONDS = 1800;

/** How long a watch with this timeoutSeconds stays open: 0 or none = the server's default; capped for timers. */
export function watchTimeoutMs(timeoutSeconds: number | undefined, random = Math.random): number {
  const ms = timeoutSeconds === undefined || timeoutSeconds <= 0 ? MIN_REQUEST_TIMEOUT_SECONDS * (1 + random()) * 1000 : timeoutSeconds * 1000;
  return Math.min(ms, MAX_TIMER_MS);
}

const UNITS: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** 64Mi, 512Ki, 100M, 1048576 -> bytes; undefined when not a size. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2] ?? ''];
}

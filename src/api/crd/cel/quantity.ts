// The value behind CEL's quantity() (Kubernetes resource.Quantity): parsed as upstream's
// ParseQuantity does ("1.5G", "200Mi", "1e3", "-100m"), held exactly as a decimal (digits x 10^-scale)
// so comparison and arithmetic lose nothing. Values finer than 1n are rounded up to the next
// nano, away from zero, as upstream does on parse.
import { QUANTITY_REGEX_MESSAGE } from '../../validation/quantity.js';

const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const NANO_SCALE = 9;

/**
 * Bounds of our own; upstream has none (its inf.Dec keeps the exponent apart from the digits, and
 * Go parses a long mantissa fast). Here a quantity is a BigInt with every digit written out:
 * `1e99999` cost 2.3 ms and a megabyte of digits about a second to parse, for every quantity a
 * CEL rule, the scheduler or the kubelet reads, and the API accepts such values in a pod's
 * requests. Within these bounds a parse costs at most about 16 µs. A quantity past them is
 * refused as upstream refuses a malformed number.
 */
const MAX_DIGITS = 1000;
const MAX_EXPONENT = 1000;

/** The error texts of upstream's ParseQuantity. */
const ERR_NUMERIC = 'unable to parse numeric part of quantity';
const ERR_SUFFIX = "unable to parse quantity's suffix";

export class Quantity {
  /** value = digits / 10^scale, scale >= 0 */
  constructor(
    readonly digits: bigint,
    readonly scale: number,
  ) {}

  private aligned(other: Quantity): [bigint, bigint, number] {
    const scale = Math.max(this.scale, other.scale);
    return [this.digits * 10n ** BigInt(scale - this.scale), other.digits * 10n ** BigInt(scale - other.scale), scale];
  }

  compareTo(other: Quantity): -1 | 0 | 1 {
    const [a, b] = this.aligned(other);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  add(other: Quantity): Quantity {
    const [a, b, scale] = this.aligned(other);
    return new Quantity(a + b, scale);
  }

  sub(other: Quantity): Quantity {
    const [a, b, scale] = this.aligned(other);
    return new Quantity(a - b, scale);
  }

  sign(): -1 | 0 | 1 {
    return this.digits < 0n ? -1 : this.digits > 0n ? 1 : 0;
  }

  /** The value as an int64, when it is a whole number in int64's range. */
  asInteger(): bigint | undefined {
    const unit = 10n ** BigInt(this.scale);
    if (this.digits % unit !== 0n) return undefined;
    const v = this.digits / unit;
    return v >= INT64_MIN && v <= INT64_MAX ? v : undefined;
  }

  asApproximateFloat(): number {
    return Number(this.digits) / 10 ** this.scale;
  }

  static ofInteger(n: bigint): Quantity {
    return new Quantity(n, 0);
  }
}

/** Rounds to at most nano precision, away from zero (upstream rounds sub-nano quantities up). */
function toNano(digits: bigint, scale: number): Quantity {
  if (scale <= NANO_SCALE) return new Quantity(digits, scale);
  const unit = 10n ** BigInt(scale - NANO_SCALE);
  const whole = digits / unit;
  const rest = digits % unit;
  return new Quantity(rest === 0n ? whole : whole + (digits < 0n ? -1n : 1n), NANO_SCALE);
}

/** The quantity `s` is, or the error upstream's ParseQuantity gives. */
export function parseQuantity(s: string): Quantity | { error: string } {
  if (s.length === 0) return { error: QUANTITY_REGEX_MESSAGE };
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return { error: QUANTITY_REGEX_MESSAGE };
  const [, sign, whole, fraction = '', suffix] = m;
  if (!/^[eEinumkKMGTP]*[-+]?[0-9]*$/.test(suffix)) return { error: QUANTITY_REGEX_MESSAGE };
  if (whole.length + fraction.length > MAX_DIGITS) return { error: ERR_NUMERIC };
  let digits: bigint;
  try {
    digits = BigInt(`${whole}${fraction}` || '0');
  } catch {
    return { error: ERR_NUMERIC };
  }
  if (sign === '-') digits = -digits;
  let scale = fraction.length;
  if (suffix in BINARY_SUFFIX) {
    digits *= 2n ** BINARY_SUFFIX[suffix];
  } else {
    let exponent: number;
    if (suffix in DECIMAL_SUFFIX) exponent = DECIMAL_SUFFIX[suffix];
    else {
      const e = /^[eE]([-+]?[0-9]+)$/.exec(suffix);
      if (!e) return { error: ERR_SUFFIX };
      exponent = Number(e[1]);
      // upstream holds the exponent in an int32
      if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 2 ** 31 - 1) return { error: ERR_SUFFIX };
      if (Math.abs(exponent) > MAX_EXPONENT) return { error: ERR_NUMERIC };
    }
    if (exponent >= 0) {
      const shift = Math.min(exponent, scale);
      scale -= shift;
      digits *= 10n ** BigInt(exponent - shift);
    } else scale -= exponent;
  }
  return toNano(digits, scale);
}

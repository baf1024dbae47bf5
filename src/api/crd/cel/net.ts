// The values behind CEL's ip() and cidr() (Kubernetes' net library): addresses parsed as Go's
// netip.ParseAddr/ParsePrefix do, minus what upstream refuses (zones, IPv4-mapped IPv6), with
// Go's canonical text form (RFC 5952 for IPv6) and its address classes.
import { parseIP } from '../../validation/names.js';
import { formatIPv6 } from '../../../dns/wire.js';

export class CelIP {
  constructor(
    readonly family: 4 | 6,
    readonly bytes: readonly number[],
  ) {}

  toString(): string {
    if (this.family === 4) return this.bytes.join('.');
    return formatIPv6(Buffer.from(this.bytes));
  }

  private prefixIs(bits: number[], length: number): boolean {
    return covers(this.bytes, bits, length);
  }

  isUnspecified(): boolean {
    return this.bytes.every((b) => b === 0);
  }

  isLoopback(): boolean {
    return this.family === 4 ? this.bytes[0] === 127 : this.bytes.slice(0, 15).every((b) => b === 0) && this.bytes[15] === 1;
  }

  isMulticast(): boolean {
    return this.family === 4 ? this.prefixIs([224], 4) : this.bytes[0] === 0xff;
  }

  isLinkLocalMulticast(): boolean {
    return this.family === 4 ? this.prefixIs([224, 0, 0], 24) : this.bytes[0] === 0xff && (this.bytes[1] & 0x0f) === 0x02;
  }

  isLinkLocalUnicast(): boolean {
    return this.family === 4 ? this.prefixIs([169, 254], 16) : this.prefixIs([0xfe, 0x80], 10);
  }

  isGlobalUnicast(): boolean {
    if (this.family === 4 && this.bytes.every((b) => b === 255)) return false;
    return !this.isUnspecified() && !this.isLoopback() && !this.isMulticast() && !this.isLinkLocalUnicast();
  }

  equals(other: CelIP): boolean {
    return this.family === other.family && this.bytes.every((b, i) => b === other.bytes[i]);
  }
}

/** True when the first `length` bits of `bytes` equal those of `prefix`. */
function covers(bytes: readonly number[], prefix: readonly number[], length: number): boolean {
  for (let bit = 0; bit < length; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((bytes[bit >> 3] & mask) !== ((prefix[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

export class CelCIDR {
  constructor(
    readonly ip: CelIP,
    readonly prefixLength: number,
  ) {}

  toString(): string {
    return `${this.ip.toString()}/${this.prefixLength}`;
  }

  masked(): CelCIDR {
    const bytes = this.ip.bytes.map((b, i) => {
      const keep = Math.max(0, Math.min(8, this.prefixLength - i * 8));
      return b & ((0xff << (8 - keep)) & 0xff);
    });
    return new CelCIDR(new CelIP(this.ip.family, bytes), this.prefixLength);
  }

  containsIP(ip: CelIP): boolean {
    return ip.family === this.ip.family && covers(ip.bytes, this.ip.bytes, this.prefixLength);
  }

  containsCIDR(other: CelCIDR): boolean {
    return other.ip.family === this.ip.family && this.prefixLength <= other.prefixLength && covers(other.ip.bytes, this.ip.bytes, this.prefixLength);
  }

  equals(other: CelCIDR): boolean {
    return this.prefixLength === other.prefixLength && this.ip.equals(other.ip);
  }
}

function isIPv4Mapped(bytes: readonly number[]): boolean {
  return bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/** The address `raw` is, or upstream's error for it. */
export function parseCelIP(raw: string): CelIP | { error: string } {
  if (raw.includes('%') && parseIP(raw.slice(0, raw.indexOf('%')))?.family === 6) return { error: `IP address ${JSON.stringify(raw)} with zone value is not allowed` };
  const ip = parseIP(raw);
  if (!ip) return { error: `IP Address ${JSON.stringify(raw)} parse error during conversion from string: ParseAddr(${JSON.stringify(raw)}): unable to parse IP` };
  if (ip.family === 6 && isIPv4Mapped(ip.bytes)) return { error: `IPv4-mapped IPv6 address ${JSON.stringify(raw)} is not allowed` };
  return new CelIP(ip.family, ip.bytes);
}

/** The prefix `raw` is (its address kept unmasked, as Go's netip.Prefix does), or upstream's error for it. */
export function parseCelCIDR(raw: string): CelCIDR | { error: string } {
  const fail = (why: string) => ({ error: `network address parse error during conversion from string: netip.ParsePrefix(${JSON.stringify(raw)}): ${why}` });
  const slash = raw.lastIndexOf('/');
  if (slash < 0) return fail('no \'/\'');
  const addr = raw.slice(0, slash);
  const bits = raw.slice(slash + 1);
  if (addr.includes('%')) return fail('IPv6 zones cannot be present in a prefix');
  const ip = parseIP(addr);
  if (!ip) return fail(`ParseAddr(${JSON.stringify(addr)}): unable to parse IP`);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bits) || Number(bits) > (ip.family === 4 ? 32 : 128)) return fail(`bad bits after slash: ${JSON.stringify(bits)}`);
  if (ip.family === 6 && isIPv4Mapped(ip.bytes)) return { error: `IPv4-mapped IPv6 address ${JSON.stringify(raw)} is not allowed` };
  return new CelCIDR(new CelIP(ip.family, ip.bytes), Number(bits));
}

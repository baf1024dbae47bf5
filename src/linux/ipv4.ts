// IPv4 address arithmetic for subnets, gateways and MACs derived from addresses.

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`"${ip}" is not an IPv4 address`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new Error(`"${ip}" is not an IPv4 address`);
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  /** The network address (host bits cleared). */
  network: string;
  prefix: number;
  /** First and last address as integers. */
  first: number;
  last: number;
}

export function parseCidr(cidr: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`"${cidr}" is not an IPv4 CIDR (expected a.b.c.d/n)`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new Error(`"${cidr}": prefix length ${prefix} is over 32`);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(ipToInt(m[1]) / size) * size;
  return { network: intToIp(first), prefix, first, last: first + size - 1 };
}

export function cidrString(c: Cidr): string {
  return `${c.network}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= c.first && n <= c.last;
}

/** The address `offset` past the network address of `cidr` (offset 1 = the usual gateway). */
export function nthAddress(cidr: string, offset: number): string {
  const c = parseCidr(cidr);
  const n = c.first + offset;
  if (n > c.last) throw new Error(`offset ${offset} is outside ${cidr}`);
  return intToIp(n);
}

/** A locally administered MAC derived from an IPv4 address: 0a:58:<the 4 address bytes>. */
export function macFromIp(ip: string): string {
  const n = ipToInt(ip);
  const bytes = [0x0a, 0x58, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

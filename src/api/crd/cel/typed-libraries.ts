// The Kubernetes CEL libraries that bring their own value types: quantity() (kubernetes.Quantity),
// ip()/cidr() (net.IP, net.CIDR, plus isIP/isCIDR/ip.isCanonical) and format (format.<name>() and
// format.named(), whose validate() gives an optional list of errors). Functions, overloads and
// error texts follow k8s.io/apiserver/pkg/cel/library; `format` and `ip` are namespaces there,
// here constants of a namespace type whose members are those functions.
import { Optional, type Environment } from '@marcbachmann/cel-js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../../validation/names.js';
import { checkFormat } from '../schema/formats.js';
import { CelCIDR, CelIP, parseCelCIDR, parseCelIP } from './net.js';
import { parseQuantity, Quantity } from './quantity.js';

/** The receiver of format.<name>() and format.named(). */
class FormatNamespace {}
/** The receiver of ip.isCanonical(). */
class IPNamespace {}

export class NamedFormat {
  constructor(
    readonly name: string,
    readonly validate: (s: string) => string[],
  ) {}
}

/** upstream's NameIsDNS*(name, prefix=true): a trailing '-' is allowed where a name is generated from a prefix */
function asPrefix(check: (s: string) => string[]): (s: string) => string[] {
  return (s) => check(s.length > 1 && s.endsWith('-') ? `${s.slice(0, -1)}a` : s);
}

/** url.ParseRequestURI's verdict: an absolute URI or an absolute path. */
function requestURIErrors(s: string): string[] {
  if (s === '') return ['parse "": empty url'];
  if ([...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return [`parse ${JSON.stringify(s)}: net/url: invalid control character in URL`];
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s) || s.startsWith('/')) return [];
  if (s.startsWith(':')) return [`parse ${JSON.stringify(s)}: missing protocol scheme`];
  return [`parse ${JSON.stringify(s)}: invalid URI for request`];
}

function formatCheck(format: string, message: string): (s: string) => string[] {
  return (s) => (checkFormat(format, s) ? [] : [message]);
}

const FORMATS = new Map<string, NamedFormat>(
  (
    [
      ['dns1123Label', 'DNS1123Label', isDNS1123Label],
      ['dns1123Subdomain', 'DNS1123Subdomain', isDNS1123Subdomain],
      ['dns1035Label', 'DNS1035Label', isDNS1035Label],
      ['qualifiedName', 'QualifiedName', isQualifiedName],
      ['dns1123LabelPrefix', 'DNS1123LabelPrefix', asPrefix(isDNS1123Label)],
      ['dns1123SubdomainPrefix', 'DNS1123SubdomainPrefix', asPrefix(isDNS1123Subdomain)],
      ['dns1035LabelPrefix', 'DNS1035LabelPrefix', asPrefix(isDNS1035Label)],
      ['labelValue', 'LabelValue', isValidLabelValue],
      ['uri', 'URI', requestURIErrors],
      ['uuid', 'uuid', formatCheck('uuid', 'does not match the UUID format')],
      ['byte', 'byte', formatCheck('byte', 'invalid base64')],
      ['date', 'date', formatCheck('date', 'invalid date')],
      ['datetime', 'datetime', formatCheck('datetime', 'invalid datetime')],
    ] as const
  ).map(([key, name, check]) => [key, new NamedFormat(name, check)]),
);

function orThrow<T>(v: T | { error: string }): T {
  if (typeof v === 'object' && v !== null && 'error' in v) throw new Error(v.error);
  return v;
}

function toIP(s: string): CelIP {
  return orThrow(parseCelIP(s));
}

function toCIDR(s: string): CelCIDR {
  const c = parseCelCIDR(s);
  if ('error' in c) throw new Error(`network address parse error during conversion from string: ${c.error}`);
  return c;
}

function toQuantity(s: string): Quantity {
  return orThrow(parseQuantity(s));
}

function registerFormat(env: Environment): Environment {
  env = env
    .registerType('kubernetes.FormatNamespace', FormatNamespace)
    .registerType('kubernetes.NamedFormat', NamedFormat)
    .registerConstant('format', 'kubernetes.FormatNamespace', new FormatNamespace())
    .registerFunction('kubernetes.FormatNamespace.named(string): optional<kubernetes.NamedFormat>', (_: FormatNamespace, name: string) => {
      const f = FORMATS.get(name);
      return f ? Optional.of(f) : Optional.none();
    })
    .registerFunction('kubernetes.NamedFormat.validate(string): optional<list<string>>', (f: NamedFormat, s: string) => {
      const errors = f.validate(s);
      return errors.length === 0 ? Optional.none() : Optional.of(errors);
    });
  for (const [key, f] of FORMATS) env = env.registerFunction(`kubernetes.FormatNamespace.${key}(): kubernetes.NamedFormat`, () => f);
  return env;
}

function registerQuantity(env: Environment): Environment {
  const Q = 'kubernetes.Quantity';
  return env
    .registerType(Q, Quantity)
    .registerFunction(`quantity(string): ${Q}`, toQuantity)
    .registerFunction('isQuantity(string): bool', (s: string) => !('error' in parseQuantity(s)))
    .registerFunction(`${Q}.sign(): int`, (q: Quantity) => BigInt(q.sign()))
    .registerFunction(`sign(${Q}): int`, (q: Quantity) => BigInt(q.sign()))
    .registerFunction(`${Q}.isInteger(): bool`, (q: Quantity) => q.asInteger() !== undefined)
    .registerFunction(`${Q}.asInteger(): int`, (q: Quantity) => {
      const v = q.asInteger();
      if (v === undefined) throw new Error('cannot convert value to integer');
      return v;
    })
    .registerFunction(`${Q}.asApproximateFloat(): double`, (q: Quantity) => q.asApproximateFloat())
    .registerFunction(`${Q}.add(${Q}): ${Q}`, (a: Quantity, b: Quantity) => a.add(b))
    .registerFunction(`${Q}.add(int): ${Q}`, (a: Quantity, b: bigint) => a.add(Quantity.ofInteger(b)))
    .registerFunction(`${Q}.sub(${Q}): ${Q}`, (a: Quantity, b: Quantity) => a.sub(b))
    .registerFunction(`${Q}.sub(int): ${Q}`, (a: Quantity, b: bigint) => a.sub(Quantity.ofInteger(b)))
    .registerFunction(`${Q}.compareTo(${Q}): int`, (a: Quantity, b: Quantity) => BigInt(a.compareTo(b)))
    .registerFunction(`${Q}.isGreaterThan(${Q}): bool`, (a: Quantity, b: Quantity) => a.compareTo(b) === 1)
    .registerFunction(`${Q}.isLessThan(${Q}): bool`, (a: Quantity, b: Quantity) => a.compareTo(b) === -1)
    .registerOperator(`${Q} == ${Q}`, (a: Quantity, b: Quantity) => a.compareTo(b) === 0);
}

function registerNet(env: Environment): Environment {
  const IP = 'net.IP';
  const CIDR = 'net.CIDR';
  return env
    .registerType(IP, CelIP)
    .registerType(CIDR, CelCIDR)
    .registerType('kubernetes.IPNamespace', IPNamespace)
    .registerConstant('ip', 'kubernetes.IPNamespace', new IPNamespace())
    .registerFunction(`ip(string): ${IP}`, toIP)
    .registerFunction('isIP(string): bool', (s: string) => !('error' in parseCelIP(s)))
    .registerFunction('kubernetes.IPNamespace.isCanonical(string): bool', (_: IPNamespace, s: string) => toIP(s).toString() === s)
    .registerFunction(`${IP}.family(): int`, (a: CelIP) => BigInt(a.family))
    .registerFunction(`${IP}.isUnspecified(): bool`, (a: CelIP) => a.isUnspecified())
    .registerFunction(`${IP}.isLoopback(): bool`, (a: CelIP) => a.isLoopback())
    .registerFunction(`${IP}.isLinkLocalMulticast(): bool`, (a: CelIP) => a.isLinkLocalMulticast())
    .registerFunction(`${IP}.isLinkLocalUnicast(): bool`, (a: CelIP) => a.isLinkLocalUnicast())
    .registerFunction(`${IP}.isGlobalUnicast(): bool`, (a: CelIP) => a.isGlobalUnicast())
    .registerFunction(`string(${IP}): string`, (a: CelIP) => a.toString())
    .registerOperator(`${IP} == ${IP}`, (a: CelIP, b: CelIP) => a.equals(b))
    .registerFunction(`cidr(string): ${CIDR}`, toCIDR)
    .registerFunction('isCIDR(string): bool', (s: string) => !('error' in parseCelCIDR(s)))
    .registerFunction(`${CIDR}.containsIP(${IP}): bool`, (c: CelCIDR, a: CelIP) => c.containsIP(a))
    .registerFunction(`${CIDR}.containsIP(string): bool`, (c: CelCIDR, s: string) => c.containsIP(toIP(s)))
    .registerFunction(`${CIDR}.containsCIDR(${CIDR}): bool`, (c: CelCIDR, o: CelCIDR) => c.containsCIDR(o))
    .registerFunction(`${CIDR}.containsCIDR(string): bool`, (c: CelCIDR, s: string) => c.containsCIDR(toCIDR(s)))
    .registerFunction(`${CIDR}.ip(): ${IP}`, (c: CelCIDR) => c.ip)
    .registerFunction(`${CIDR}.masked(): ${CIDR}`, (c: CelCIDR) => c.masked())
    .registerFunction(`${CIDR}.prefixLength(): int`, (c: CelCIDR) => BigInt(c.prefixLength))
    .registerFunction(`string(${CIDR}): string`, (c: CelCIDR) => c.toString())
    .registerOperator(`${CIDR} == ${CIDR}`, (a: CelCIDR, b: CelCIDR) => a.equals(b));
}

/** `env` with the quantity, IP/CIDR and format libraries registered. */
export function registerTypedLibraries(env: Environment): Environment {
  return registerFormat(registerQuantity(registerNet(env)));
}

// The Corefile's meaning: parsed server blocks -> a typed, validated configuration of the plugins
// flatnet serves (errors, health, ready, kubernetes, prometheus, forward, cache, loop, reload,
// loadbalance, hosts, rewrite name, log, any). Pure except for reading the files a Corefile names
// (`forward . /etc/resolv.conf`, `hosts FILE`), which come in through `readFile`. Anything
// flatnet does not serve is an error with its line, never silently ignored.
import { isIP } from 'node:net';
import { CorefileError, parseCorefile, type Directive, type ServerBlockSyntax } from './parse.js';
import { parseIPv4, parseIPv6 } from '../wire.js';
import type { PodsMode } from '../records.js';

/** A zone as lower-case labels, most specific first; [] is the root. */
export type Zone = string[];

export interface Upstream {
  host: string;
  port: number;
}

export interface KubernetesPlugin {
  zones: Zone[];
  pods: PodsMode;
  ttl: number;
  /** Zones whose NXDOMAIN passes to the next plugin ([] in the list = every zone). */
  fallthrough?: Zone[];
}

export type ForwardPolicy = 'random' | 'round_robin' | 'sequential';

export interface ForwardPlugin {
  from: Zone;
  to: Upstream[];
  except: Zone[];
  policy: ForwardPolicy;
  maxConcurrent: number;
  forceTcp: boolean;
  /** Per-upstream timeout before the next one is tried. */
  timeoutMs: number;
}

export interface CachePlugin {
  zones: Zone[];
  successCapacity: number;
  successTtl: number;
  denialCapacity: number;
  denialTtl: number;
  minTtl: number;
  keepTtl: boolean;
  /** `disable success|denial ZONES`: answers of that kind under these zones are not cached. */
  disableSuccess: Zone[];
  disableDenial: Zone[];
}

export interface HostsEntry {
  ip: string;
  /** Names in lower case without the trailing dot. */
  names: string[];
}

export interface HostsPlugin {
  zones: Zone[];
  entries: HostsEntry[];
  ttl: number;
  noReverse: boolean;
  fallthrough?: Zone[];
}

export type RewriteMatch = 'exact' | 'prefix' | 'suffix' | 'substring' | 'regex';

export interface RewriteRule {
  line: number;
  mode: 'stop' | 'continue';
  match: RewriteMatch;
  from: string;
  to: string;
  /** `answer name FROM TO` (regex rules): how owner names in the answer are written back. */
  answer?: { from: string; to: string };
}

export type LogClass = 'all' | 'success' | 'denial' | 'error';

export interface ServerBlock {
  line: number;
  zones: Zone[];
  port: number;
  errors: boolean;
  log?: { zones: Zone[]; classes: LogClass[] };
  health?: { address: string; lameduckMs: number };
  ready?: { address: string };
  prometheus?: { address: string };
  kubernetes?: KubernetesPlugin;
  forward?: ForwardPlugin;
  cache?: CachePlugin;
  hosts?: HostsPlugin;
  rewrite: RewriteRule[];
  loop: boolean;
  reload?: { intervalMs: number; jitterMs: number };
  loadbalance: boolean;
  any: boolean;
}

export interface CorefileConfig {
  blocks: ServerBlock[];
}

export interface ConfigOptions {
  /** The DNS port this server answers (server blocks on other ports are refused). */
  port?: number;
  readFile?: (path: string) => string;
}

export const DEFAULT_DNS_PORT = 53;
/** The plugins flatnet serves, in the order CoreDNS runs them (its plugin.cfg). */
export const SERVED_PLUGINS = ['reload', 'ready', 'health', 'prometheus', 'errors', 'log', 'any', 'loadbalance', 'cache', 'rewrite', 'hosts', 'kubernetes', 'loop', 'forward'] as const;

const MAX_FORWARD_UPSTREAMS = 15;

/** Parses and validates a Corefile; throws CorefileError naming the line on the first problem. */
export function loadCorefile(text: string, opts: ConfigOptions = {}): CorefileConfig {
  const syntax = parseCorefile(text);
  if (syntax.length === 0) throw new CorefileError(1, 'the Corefile has no server block (for example ".:53 { ... }")');
  const port = opts.port ?? DEFAULT_DNS_PORT;
  const blocks: ServerBlock[] = [];
  const seen = new Map<string, number>();
  for (const s of syntax) {
    const block = serverBlock(s, port, opts);
    for (const z of block.zones) {
      const key = zoneText(z);
      const before = seen.get(key);
      if (before !== undefined) throw new CorefileError(s.line, `zone "${key}" on port ${port} is already served by the block on line ${before}`);
      seen.set(key, s.line);
    }
    blocks.push(block);
  }
  return { blocks };
}

export function zoneText(z: Zone): string {
  return z.length === 0 ? '.' : `${z.join('.')}.`;
}

export function inZone(labels: string[], zone: Zone): boolean {
  if (labels.length < zone.length) return false;
  const off = labels.length - zone.length;
  for (let i = 0; i < zone.length; i++) if (labels[off + i] !== zone[i]) return false;
  return true;
}

/** The most specific of `zones` that contains the name, or undefined. */
export function matchZone(labels: string[], zones: Zone[]): Zone | undefined {
  let best: Zone | undefined;
  for (const z of zones) if (inZone(labels, z) && (!best || z.length > best.length)) best = z;
  return best;
}

function serverBlock(s: ServerBlockSyntax, port: number, opts: ConfigOptions): ServerBlock {
  const zones: Zone[] = [];
  for (const k of s.keys) {
    const { zone, port: p } = serverKey(k.text, k.line);
    if (p !== undefined && p !== port) throw new CorefileError(k.line, `server block "${k.text}" listens on port ${p}; this DNS server serves port ${port} only (the pod's DNS port)`);
    zones.push(zone);
  }
  const block: ServerBlock = { line: s.line, zones, port, errors: false, rewrite: [], loop: false, loadbalance: false, any: false };
  const once = new Set<string>();
  for (const d of s.directives) {
    if (d.name !== 'rewrite') {
      if (once.has(d.name)) throw new CorefileError(d.line, `plugin "${d.name}" can be used only once per server block`);
      once.add(d.name);
    }
    switch (d.name) {
      case 'errors':
        block.errors = true;
        checkErrors(d);
        break;
      case 'log':
        block.log = logPlugin(d);
        break;
      case 'health':
        block.health = healthPlugin(d);
        break;
      case 'ready':
        noBlock(d);
        maxArgs(d, 1);
        block.ready = { address: d.args[0] ?? ':8181' };
        break;
      case 'prometheus':
        noBlock(d);
        maxArgs(d, 1);
        block.prometheus = { address: d.args[0] ?? 'localhost:9153' };
        break;
      case 'kubernetes':
        block.kubernetes = kubernetesPlugin(d, zones);
        break;
      case 'forward':
        block.forward = forwardPlugin(d, zones, opts);
        break;
      case 'cache':
        block.cache = cachePlugin(d, zones);
        break;
      case 'hosts':
        block.hosts = hostsPlugin(d, zones, opts);
        break;
      case 'rewrite':
        block.rewrite.push(rewriteRule(d));
        break;
      case 'loop':
        noBlock(d);
        maxArgs(d, 0);
        block.loop = true;
        break;
      case 'reload':
        block.reload = reloadPlugin(d);
        break;
      case 'loadbalance':
        noBlock(d);
        if (d.args[0] !== undefined && d.args[0] !== 'round_robin') throw new CorefileError(d.line, `loadbalance policy "${d.args[0]}" is not supported by flatnet (use round_robin)`);
        maxArgs(d, 1);
        block.loadbalance = true;
        break;
      case 'any':
        noBlock(d);
        maxArgs(d, 0);
        block.any = true;
        break;
      default:
        throw new CorefileError(d.line, `unknown plugin "${d.name}" (flatnet serves ${[...SERVED_PLUGINS].sort().join(', ')})`);
    }
  }
  return block;
}

/** `.:53`, `dns://example.test:53`, `cluster.local`, `10.0.0.0/24` -> zone and port. */
export function serverKey(text: string, line: number): { zone: Zone; port?: number } {
  let rest = text;
  const scheme = /^([a-z]+):\/\//i.exec(rest);
  if (scheme) {
    if (scheme[1].toLowerCase() !== 'dns') throw new CorefileError(line, `"${scheme[1]}://" servers are not supported by flatnet (only dns://)`);
    rest = rest.slice(scheme[0].length);
  }
  let port: number | undefined;
  const m = /^(.*):(\d+)$/.exec(rest);
  if (m && !m[1].includes(':')) {
    port = Number(m[2]);
    if (!(port > 0 && port < 65536)) throw new CorefileError(line, `port ${m[2]} in "${text}" is out of range`);
    rest = m[1];
  }
  return { zone: zoneArg(rest, line), port };
}

/** A zone argument: a name (trailing dot optional) or a CIDR that maps to a reverse zone. */
export function zoneArg(text: string, line: number): Zone {
  if (text === '' || text === '.') return [];
  if (text.includes('/')) return reverseZone(text, line);
  const name = text.replace(/\.$/, '').toLowerCase();
  const labels = name.split('.');
  if (labels.some((l) => l === '' || l.length > 63 || !/^[a-z0-9_*-]+$/.test(l))) throw new CorefileError(line, `"${text}" is not a zone name`);
  return labels;
}

function reverseZone(cidr: string, line: number): Zone {
  const [addr, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const v4 = parseIPv4(addr);
  if (v4) {
    if (!Number.isInteger(bits) || bits % 8 !== 0 || bits < 8 || bits > 24) throw new CorefileError(line, `reverse zone "${cidr}": flatnet accepts IPv4 prefixes of 8, 16 or 24 bits`);
    return [...v4.slice(0, bits / 8).reverse().map(String), 'in-addr', 'arpa'];
  }
  const v6 = parseIPv6(addr);
  if (v6) {
    if (!Number.isInteger(bits) || bits % 4 !== 0 || bits < 4 || bits > 124) throw new CorefileError(line, `reverse zone "${cidr}": IPv6 prefixes must be a multiple of 4 bits`);
    const nibbles = [...v6.toString('hex')].slice(0, bits / 4);
    return [...nibbles.reverse(), 'ip6', 'arpa'];
  }
  throw new CorefileError(line, `"${cidr}" is not a CIDR`);
}

function noBlock(d: Directive): void {
  if (d.block) throw new CorefileError(d.line, `plugin "${d.name}" takes no block`);
}

function maxArgs(d: Directive, n: number): void {
  if (d.args.length > n) throw new CorefileError(d.line, `plugin "${d.name}" takes at most ${n} argument${n === 1 ? '' : 's'}, got "${d.args.join(' ')}"`);
}

/** Go durations as CoreDNS writes them: 5s, 500ms, 1m30s, 2h. */
export function parseDuration(text: string, line: number, what: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  const scale: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    total += Number(m[1]) * scale[m[2]];
    matched = re.lastIndex;
  }
  if (text === '' || matched !== text.length) throw new CorefileError(line, `${what} "${text}" is not a duration (for example 5s, 500ms, 1m)`);
  return total;
}

function wholeNumber(text: string | undefined, line: number, what: string, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || n < min || n > max) throw new CorefileError(line, `${what} "${text ?? ''}" must be a whole number from ${min} to ${max}`);
  return n;
}

function checkErrors(d: Directive): void {
  maxArgs(d, 1);
  for (const o of d.block ?? []) {
    if (o.name === 'stacktrace') continue;
    if (o.name === 'consolidate') {
      if (o.args.length < 2 || o.args.length > 3) throw new CorefileError(o.line, 'errors: consolidate takes DURATION REGEXP [LEVEL]');
      parseDuration(o.args[0], o.line, 'errors consolidate');
      compileRegex(o.args[1], o.line);
      continue;
    }
    throw new CorefileError(o.line, `errors: unknown option "${o.name}"`);
  }
}

function logPlugin(d: Directive): { zones: Zone[]; classes: LogClass[] } {
  // log [NAMES...] [FORMAT]: a quoted format is the last argument when it contains a `{`.
  const args = d.args.filter((a) => !a.includes('{'));
  const zones = args.length ? args.map((a) => zoneArg(a, d.line)) : [[]];
  const classes: LogClass[] = [];
  for (const o of d.block ?? []) {
    if (o.name !== 'class') throw new CorefileError(o.line, `log: unknown option "${o.name}" (only class)`);
    for (const c of o.args) {
      if (c !== 'all' && c !== 'success' && c !== 'denial' && c !== 'error') throw new CorefileError(o.line, `log: class "${c}" must be all, success, denial or error`);
      classes.push(c);
    }
  }
  return { zones, classes: classes.length ? classes : ['all'] };
}

function healthPlugin(d: Directive): { address: string; lameduckMs: number } {
  maxArgs(d, 1);
  let lameduckMs = 0;
  for (const o of d.block ?? []) {
    if (o.name !== 'lameduck' || o.args.length !== 1) throw new CorefileError(o.line, `health: unknown option "${o.name} ${o.args.join(' ')}" (only lameduck DURATION)`);
    lameduckMs = parseDuration(o.args[0], o.line, 'health lameduck');
  }
  return { address: d.args[0] ?? ':8080', lameduckMs };
}

function fallthroughZones(o: Directive): Zone[] {
  return o.args.length ? o.args.map((a) => zoneArg(a, o.line)) : [[]];
}

function kubernetesPlugin(d: Directive, blockZones: Zone[]): KubernetesPlugin {
  const zones = d.args.length ? d.args.map((a) => zoneArg(a, d.line)) : blockZones;
  for (const z of zones) {
    if (!blockZones.some((b) => inZone(z, b))) throw new CorefileError(d.line, `kubernetes zone "${zoneText(z)}" is outside this server block's zones (${blockZones.map(zoneText).join(' ')})`);
  }
  const k: KubernetesPlugin = { zones, pods: 'disabled', ttl: 5 };
  for (const o of d.block ?? []) {
    switch (o.name) {
      case 'pods':
        if (o.args.length !== 1 || !['disabled', 'insecure', 'verified'].includes(o.args[0])) throw new CorefileError(o.line, 'kubernetes: pods must be disabled, insecure or verified');
        k.pods = o.args[0] as PodsMode;
        break;
      case 'ttl':
        k.ttl = wholeNumber(o.args[0], o.line, 'kubernetes ttl', 0, 3600);
        if (o.args.length > 1) throw new CorefileError(o.line, 'kubernetes: ttl takes one value');
        break;
      case 'fallthrough':
        k.fallthrough = fallthroughZones(o);
        break;
      case 'upstream':
        // Deprecated and ignored by CoreDNS itself; kubeadm Corefiles of old still carry it.
        break;
      default:
        throw new CorefileError(o.line, `kubernetes: option "${o.name}" is not supported by flatnet (pods, ttl, fallthrough are)`);
    }
  }
  return k;
}

/** `IP`, `IP:port`, `[v6]:port`, `dns://IP[:port]`. */
export function parseUpstreamAddress(text: string, line: number): Upstream {
  let s = text;
  const scheme = /^([a-z]+):\/\//i.exec(s);
  if (scheme) {
    if (scheme[1].toLowerCase() !== 'dns') throw new CorefileError(line, `forward: "${scheme[1]}://" upstreams are not supported by flatnet (only plain DNS)`);
    s = s.slice(scheme[0].length);
  }
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s) ?? (isIP(s) ? [s, s, undefined] : null);
  const host = m ? m[1] : s;
  const port = m?.[2] ? Number(m[2]) : 53;
  if (!isIP(host) || !(port > 0 && port < 65536)) throw new CorefileError(line, `forward: "${text}" is not an upstream address (IP[:port], a resolv.conf path)`);
  return { host, port };
}

/** The nameservers of a resolv.conf text. */
export function resolvConfNameservers(text: string): string[] {
  const out: string[] = [];
  for (const l of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(l);
    if (m && isIP(m[1].replace(/%.*$/, ''))) out.push(m[1].replace(/%.*$/, ''));
  }
  return out;
}

function forwardPlugin(d: Directive, blockZones: Zone[], opts: ConfigOptions): ForwardPlugin {
  if (d.args.length < 2) throw new CorefileError(d.line, 'forward needs FROM and at least one TO (for example "forward . 10.0.0.2")');
  const from = zoneArg(d.args[0], d.line);
  if (!blockZones.some((b) => inZone(from, b) || inZone(b, from))) throw new CorefileError(d.line, `forward: "${d.args[0]}" does not overlap this server block's zones`);
  const to: Upstream[] = [];
  for (const a of d.args.slice(1)) {
    if (a.startsWith('/')) {
      if (!opts.readFile) throw new CorefileError(d.line, `forward: cannot read "${a}" here`);
      let text: string;
      try {
        text = opts.readFile(a);
      } catch (err) {
        throw new CorefileError(d.line, `forward: cannot read "${a}": ${(err as Error).message}`);
      }
      const servers = resolvConfNameservers(text);
      if (servers.length === 0) throw new CorefileError(d.line, `forward: "${a}" names no nameserver`);
      to.push(...servers.map((s) => ({ host: s, port: 53 })));
    } else to.push(parseUpstreamAddress(a, d.line));
  }
  if (to.length > MAX_FORWARD_UPSTREAMS) throw new CorefileError(d.line, `forward: ${to.length} upstreams; at most ${MAX_FORWARD_UPSTREAMS} are allowed`);
  const f: ForwardPlugin = { from, to, except: [], policy: 'random', maxConcurrent: 0, forceTcp: false, timeoutMs: 2000 };
  for (const o of d.block ?? []) {
    switch (o.name) {
      case 'except':
        if (o.args.length === 0) throw new CorefileError(o.line, 'forward: except needs at least one zone');
        f.except.push(...o.args.map((a) => zoneArg(a, o.line)));
        break;
      case 'policy':
        if (o.args.length !== 1 || !['random', 'round_robin', 'sequential'].includes(o.args[0])) throw new CorefileError(o.line, 'forward: policy must be random, round_robin or sequential');
        f.policy = o.args[0] as ForwardPolicy;
        break;
      case 'max_concurrent':
        f.maxConcurrent = wholeNumber(o.args[0], o.line, 'forward max_concurrent', 1, 1_000_000);
        break;
      case 'force_tcp':
        f.forceTcp = true;
        break;
      case 'prefer_udp':
        f.forceTcp = false;
        break;
      case 'expire':
      case 'health_check':
        if (o.args.length < 1) throw new CorefileError(o.line, `forward: ${o.name} needs a duration`);
        parseDuration(o.args[0], o.line, `forward ${o.name}`);
        break;
      case 'max_fails':
        wholeNumber(o.args[0], o.line, 'forward max_fails', 0, 1_000_000);
        break;
      default:
        throw new CorefileError(o.line, `forward: option "${o.name}" is not supported by flatnet (except, policy, max_concurrent, force_tcp, prefer_udp, expire, health_check, max_fails are)`);
    }
  }
  return f;
}

function cachePlugin(d: Directive, blockZones: Zone[]): CachePlugin {
  let ttl: number | undefined;
  let args = d.args;
  if (args[0] !== undefined && /^\d+$/.test(args[0])) {
    ttl = wholeNumber(args[0], d.line, 'cache TTL', 0, 1 << 30);
    args = args.slice(1);
  }
  const c: CachePlugin = {
    zones: args.length ? args.map((a) => zoneArg(a, d.line)) : blockZones,
    successCapacity: 9984,
    successTtl: ttl ?? 3600,
    denialCapacity: 9984,
    denialTtl: ttl ?? 1800,
    minTtl: 5,
    keepTtl: false,
    disableSuccess: [],
    disableDenial: [],
  };
  for (const o of d.block ?? []) {
    switch (o.name) {
      case 'success':
      case 'denial': {
        if (o.args.length < 1 || o.args.length > 3) throw new CorefileError(o.line, `cache: ${o.name} takes CAPACITY [TTL] [MINTTL]`);
        const cap = wholeNumber(o.args[0], o.line, `cache ${o.name} capacity`, 1, 10_000_000);
        const t = o.args[1] !== undefined ? wholeNumber(o.args[1], o.line, `cache ${o.name} TTL`, 0, 1 << 30) : undefined;
        if (o.args[2] !== undefined) c.minTtl = wholeNumber(o.args[2], o.line, `cache ${o.name} MINTTL`, 0, 1 << 30);
        if (o.name === 'success') {
          c.successCapacity = cap;
          if (t !== undefined) c.successTtl = t;
        } else {
          c.denialCapacity = cap;
          if (t !== undefined) c.denialTtl = t;
        }
        break;
      }
      case 'keepttl':
        c.keepTtl = true;
        break;
      case 'disable': {
        const [kind, ...zs] = o.args;
        if (kind !== 'success' && kind !== 'denial') throw new CorefileError(o.line, 'cache: disable takes success or denial, then zones');
        const zones = zs.length ? zs.map((z) => zoneArg(z, o.line)) : c.zones;
        (kind === 'success' ? c.disableSuccess : c.disableDenial).push(...zones);
        break;
      }
      default:
        throw new CorefileError(o.line, `cache: option "${o.name}" is not supported by flatnet (success, denial, disable, keepttl are)`);
    }
  }
  return c;
}

function hostsPlugin(d: Directive, blockZones: Zone[], opts: ConfigOptions): HostsPlugin {
  const file = d.args[0];
  const zones = d.args.length > 1 ? d.args.slice(1).map((a) => zoneArg(a, d.line)) : blockZones;
  const h: HostsPlugin = { zones, entries: [], ttl: 3600, noReverse: false };
  if (file !== undefined) {
    if (!opts.readFile) throw new CorefileError(d.line, `hosts: cannot read "${file}" here`);
    let text: string;
    try {
      text = opts.readFile(file);
    } catch (err) {
      throw new CorefileError(d.line, `hosts: cannot read "${file}": ${(err as Error).message}`);
    }
    text.split('\n').forEach((l, i) => {
      const words = l.replace(/#.*$/, '').trim().split(/\s+/).filter(Boolean);
      if (words.length >= 2 && isIP(words[0])) h.entries.push({ ip: words[0], names: words.slice(1).map(hostName) });
      else if (words.length > 0 && !isIP(words[0])) throw new CorefileError(d.line, `hosts: ${file} line ${i + 1}: "${words[0]}" is not an IP address`);
    });
  }
  for (const o of d.block ?? []) {
    if (isIP(o.name)) {
      if (o.args.length === 0) throw new CorefileError(o.line, `hosts: entry "${o.name}" has no name`);
      if (o.block) throw new CorefileError(o.line, 'hosts: an entry takes no block');
      h.entries.push({ ip: o.name, names: o.args.map(hostName) });
      continue;
    }
    switch (o.name) {
      case 'ttl':
        h.ttl = wholeNumber(o.args[0], o.line, 'hosts ttl', 0, 1 << 30);
        break;
      case 'no_reverse':
        h.noReverse = true;
        break;
      case 'reload':
        parseDuration(o.args[0] ?? '', o.line, 'hosts reload');
        break;
      case 'fallthrough':
        h.fallthrough = fallthroughZones(o);
        break;
      default:
        throw new CorefileError(o.line, `hosts: "${o.name}" is neither an IP address (an inline entry) nor an option (ttl, no_reverse, reload, fallthrough)`);
    }
  }
  return h;
}

function hostName(n: string): string {
  return n.replace(/\.$/, '').toLowerCase();
}

function rewriteRule(d: Directive): RewriteRule {
  const args = [...d.args];
  let mode: 'stop' | 'continue' = 'stop';
  if (args[0] === 'stop' || args[0] === 'continue') mode = args.shift() as 'stop' | 'continue';
  const field = args.shift();
  if (field !== 'name') throw new CorefileError(d.line, `rewrite: field "${field ?? ''}" is not supported by flatnet (only "name")`);
  let match: RewriteMatch = 'exact';
  if (args[0] === 'exact' || args[0] === 'prefix' || args[0] === 'suffix' || args[0] === 'substring' || args[0] === 'regex') match = args.shift() as RewriteMatch;
  if (args.length < 2) throw new CorefileError(d.line, 'rewrite name needs FROM and TO');
  const [from, to, ...rest] = args;
  const rule: RewriteRule = { line: d.line, mode, match, from: from.toLowerCase(), to: to.toLowerCase() };
  if (match === 'regex') compileRegex(from, d.line);
  if (rest.length) {
    if (rest[0] !== 'answer') throw new CorefileError(d.line, `rewrite: unexpected "${rest[0]}" after FROM and TO`);
    if (rest[1] === 'auto' && rest.length === 2) return rule;
    if (rest[1] === 'name' && rest.length === 4) {
      compileRegex(rest[2], d.line);
      return { ...rule, answer: { from: rest[2], to: rest[3] } };
    }
    throw new CorefileError(d.line, 'rewrite: the answer part must be "answer auto" or "answer name FROM TO" (other answer rewrites are not supported by flatnet)');
  }
  if (d.block) throw new CorefileError(d.line, 'rewrite name takes no block');
  return rule;
}

/** A Go RE2 pattern as a JavaScript RegExp (the common subset: no lookaround in RE2 anyway). */
export function compileRegex(pattern: string, line: number): RegExp {
  try {
    return new RegExp(pattern, 'i');
  } catch (err) {
    throw new CorefileError(line, `"${pattern}" is not a regular expression: ${(err as Error).message}`);
  }
}

/** `reload [INTERVAL] [JITTER]` (CoreDNS: 30s and 15s; interval at least 2s, jitter at most half of it). */
function reloadPlugin(d: Directive): { intervalMs: number; jitterMs: number } {
  noBlock(d);
  maxArgs(d, 2);
  const intervalMs = d.args[0] !== undefined ? parseDuration(d.args[0], d.line, 'reload interval') : 30_000;
  const jitterMs = d.args[1] !== undefined ? parseDuration(d.args[1], d.line, 'reload jitter') : intervalMs / 2;
  if (intervalMs < 2000) throw new CorefileError(d.line, `reload interval ${d.args[0]} is below the minimum of 2s`);
  if (jitterMs < 1000 || jitterMs > intervalMs / 2) throw new CorefileError(d.line, 'reload jitter must be at least 1s and at most half the interval');
  return { intervalMs, jitterMs };
}

// `flatnet gateway routes`: the routing table of one Gateway as text, per port and virtual host,
// entries in the order the proxy tries them.
import type { HttpFilter, HttpMatch, HttpRouteEntry, PortConfig, RouteSource, WeightedBackend } from '../config.js';
import type { ProxyConfig } from '../config.js';

function sourceText(s: RouteSource): string {
  const rule = s.ruleName ? `rule ${s.rule} (${s.ruleName})` : `rule ${s.rule}`;
  return `${s.kind} ${s.namespace}/${s.name} ${rule} match ${s.match}`;
}

function matchText(m: HttpMatch): string {
  const parts: string[] = [];
  if (m.method) parts.push(m.method);
  parts.push(m.path.type === 'PathPrefix' ? `${m.path.value}*` : m.path.type === 'Exact' ? `=${m.path.value}` : `~${m.path.value}`);
  for (const h of m.headers) parts.push(`${h.name}${h.type === 'Exact' ? '=' : '~'}${h.value}`);
  for (const q of m.queryParams) parts.push(`?${q.name}${q.type === 'Exact' ? '=' : '~'}${q.value}`);
  return parts.join(' ');
}

function filterText(f: HttpFilter): string {
  switch (f.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const ops = [...f.set.map(([n]) => `set ${n}`), ...f.add.map(([n]) => `add ${n}`), ...f.remove.map((n) => `remove ${n}`)];
      return `${f.type === 'RequestHeaderModifier' ? 'request' : 'response'} headers(${ops.join(', ')})`;
    }
    case 'RequestRedirect': {
      const to = [f.scheme ? `${f.scheme}://` : '', f.hostname ?? '', f.port !== undefined ? `:${f.port}` : '', f.path ? pathModifierText(f.path) : ''].join('');
      return `redirect ${f.statusCode}${to ? ` ${to}` : ''}`;
    }
    case 'URLRewrite':
      return `rewrite${f.hostname ? ` host ${f.hostname}` : ''}${f.path ? ` path ${pathModifierText(f.path)}` : ''}`;
    case 'RequestMirror':
      return `mirror ${f.backend.name} ${f.percent}%${f.backend.invalid ? ' (invalid)' : ''}`;
    case 'CORS':
      return `cors origins ${f.allowOrigins.join(',') || '-'}`;
    case 'SourceRange':
      return `source allow ${f.allow.join(',') || '-'} deny ${f.deny.join(',') || '-'}`;
  }
}

function pathModifierText(p: NonNullable<Extract<HttpFilter, { type: 'URLRewrite' }>['path']>): string {
  if (p.type === 'ReplaceFullPath') return `=${p.value}`;
  if (p.type === 'ReplacePrefixMatch') return `prefix->${p.value}`;
  return `s/${p.pattern}/${p.replacement}/`;
}

function backendText(b: WeightedBackend, total: number): string {
  const share = total > 0 ? ` (${Math.round((b.weight / total) * 100)}%)` : '';
  const state = b.invalid ? `INVALID: ${b.invalid}` : `${b.endpoints.length} endpoint${b.endpoints.length === 1 ? '' : 's'}`;
  return `${b.name} ${b.protocol} weight ${b.weight}${share}, ${state}`;
}

function entryLines(e: HttpRouteEntry, index: number): string[] {
  const lines = [`    ${index + 1}. ${matchText(e.match)}    [${sourceText(e.source)}]`];
  if (e.filters.length > 0) lines.push(`       filters: ${e.filters.map(filterText).join('; ')}`);
  const extras: string[] = [];
  if (e.timeouts?.requestMs) extras.push(`request timeout ${e.timeouts.requestMs}ms`);
  if (e.timeouts?.backendRequestMs) extras.push(`backend timeout ${e.timeouts.backendRequestMs}ms`);
  if (e.retry) extras.push(`retry ${e.retry.attempts}x on ${e.retry.codes.join(',') || 'connection errors'}`);
  if (extras.length > 0) lines.push(`       ${extras.join(', ')}`);
  const redirect = e.filters.some((f) => f.type === 'RequestRedirect');
  if (e.backends.length === 0) lines.push(redirect ? '       -> (redirect)' : '       -> no backends: 500');
  const total = e.backends.reduce((s, b) => s + b.weight, 0);
  for (const b of e.backends) {
    lines.push(`       -> ${backendText(b, total)}`);
    if (b.filters.length > 0) lines.push(`          filters: ${b.filters.map(filterText).join('; ')}`);
  }
  return lines;
}

function portLines(p: PortConfig): string[] {
  if (p.kind === 'tcp' || p.kind === 'udp') {
    const head = `port ${p.port}/${p.kind.toUpperCase()}${p.source ? `    [${p.source.kind} ${p.source.namespace}/${p.source.name}]` : ''}`;
    const total = p.backends.reduce((s, b) => s + b.weight, 0);
    const body = p.backends.length === 0 ? ['  -> no route: connections are closed'] : p.backends.map((b) => `  -> ${backendText(b, total)}`);
    return [head, ...body];
  }
  const lines = [`port ${p.port}/${p.tls ? 'HTTPS' : 'HTTP'}`];
  for (const c of p.tls?.certificates ?? []) lines.push(`  certificate for ${c.hostnames.join(', ')}`);
  for (const r of p.tls?.passthrough ?? []) {
    const total = r.backends.reduce((s, b) => s + b.weight, 0);
    lines.push(`  passthrough ${r.hostnames.join(', ')}    [TLSRoute ${r.source.namespace}/${r.source.name}]`);
    for (const b of r.backends) lines.push(`    -> ${backendText(b, total)}`);
  }
  for (const vh of p.hosts) {
    lines.push(`  host ${vh.hostname}${vh.entries.length === 0 ? ' (no routes: 404)' : ''}`);
    vh.entries.forEach((e, i) => lines.push(...entryLines(e, i)));
  }
  return lines;
}

export function formatRoutingTable(gatewayKey: string, config: ProxyConfig): string {
  const lines = [`Gateway ${gatewayKey}`];
  if (config.ports.length === 0) lines.push('  (no listener is served)');
  for (const p of config.ports) lines.push(...portLines(p).map((l) => `  ${l}`));
  return `${lines.join('\n')}\n`;
}

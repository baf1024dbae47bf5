// The proxy's table as a person reads it: per Service port, each virtual IP or node port with the
// endpoints it picks from and their share, affinity, source ranges and no-endpoint verdicts.
// Built from what the kernel holds (element comments name the Service).
import type { KernelTable } from './read.js';

interface Line {
  entry: string;
  text: string;
}

function pct(n: number): string {
  return `${Math.round((100 / n) * 10) / 10}%`;
}

function entryText(key: string, nodePort: boolean): string {
  const parts = key.split(' . ');
  if (nodePort) return `nodePort ${parts[1]}/${parts[0]}`;
  return `${parts[0]}:${parts[2]}/${parts[1]}`;
}

export function describeNftTable(t: KernelTable): string {
  const byService = new Map<string, Line[]>();
  const push = (comment: string | undefined, entry: string, text: string) => {
    const svc = comment ?? '(unnamed)';
    let l = byService.get(svc);
    if (!l) byService.set(svc, (l = []));
    l.push({ entry, text });
  };
  const endpointsOf = (set: string, key: string): string[] => {
    const out: string[] = [];
    const m = t.sets.get(set)?.elements;
    for (let i = 0; m; i++) {
      const e = m.get(`${key} . ${i}`);
      if (!e?.value) break;
      out.push(e.value.replace(' . ', ':'));
    }
    return out;
  };
  const affinityEndpoints = (chain: string): string[] => {
    const rules = t.chains.get(chain)?.rules ?? [];
    const last = rules[rules.length - 1] ?? '';
    const targets = [...last.matchAll(/goto (aff-[\w-]+)/g)].map((m) => m[1]);
    return targets.map((c) => {
      const dnat = (t.chains.get(c)?.rules ?? []).find((r) => r.includes('dnat to'));
      return dnat?.replace(/.*dnat to /, '') ?? c;
    });
  };
  const firewall = t.sets.get('firewall-allow')?.elements;
  const describeTarget = (comment: string | undefined, key: string, value: string | undefined, nodePort: boolean) => {
    const entry = entryText(key, nodePort);
    let eps: string[] = [];
    let note = '';
    if (value?.startsWith('goto pick-')) eps = endpointsOf(nodePort ? 'nodeport-endpoints' : 'endpoints', key);
    else if (value?.startsWith('goto aff-')) {
      eps = affinityEndpoints(value.slice(5));
      note = ' [sessionAffinity ClientIP]';
    }
    if (!nodePort && firewall) {
      const ranges = [...firewall.keys()].filter((k) => k.startsWith(`${key} . `)).map((k) => k.slice(key.length + 3));
      if (ranges.length) note += ` [sources: ${ranges.join(', ')}]`;
    }
    const list = eps.map((e) => `${e} (${pct(eps.length)})`).join(', ');
    push(comment, entry, `${entry.padEnd(26)} -> ${list}${note}`);
  };
  for (const e of t.sets.get('service-ips')?.elements.values() ?? []) describeTarget(e.comment, e.key, e.value, false);
  for (const e of t.sets.get('service-nodeports')?.elements.values() ?? []) describeTarget(e.comment, e.key, e.value, true);
  for (const [set, nodePort] of [
    ['no-endpoint-services', false],
    ['no-endpoint-nodeports', true],
  ] as const) {
    for (const e of t.sets.get(set)?.elements.values() ?? []) {
      const entry = entryText(e.key, nodePort);
      const verdict = e.value === 'drop' ? 'drop (no local endpoint, traffic policy Local)' : 'reject (no endpoints)';
      push(e.comment, entry, `${entry.padEnd(26)} -> ${verdict}`);
    }
  }
  const lines: string[] = [];
  for (const svc of [...byService.keys()].sort()) {
    lines.push(svc);
    const entries = byService.get(svc)!.sort((a, b) => (a.entry.startsWith('nodePort') ? 1 : 0) - (b.entry.startsWith('nodePort') ? 1 : 0));
    for (const l of entries) lines.push(`  ${l.text}`);
  }
  if (lines.length === 0) lines.push('no Services programmed');
  return lines.join('\n') + '\n';
}

// iptables-save output of the proxy's chains as a person reads it: per Service port, each entry
// (ClusterIP, external IP, node port) with the endpoints its cascade reaches and their share.
import type { IptTable } from './render.js';

function parseChains(text: string): Map<string, string[]> {
  const chains = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^-A (\S+) (.*)$/.exec(line);
    if (!m) continue;
    let l = chains.get(m[1]);
    if (!l) chains.set(m[1], (l = []));
    l.push(m[2]);
  }
  return chains;
}

function field(rule: string, re: RegExp): string | undefined {
  return re.exec(rule)?.[1];
}

/** Endpoints reached from a KUBE-SVC/SVL chain with each one's overall share. */
function cascade(nat: Map<string, string[]>, chain: string): string[] {
  const out: string[] = [];
  let remaining = 1;
  for (const rule of nat.get(chain) ?? []) {
    const target = field(rule, /-j (KUBE-SEP-\S+)/);
    if (!target || rule.includes('--rcheck')) continue;
    const prob = Number(field(rule, /--probability (\S+)/) ?? '1');
    const share = remaining * prob;
    remaining -= share;
    const dnat = (nat.get(target) ?? []).map((r) => field(r, /--to-destination (\S+)/)).find(Boolean);
    out.push(`${dnat ?? target} (${Math.round(share * 1000) / 10}%)`);
  }
  return out;
}

export function describeIptables(saved: Map<IptTable, string>): string {
  const nat = parseChains(saved.get('nat') ?? '');
  const filter = parseChains(saved.get('filter') ?? '');
  const mangle = parseChains(saved.get('mangle') ?? '');
  const byService = new Map<string, string[]>();
  const push = (svc: string, text: string) => {
    let l = byService.get(svc);
    if (!l) byService.set(svc, (l = []));
    l.push(text);
  };
  const svcOf = (rule: string) => (field(rule, /--comment "?([^"]+?)(?: cluster IP| external IP| has no.*)?"? /) ?? '(unnamed)').split(' ')[0];
  const resolve = (target: string): { eps: string[]; note: string } => {
    if (target.startsWith('KUBE-EXT-')) {
      const rules = nat.get(target) ?? [];
      const last = rules[rules.length - 1] ?? '';
      const next = field(last, /-j (KUBE-SV[CL]-\S+)/);
      const local = next?.startsWith('KUBE-SVL-');
      return { eps: next ? cascade(nat, next) : [], note: local ? ' [externalTrafficPolicy Local]' : '' };
    }
    const affinity = (nat.get(target) ?? []).some((r) => r.includes('--rcheck'));
    return { eps: cascade(nat, target), note: affinity ? ' [sessionAffinity ClientIP]' : '' };
  };
  for (const rule of nat.get('KUBE-SERVICES') ?? []) {
    const target = field(rule, /-j (KUBE-(?:SVC|SVL|EXT)-\S+)/);
    if (!target) continue;
    const dst = field(rule, /-d (\S+?)(?:\/32)? /);
    const proto = field(rule, /-p (\S+)/);
    const port = field(rule, /--dport (\d+)/);
    const { eps, note } = resolve(target);
    const fw = [...(mangle.get('KUBE-PROXY-FIREWALL') ?? [])].some((r) => r.includes(`-d ${dst}/32`) && r.includes(`--dport ${port} `));
    push(svcOf(rule), `${`${dst}:${port}/${proto}`.padEnd(26)} -> ${eps.join(', ')}${note}${fw ? ' [loadBalancerSourceRanges]' : ''}`);
  }
  for (const rule of nat.get('KUBE-NODEPORTS') ?? []) {
    const target = field(rule, /-j (KUBE-EXT-\S+)/);
    if (!target) continue;
    const { eps, note } = resolve(target);
    push(svcOf(rule), `${`nodePort ${field(rule, /--dport (\d+)/)}/${field(rule, /-p (\S+)/)}`.padEnd(26)} -> ${eps.join(', ')}${note}`);
  }
  for (const chain of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']) {
    for (const rule of filter.get(chain) ?? []) {
      const port = field(rule, /--dport (\d+)/);
      const dst = field(rule, /-d (\S+?)(?:\/32)? /);
      const entry = dst ? `${dst}:${port}/${field(rule, /-p (\S+)/)}` : `nodePort ${port}/${field(rule, /-p (\S+)/)}`;
      const verdict = rule.includes('-j DROP') ? 'drop (no local endpoint, traffic policy Local)' : 'reject (no endpoints)';
      push(svcOf(rule), `${entry.padEnd(26)} -> ${verdict}`);
    }
  }
  const lines: string[] = [];
  for (const svc of [...byService.keys()].sort()) lines.push(svc, ...byService.get(svc)!.map((l) => `  ${l}`));
  if (lines.length === 0) lines.push('no Services programmed');
  return lines.join('\n') + '\n';
}

// What a rule of flatnet's nftables tables means, in the words of the models they come from
// (src/proxy/nftables/render.ts, src/netpol/render.ts, src/overlay/kernel.ts). Pure.
import { POLICY_TABLE } from '../netpol/render.js';
import { OVERLAY_TABLE } from '../overlay/kernel.js';
import { NFT_TABLE } from '../proxy/nftables/render.js';

export const PROXY_TABLE_NAME = NFT_TABLE.split(' ')[1];
export { POLICY_TABLE };

export type Owner = 'service proxy' | 'NetworkPolicy' | 'overlay' | 'flatnet' | 'not flatnet';

export interface RuleMeaning {
  owner: Owner;
  text: string;
}

function proxyMeaning(chain: string, rule: string, verdict: string): string {
  if (chain === 'nat-prerouting' || chain === 'nat-output') return 'enters the Service lookup';
  if (chain === 'filter-prerouting' || chain === 'filter-output') return rule.includes('firewall-check') ? 'new connection: loadBalancerSourceRanges check' : 'new connection: Service-without-endpoints check';
  if (chain === 'nat-postrouting') return 'enters masquerade';
  if (chain === 'services') {
    if (rule.includes('@service-ips')) return `Service virtual IP matched (${verdict})`;
    if (rule.includes('@service-nodeports')) return `node port matched (${verdict})`;
    if (rule.includes('local-from-pods')) return `Local external policy, from a pod: every endpoint (${verdict})`;
    if (rule.includes('meta mark set')) return 'marked for masquerade';
  }
  if (/^pick-nodeport-\d+$/.test(chain)) return `DNAT to one of ${chain.slice('pick-nodeport-'.length)} node port endpoint(s), chosen at random`;
  if (/^pick-\d+$/.test(chain)) return `DNAT to one of ${chain.slice('pick-'.length)} endpoint(s), chosen at random`;
  if (chain.startsWith('svc-')) return 'DNAT to one of the endpoints (inline map), chosen at random';
  if (chain.startsWith('aff-')) return 'ClientIP session affinity';
  if (chain === 'firewall-check') return 'loadBalancerSourceRanges: source not allowed';
  if (chain === 'endpoints-check') return verdict === 'drop' ? 'no local endpoint under externalTrafficPolicy Local: drop' : `Service without endpoints (${verdict})`;
  if (chain === 'reject-chain') return 'Service without endpoints: reject';
  if (chain === 'masquerading') return 'masquerade (source NAT to the node)';
  return `${chain} (${verdict})`;
}

function policyMeaning(chain: string, rule: string, verdict: string): string {
  if (rule.startsWith('ct state established,related')) return 'reply or continuation of an allowed connection';
  if (rule.includes('@egress-pods')) return `source pod isolated for egress: its allow class (${verdict})`;
  if (rule.includes('@ingress-pods')) return `destination pod isolated for ingress: its allow class (${verdict})`;
  if (rule.includes('not admitted')) return 'pod not admitted yet (its policy state is not in place)';
  if (rule.includes('fe80::/10')) return 'IPv6 link-local between pods: dropped';
  const direction = chain.startsWith('in-') ? 'ingress' : chain.startsWith('out-') ? 'egress' : undefined;
  if (direction) {
    if (verdict === 'return') return `${direction} allowed by a NetworkPolicy rule (allow class ${chain})`;
    if (verdict === 'drop') return `${direction} not allowed by any NetworkPolicy (allow class ${chain})`;
  }
  return `${chain} (${verdict})`;
}

export function ruleMeaning(table: string, chain: string, rule: string, verdict: string): RuleMeaning {
  if (table === PROXY_TABLE_NAME) return { owner: 'service proxy', text: proxyMeaning(chain, rule, verdict) };
  if (table === POLICY_TABLE) return { owner: 'NetworkPolicy', text: policyMeaning(chain, rule, verdict) };
  if (table === OVERLAY_TABLE) return { owner: 'overlay', text: 'masquerade of pod traffic leaving the cluster range' };
  if (table.startsWith('flatnet')) return { owner: 'flatnet', text: `${table} ${chain} (${verdict})` };
  return { owner: 'not flatnet', text: `table ${table} is not one of flatnet's (added by hand or by another program)` };
}

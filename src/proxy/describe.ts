// What `flatnet proxy rules` prints for one node namespace: whichever backend's rules it holds,
// read from the kernel and grouped per Service.
import { run } from './exec.js';
import { IptablesBackend } from './iptables/backend.js';
import { NftablesBackend } from './nftables/backend.js';
import { readKernelTable } from './nftables/read.js';

export async function describeNodeRules(netns: string | undefined): Promise<{ mode: 'nftables' | 'iptables' | 'none'; text: string }> {
  const cfg = { clusterCIDR: '0.0.0.0/0', sctp: false };
  if (await readKernelTable(netns)) return { mode: 'nftables', text: await new NftablesBackend(netns, cfg).describe() };
  const saved = await run(netns, 'iptables-nft-save', ['-t', 'nat']).catch(() => ({ stdout: '' }));
  if (/^:KUBE-SERVICES /m.test(saved.stdout)) return { mode: 'iptables', text: await new IptablesBackend(netns, cfg).describe() };
  return { mode: 'none', text: 'no service proxy rules in this namespace (is the agent running?)\n' };
}

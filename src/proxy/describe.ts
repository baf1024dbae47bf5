// What `flatnet proxy rules` prints for one node namespace: whichever backend's rules it holds,
// read from the kernel and grouped per Service.
import { run } from './exec.js';
import { describeIptables } from './iptables/describe.js';
import type { IptTable } from './iptables/render.js';
import { NftablesBackend } from './nftables/backend.js';
import { readKernelTable } from './nftables/read.js';

async function iptablesSave(netns: string | undefined, flavour: 'nft' | 'legacy'): Promise<Map<IptTable, string> | undefined> {
  const out = new Map<IptTable, string>();
  for (const t of ['nat', 'filter', 'mangle'] as const) {
    const saved = await run(netns, `iptables-${flavour}-save`, ['-t', t]).catch(() => ({ stdout: '' }));
    out.set(t, saved.stdout);
  }
  return /^:KUBE-SERVICES /m.test(out.get('nat') ?? '') ? out : undefined;
}

export async function describeNodeRules(netns: string | undefined): Promise<{ mode: string; text: string }> {
  if (await readKernelTable(netns)) return { mode: 'nftables', text: await new NftablesBackend(netns, { clusterCIDR: '0.0.0.0/0', sctp: false }).describe() };
  for (const flavour of ['nft', 'legacy'] as const) {
    const saved = await iptablesSave(netns, flavour);
    if (saved) return { mode: `iptables (${flavour})`, text: describeIptables(saved) };
  }
  return { mode: 'none', text: 'no service proxy rules in this namespace (is the agent running?)\n' };
}

// UDP has no connection to reset: conntrack keeps steering a flow to the endpoint first chosen, so
// when an endpoint goes away its flows must be deleted, and when a Service gains its first
// endpoint the flows recorded while it had none must go too. TCP is never flushed: established
// connections survive endpoint changes that do not concern them.
import { run } from './exec.js';
import { type ServicePortModel, usableEndpoints } from './model.js';

export interface ConntrackDeletion {
  /** Arguments for `conntrack -D`. */
  args: string[];
}

function vips(sp: ServicePortModel): string[] {
  const s = sp.service;
  return [...(s.clusterIP ? [s.clusterIP] : []), ...s.externalIPs, ...s.loadBalancerIPs];
}

/** The UDP flows to delete after a Service changed from `before` to `after` (pure). */
export function staleUdpFlows(before: ServicePortModel[], after: ServicePortModel[]): ConntrackDeletion[] {
  const out: ConntrackDeletion[] = [];
  const now = new Map(after.map((p) => [p.key, p]));
  for (const old of before) {
    if (old.protocol !== 'UDP') continue;
    const cur = now.get(old.key);
    const stillThere = new Set(cur ? usableEndpoints(cur.endpoints).map((e) => `${e.ip}:${e.port}`) : []);
    for (const ep of usableEndpoints(old.endpoints)) {
      if (stillThere.has(`${ep.ip}:${ep.port}`)) continue;
      for (const ip of vips(old)) out.push({ args: ['-p', 'udp', '--orig-dst', ip, '--orig-port-dst', String(old.port), '--reply-src', ep.ip] });
      if (old.nodePort) out.push({ args: ['-p', 'udp', '--orig-port-dst', String(old.nodePort), '--reply-src', ep.ip] });
    }
  }
  const was = new Map(before.map((p) => [p.key, p]));
  for (const cur of after) {
    if (cur.protocol !== 'UDP' || usableEndpoints(cur.endpoints).length === 0) continue;
    const old = was.get(cur.key);
    if (old && usableEndpoints(old.endpoints).length > 0) continue;
    for (const ip of vips(cur)) out.push({ args: ['-p', 'udp', '--orig-dst', ip, '--orig-port-dst', String(cur.port)] });
    if (cur.nodePort) out.push({ args: ['-p', 'udp', '--orig-port-dst', String(cur.nodePort)] });
  }
  return out;
}

/** Deletes the flows; `conntrack -D` exits 1 when nothing matched, which is fine. */
export async function deleteFlows(netns: string | undefined, flows: ConntrackDeletion[]): Promise<void> {
  for (const f of flows) {
    try {
      await run(netns, 'conntrack', ['-D', ...f.args]);
    } catch (err) {
      if (!/0 flow entries have been deleted/.test((err as Error).message)) throw err;
    }
  }
}

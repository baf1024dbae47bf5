// Host ports a pod takes on its node, and whether two sets collide, as upstream's NodePorts
// scheduler filter and the kubelet's admission judge them: the same protocol and port collide
// when the host IPs are equal or either is every address ('' and 0.0.0.0). Pure; shared by the
// scheduler and the agent's admission so the two never disagree.

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

interface PortsOf {
  spec: { containers?: { ports?: { hostPort?: number; hostIP?: string; protocol?: string }[] }[] };
}

/** The host ports of a pod's containers; hostIP '' becomes 0.0.0.0 (every address). */
export function hostPortsOf(pod: PortsOf): HostPort[] {
  const out: HostPort[] = [];
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}

/** Whether any of `wanted` collides with any of `used`. */
export function hostPortsCollide(wanted: readonly HostPort[], used: Iterable<HostPort>): boolean {
  if (wanted.length === 0) return false;
  for (const u of used) {
    if (wanted.some((w) => u.protocol === w.protocol && u.port === w.port && (u.ip === w.ip || u.ip === '0.0.0.0' || w.ip === '0.0.0.0'))) return true;
  }
  return false;
}

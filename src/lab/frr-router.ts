// The lab's router as FRR instead of BIRD (`flatnet up --overlay bgp --router frr`): zebra and
// bgpd from Debian's frr package in the switch namespace flatnet-lab, the same role as the BIRD
// router (bgp-router.ts): AS 64512, a route reflector with every node as its client on the
// node's own segment, reflected routes re-announced with the router as next hop (the only way
// between the two segments), LoadBalancer /32s installed with one next hop per announcing node
// (iBGP multipath), graceful restart helper for agent restarts. zebra puts bgpd's routes in the
// switch's kernel table, which routes pod traffic between segments and the outside client's traffic.
//
// FRR's daemons drop to the `frr` user, which cannot enter the lab's data directory (0700 root),
// so their configuration, pid files and control sockets live in FRR_ROUTER_DIR (0700, owned by
// frr); one lab per machine, so one fixed directory. `vtysh --vty_socket FRR_ROUTER_DIR` is the
// router's own CLI.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_GATEWAY, LAB_NETNS, type LabNode, type LabProcess } from './plan.js';

export const FRR_ROUTER_DIR = '/run/flatnet-lab-frr';
const FRR_DAEMONS = '/usr/lib/frr';

/** bgpd's configuration for the lab's nodes (pure). */
export function labFrrConfig(nodes: readonly Pick<LabNode, 'ip'>[], asn: number): string {
  return `! Written by flatnet up --overlay bgp --router frr: the lab's route reflector.
frr defaults datacenter
hostname flatnet-lab
router bgp ${asn}
 bgp router-id ${LAB_GATEWAY}
 bgp graceful-restart
 neighbor nodes peer-group
 neighbor nodes remote-as internal
 neighbor nodes timers connect 2
${nodes.map((n) => ` neighbor ${n.ip} peer-group nodes`).join('\n')}
 address-family ipv4 unicast
  ! Reflected routes carry the router's address on the receiving node's segment.
  neighbor nodes route-reflector-client
  neighbor nodes next-hop-self force
  ! A LoadBalancer address announced by several nodes: one kernel route with a next hop each.
  maximum-paths ibgp 16
 exit-address-family
`;
}

/** zebra and bgpd in the foreground inside flatnet-lab, logging to the lab's logs. */
export function labFrrProcesses(logs: string): LabProcess[] {
  const daemon = (name: 'zebra' | 'bgpd'): LabProcess => ({
    name: `router-${name}`,
    program: join(FRR_DAEMONS, name),
    args: ['-u', 'frr', '-g', 'frr', '-f', join(FRR_ROUTER_DIR, `${name}.conf`), '-i', join(FRR_ROUTER_DIR, `${name}.pid`), '-z', join(FRR_ROUTER_DIR, 'zserv.api'), '--vty_socket', FRR_ROUTER_DIR, '-A', '127.0.0.1', '-P', '0', '--log', 'stdout'],
    log: join(logs, `router-${name}.log`),
    netns: LAB_NETNS,
  });
  return [daemon('zebra'), daemon('bgpd')];
}

function frrIds(): { uid: number; gid: number } {
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim()),
      gid: Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim()),
    };
  } catch {
    throw new Error('--router frr needs the Debian package frr (its daemons and the frr user); install it or use --router bird');
  }
}

/** A fresh FRR_ROUTER_DIR with the daemons' configuration, 0600 files in a 0700 directory owned by frr. */
export function writeLabFrrConfig(nodes: readonly LabNode[], asn: number): void {
  const { uid, gid } = frrIds();
  removeLabFrrDir();
  mkdirSync(FRR_ROUTER_DIR, { mode: 0o700 });
  writeFileSync(join(FRR_ROUTER_DIR, 'zebra.conf'), 'hostname flatnet-lab\n', { mode: 0o600 });
  writeFileSync(join(FRR_ROUTER_DIR, 'bgpd.conf'), labFrrConfig(nodes, asn), { mode: 0o600 });
  for (const f of ['', 'zebra.conf', 'bgpd.conf']) chownSync(join(FRR_ROUTER_DIR, f), uid, gid);
}

/** Removes what writeLabFrrConfig and the daemons left (`flatnet down`). */
export function removeLabFrrDir(): void {
  rmSync(FRR_ROUTER_DIR, { recursive: true, force: true });
}

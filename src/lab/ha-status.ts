// `flatnet status` for an HA lab: each etcd member's health and whether it leads (asked over TLS
// with the API servers' client certificate), each API server's readiness, and which server holds
// the controller Lease (its holderIdentity carries the server's listen address).
import { existsSync, readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { CONTROLLER_LEASE } from '../controllers/leader-election-plan.js';
import type { HaEtcdMember, HaPlan, HaServer } from './ha-plan.js';

export interface EtcdMemberStatus {
  name: string;
  url: string;
  healthy: boolean;
  leader: boolean;
  detail: string;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export async function etcdMemberStatus(ha: HaPlan, m: HaEtcdMember, timeoutMs = 3000): Promise<EtcdMemberStatus> {
  const client = new Etcd3({
    hosts: m.clientUrl,
    dialTimeout: timeoutMs,
    credentials: { rootCertificate: readFileSync(ha.etcd.caFile), certChain: readFileSync(ha.etcd.clientCertFile), privateKey: readFileSync(ha.etcd.clientKeyFile) },
  });
  try {
    const s = await within(client.maintenance.status(), timeoutMs, m.clientUrl);
    const leader = s.leader === s.header.member_id;
    return { name: m.name, url: m.clientUrl, healthy: true, leader, detail: `etcd ${s.version}, raft term ${s.raftTerm} index ${s.raftIndex}, db ${Math.round(Number(s.dbSize) / 1024)} KiB` };
  } catch (err) {
    return { name: m.name, url: m.clientUrl, healthy: false, leader: false, detail: (err as Error).message.split('\n')[0] };
  } finally {
    client.close();
  }
}

interface LeaseObject extends KubeObject {
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number; leaseTransitions?: number };
}

/** The server whose listen address the holder identity names (hostname_listen_uuid). */
export function serverOfIdentity(servers: HaServer[], identity: string): HaServer | undefined {
  return servers.find((s) => identity.includes(`_${s.listen}_`));
}

/** Prints the HA part of `flatnet status`; answers whether all of it is healthy. */
export async function printHaStatus(ha: HaPlan, print: (line: string) => void): Promise<boolean> {
  let healthy = true;
  const members = await Promise.all(ha.etcd.members.map((m) => etcdMemberStatus(ha, m)));
  const up = members.filter((m) => m.healthy).length;
  print(`etcd: ${up}/${members.length} members healthy${up * 2 > members.length ? '' : ' — NO QUORUM: writes fail until a majority is back'}`);
  for (const m of members) {
    if (!m.healthy) healthy = false;
    print(`  ${m.name.padEnd(8)} ${m.healthy ? (m.leader ? 'healthy, leader  ' : 'healthy, follower') : 'UNHEALTHY        '} ${m.url}  ${m.detail}`);
  }
  print('API servers:');
  let answering: KubeClient | undefined;
  const clients: KubeClient[] = [];
  for (const s of ha.servers) {
    if (!existsSync(s.kubeconfig)) {
      healthy = false;
      print(`  ${s.name.padEnd(8)} no kubeconfig at ${s.kubeconfig} yet`);
      continue;
    }
    const client = new KubeClient(loadKubeconfig(s.kubeconfig));
    clients.push(client);
    const ready = await within(client.request<string>('GET', '/readyz'), 5000, s.name).then(
      () => 'ok',
      (err: Error) => err.message.split('\n')[0],
    );
    if (ready === 'ok') answering ??= client;
    else healthy = false;
    print(`  ${s.name.padEnd(8)} https://${s.listen} (${s.underlayUrl} on the underlay): ${ready === 'ok' ? 'ready' : `NOT READY (${ready})`}`);
  }
  try {
    if (!answering) {
      print('controller lease: unknown (no API server answers)');
      return false;
    }
    const lease = (await answering.get(R.leases, CONTROLLER_LEASE.namespace, CONTROLLER_LEASE.name).catch(() => undefined)) as LeaseObject | undefined;
    const holder = lease?.spec?.holderIdentity;
    if (!holder) {
      healthy = false;
      print(`controller lease ${CONTROLLER_LEASE.namespace}/${CONTROLLER_LEASE.name}: not held`);
    } else {
      const server = serverOfIdentity(ha.servers, holder);
      const renewed = lease?.spec?.renewTime ? `${((Date.now() - Date.parse(lease.spec.renewTime)) / 1000).toFixed(0)}s ago` : 'never';
      print(`controller lease ${CONTROLLER_LEASE.namespace}/${CONTROLLER_LEASE.name}: held by ${server?.name ?? 'an unknown server'} (${holder}), renewed ${renewed}, ${lease?.spec?.leaseTransitions ?? 0} transition(s)`);
    }
  } finally {
    for (const c of clients) c.close();
  }
  return healthy;
}

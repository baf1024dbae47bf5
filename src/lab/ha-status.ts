// `flatnet status` for an HA lab: each etcd member's health and whether it leads (asked over TLS
// with the API servers' client certificate), each API server's readiness, and which server holds
// the controller Lease (its holderIdentity carries the server's listen address).
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
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

/** etcd's maintenance Status as its JSON gateway answers it (int64 fields come as strings). */
interface EtcdStatusAnswer {
  header?: { member_id?: string };
  version?: string;
  dbSize?: string;
  leader?: string;
  raftIndex?: string;
  raftTerm?: string;
}

/**
 * Asks one member for its Status over etcd's JSON gateway (POST /v3/maintenance/status on the client
 * URL), as the API servers' client. node:https sends no SNI for an IP address, where the gRPC
 * library did (Node's DEP0123 warning on every `flatnet status`).
 */
function memberStatus(ha: HaPlan, m: HaEtcdMember, timeoutMs: number): Promise<EtcdStatusAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL('/v3/maintenance/status', m.clientUrl), {
      method: 'POST',
      ca: readFileSync(ha.etcd.caFile),
      cert: readFileSync(ha.etcd.clientCertFile),
      key: readFileSync(ha.etcd.clientKeyFile),
      headers: { 'content-type': 'application/json' },
      timeout: timeoutMs,
      agent: false,
    });
    req.on('timeout', () => req.destroy(new Error(`${m.clientUrl}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      // A status is a few hundred bytes; nothing past 64 KiB is kept.
      res.on('data', (c: string) => {
        if (text.length < 65_536) text += c;
      });
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${m.clientUrl} answered ${res.statusCode}: ${text.slice(0, 200)}`));
        try {
          resolve(JSON.parse(text) as EtcdStatusAnswer);
        } catch {
          reject(new Error(`${m.clientUrl} answered with no JSON status: ${text.slice(0, 200)}`));
        }
      });
    });
    req.end('{}');
  });
}

export async function etcdMemberStatus(ha: HaPlan, m: HaEtcdMember, timeoutMs = 3000): Promise<EtcdMemberStatus> {
  try {
    const s = await memberStatus(ha, m, timeoutMs);
    const leader = s.leader !== undefined && s.leader === s.header?.member_id;
    return { name: m.name, url: m.clientUrl, healthy: true, leader, detail: `etcd ${s.version}, raft term ${s.raftTerm ?? 0} index ${s.raftIndex ?? 0}, db ${Math.round(Number(s.dbSize ?? 0) / 1024)} KiB` };
  } catch (err) {
    return { name: m.name, url: m.clientUrl, healthy: false, leader: false, detail: (err as Error).message.split('\n')[0] };
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

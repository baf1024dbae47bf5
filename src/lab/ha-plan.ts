// The shape of `flatnet up --ha` as data, derived from the plain lab's plan: a 3-member etcd
// cluster (Debian's etcd, TLS with client certificates on every listener, bound to root-namespace
// loopback addresses no pod or node namespace can reach), two API servers on it sharing one CA and
// signing keys, and agents that know both servers. Pure: no file is touched here.
import { join } from 'node:path';
import { API_LISTEN, API_UNDERLAY_URL, LAB_GATEWAY, LAB_NETNS, type LabPlan, type LabProcess } from './plan.js';

export const ETCD_BINARY = process.env.FLATNET_ETCD ?? '/usr/bin/etcd';
export const ETCD_MEMBERS = 3;
/** Where the second API server listens in the root namespace (the first keeps API_LISTEN). */
export const SECOND_API_PORT = 6444;
/** Files of the first server's data directory every other server must hold before its first start. */
export const SHARED_SERVER_FILES = ['ca.crt', 'ca.key', 'admin.token', 'sa-signer.key', 'proxy-token.key'];

export interface HaEtcdMember {
  name: string;
  ip: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  certFile: string;
  keyFile: string;
}

export interface HaServer {
  /** The supervised process's name ('server' for the first, as in the plain lab). */
  name: string;
  dataDir: string;
  listen: string;
  /** Where agents reach it on the underlay. */
  underlayUrl: string;
  kubeconfig: string;
}

export interface HaPlan {
  etcd: { members: HaEtcdMember[]; dir: string; pkiDir: string; caFile: string; clientCertFile: string; clientKeyFile: string };
  servers: HaServer[];
  /** Bridges into the lab switch beyond plan.apiBridge (one per further server). */
  apiBridges: { netns: string; host: string; port: number; target: { host: string; port: number } }[];
}

function etcdMemberIp(i: number): string {
  return `127.0.0.${20 + i}`;
}

export function etcdArgs(m: HaEtcdMember, all: HaEtcdMember[], caFile: string): string[] {
  return [
    '--name', m.name,
    '--data-dir', m.dataDir,
    '--listen-client-urls', m.clientUrl,
    '--advertise-client-urls', m.clientUrl,
    '--listen-peer-urls', m.peerUrl,
    '--initial-advertise-peer-urls', m.peerUrl,
    '--initial-cluster', all.map((x) => `${x.name}=${x.peerUrl}`).join(','),
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', 'flatnet-lab',
    '--client-cert-auth', '--trusted-ca-file', caFile, '--cert-file', m.certFile, '--key-file', m.keyFile,
    '--peer-client-cert-auth', '--peer-trusted-ca-file', caFile, '--peer-cert-file', m.certFile, '--peer-key-file', m.keyFile,
    // A loaded 2-core machine stalls processes for hundreds of milliseconds: longer raft timers
    // than the defaults (100/1000 ms) keep a busy member from starting needless elections.
    '--heartbeat-interval', '250',
    '--election-timeout', '2500',
    '--auto-compaction-mode', 'periodic',
    '--auto-compaction-retention', '1h',
    '--logger', 'zap',
    '--log-level', 'warn',
  ];
}

function replaceFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  if (i < 0) throw new Error(`the lab plan has no ${flag}`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

/** The HA lab: `base` (the plain plan) with etcd members, a second server and agents given both servers. */
export function planHaLab(base: LabPlan): LabPlan {
  const dataDir = base.options.dataDir;
  const etcdDir = join(dataDir, 'etcd');
  const pkiDir = join(etcdDir, 'pki');
  const members: HaEtcdMember[] = [];
  for (let i = 1; i <= ETCD_MEMBERS; i++) {
    const name = `etcd-${i}`;
    const ip = etcdMemberIp(i);
    members.push({ name, ip, clientUrl: `https://${ip}:2379`, peerUrl: `https://${ip}:2380`, dataDir: join(etcdDir, name), certFile: join(pkiDir, `${name}.crt`), keyFile: join(pkiDir, `${name}.key`) });
  }
  const listenHost = API_LISTEN.split(':')[0];
  const servers: HaServer[] = [
    { name: 'server', dataDir, listen: API_LISTEN, underlayUrl: API_UNDERLAY_URL, kubeconfig: base.kubeconfig },
    {
      name: 'server-2',
      dataDir: join(dataDir, 'servers', 'server-2'),
      listen: `${listenHost}:${SECOND_API_PORT}`,
      underlayUrl: `https://${LAB_GATEWAY}:${SECOND_API_PORT}`,
      kubeconfig: join(dataDir, 'servers', 'server-2', 'admin.kubeconfig'),
    },
  ];
  const ha: HaPlan = {
    etcd: { members, dir: etcdDir, pkiDir, caFile: join(pkiDir, 'ca.crt'), clientCertFile: join(pkiDir, 'apiserver-etcd-client.crt'), clientKeyFile: join(pkiDir, 'apiserver-etcd-client.key') },
    servers,
    apiBridges: servers.slice(1).map((s) => ({ netns: LAB_NETNS, host: LAB_GATEWAY, port: Number(s.listen.split(':')[1]), target: { host: listenHost, port: Number(s.listen.split(':')[1]) } })),
  };
  const storeArgs = [
    '--store', 'etcd',
    '--etcd-servers', members.map((m) => m.clientUrl).join(','),
    '--etcd-cafile', ha.etcd.caFile,
    '--etcd-certfile', ha.etcd.clientCertFile,
    '--etcd-keyfile', ha.etcd.clientKeyFile,
  ];
  const baseServer = base.processes.find((p) => p.name === 'server');
  if (!baseServer) throw new Error('the lab plan has no server process');
  const serverProcesses: LabProcess[] = servers.map((s) => ({
    name: s.name,
    args: [...replaceFlag(replaceFlag(baseServer.args, '--data-dir', s.dataDir), '--listen', s.listen), ...storeArgs],
    log: join(base.paths.logs, `${s.name}.log`),
    // The first server bootstraps the cluster's built-in objects (RBAC policy, namespaces); the
    // others start once it has (its kubeconfig is written after), instead of racing it on them.
    waitForFile: s.name === 'server' ? undefined : base.kubeconfig,
  }));
  const etcdProcesses: LabProcess[] = members.map((m) => ({ name: m.name, program: ETCD_BINARY, args: etcdArgs(m, members, ha.etcd.caFile), log: join(base.paths.logs, `${m.name}.log`) }));
  const serverUrls = servers.map((s) => s.underlayUrl).join(',');
  const agents = base.processes.filter((p) => p.name !== 'server').map((p) => (p.args.includes('--server') ? { ...p, args: replaceFlag(p.args, '--server', serverUrls) } : p));
  return { ...base, processes: [...serverProcesses, ...etcdProcesses, ...agents], ha };
}

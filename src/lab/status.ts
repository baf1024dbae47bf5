// `flatnet status`: which lab processes run, whether the API answers, and each node's state.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KubeClient } from '../client/client.js';
import { loadKubeconfig } from '../client/kubeconfig.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { listNetns } from '../linux/netns.js';
import { isLabNetns } from './plan.js';
import { isAlive, otherLabDataDirs, readPidFiles } from './processes.js';
import { readLabState } from './supervisor.js';
import { isNodeReady } from './up.js';
import { CLUSTER_DNS_IP, DNS_PROBE_NAME, probeClusterDns } from './addons.js';
import { printHaStatus } from './ha-status.js';
import { nodeSessions, statusText } from '../overlay/bgp/status-report.js';

interface NodeObject extends KubeObject {
  spec?: { podCIDR?: string };
  status?: { addresses?: { type: string; address: string }[]; conditions?: { type: string; status: string; reason?: string }[] };
}
interface PodObject extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

/** Prints the report; answers 0 when everything is up and Ready, 1 otherwise. */
export async function labStatus(dataDirArg: string, print: (line: string) => void): Promise<number> {
  const dataDir = resolve(dataDirArg);
  const statePath = join(dataDir, 'lab.json');
  const namespaces = listNetns().filter(isLabNetns);
  if (!existsSync(statePath)) {
    print(`no lab in ${dataDir} (start one with \`flatnet up --data-dir ${dataDir}\`)`);
    const others = otherLabDataDirs(dataDir);
    if (others.length) print(`a lab is running with data directory ${others.join(', ')}: \`flatnet status --data-dir ${others[0]}\``);
    else if (namespaces.length) print(`lab namespaces are present without a lab: ${namespaces.join(', ')} — \`flatnet down --data-dir ${dataDir}\` removes them`);
    return 1;
  }
  const state = readLabState(statePath);
  let healthy = true;
  print(`lab in ${dataDir}, created ${state.createdAt}: ${state.plan.nodes.length} node(s), overlay ${state.plan.options.overlay}, proxy ${state.plan.options.proxyMode}, CNI plugins ${state.plan.options.cniPlugins}`);
  const pids = readPidFiles(state.plan.paths.pids);
  print('processes:');
  for (const name of ['supervisor', ...state.plan.processes.map((p) => p.name)]) {
    const pid = pids.get(name);
    const alive = pid !== undefined && isAlive(pid);
    if (!alive) healthy = false;
    print(`  ${name.padEnd(16)} ${alive ? `running (pid ${pid})` : 'NOT RUNNING'}`);
  }
  if (state.plan.ha && !(await printHaStatus(state.plan.ha, print))) healthy = false;
  if (!existsSync(state.plan.kubeconfig)) {
    print(`API: no kubeconfig at ${state.plan.kubeconfig} yet`);
    return 1;
  }
  const client = new KubeClient(loadKubeconfig(state.plan.kubeconfig));
  try {
    const ready = await client.request<string>('GET', '/readyz').then(
      () => 'ok',
      (err: Error) => err.message,
    );
    if (ready !== 'ok') healthy = false;
    print(`API ${client.connection.server}: ${ready === 'ok' ? 'ready' : `not ready (${ready})`}`);
    if (ready !== 'ok') return 1;
    const nodes = (await client.list<NodeObject>(R.nodes)).items;
    const pods = (await client.list<PodObject>(R.pods)).items;
    print('nodes:');
    for (const planned of state.plan.nodes) {
      const n = nodes.find((x) => x.metadata.name === planned.name);
      if (!n) {
        healthy = false;
        print(`  ${planned.name.padEnd(8)} NOT REGISTERED (netns ${planned.netns} ${namespaces.includes(planned.netns) ? 'present' : 'MISSING'})`);
        continue;
      }
      const readyNow = isNodeReady(n);
      if (!readyNow) healthy = false;
      const mine = pods.filter((p) => p.spec?.nodeName === planned.name);
      const running = mine.filter((p) => p.status?.phase === 'Running').length;
      const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '?';
      print(`  ${planned.name.padEnd(8)} ${readyNow ? 'Ready   ' : 'NotReady'} ip ${ip}  pods ${n.spec?.podCIDR ?? '(no CIDR yet)'}  ${running}/${mine.length} pods running  netns ${planned.netns}`);
    }
    if (state.plan.options.overlay === 'bgp') {
      const sessions = nodeSessions(nodes);
      if (!sessions.every((s) => s.sessions.length > 0 && s.sessions.every((x) => x.state === 'Established'))) healthy = false;
      print('BGP sessions (flatnet bgp status):');
      for (const line of statusText(sessions, Date.now()).trimEnd().split('\n')) print(`  ${line}`);
    }
    const firstNode = state.plan.nodes.find((n) => namespaces.includes(n.netns));
    if (firstNode) {
      const answer = await probeClusterDns(firstNode.netns);
      if (!answer) healthy = false;
      print(`cluster DNS ${CLUSTER_DNS_IP}: ${answer ? `answers (${DNS_PROBE_NAME} -> ${answer})` : 'NO ANSWER'}`);
    }
  } finally {
    client.close();
  }
  return healthy ? 0 : 1;
}

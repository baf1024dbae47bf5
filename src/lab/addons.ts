// Cluster add-ons the lab installs once its nodes are Ready: cluster DNS (Deployment `coredns`
// behind Service `kube-dns` 10.96.0.10, image flatnet/dns), and the check that it answers from
// inside a node namespace through the Service address; the GatewayClasses and IngressClasses
// flatnet serves.
import { randomInt } from 'node:crypto';
import type dgram from 'node:dgram';
import { KubeClient, isAlreadyExists } from '../client/client.js';
import { R } from '../api/resources.js';
import type { KubeObject } from '../api/types.js';
import { stringify as stringifyYaml } from 'yaml';
import { clusterDnsObjects } from '../dns/manifest.js';
import { encodeQuery } from '../dns/forward.js';
import { decodeResponse, RRType, type DecodedResponse } from '../dns/wire.js';
import { bindUdp } from '../workloads/sockets.js';
import { API_LISTEN, LAB_GATEWAY } from './plan.js';
import { GATEWAY_CONTROLLER_NAME } from '../gateway/model/types.js';
import { INGRESS_CONTROLLER_NAME, NGINX_INGRESS_CONTROLLER_NAME } from '../gateway/ingress/types.js';

export const CLUSTER_DNS_IP = '10.96.0.10';
export const DNS_PROBE_NAME = 'kubernetes.default.svc.cluster.local';

const resourceFor = (kind: string) => {
  switch (kind) {
    case 'ServiceAccount':
      return R.serviceaccounts;
    case 'Deployment':
      return R.deployments;
    case 'Service':
      return R.services;
    case 'ConfigMap':
      return R.configmaps;
    case 'ClusterRole':
      return R.clusterroles;
    case 'ClusterRoleBinding':
      return R.clusterrolebindings;
    case 'Role':
      return R.roles;
    case 'RoleBinding':
      return R.rolebindings;
    default:
      throw new Error(`the lab does not know how to install a ${kind}`);
  }
};

/**
 * Creates the DNS add-on objects that do not exist yet: all of them, or only the Deployment (its
 * pods need Ready nodes to spread over), or everything but it (RBAC, ConfigMap, Service: these can
 * go in before any node exists, each created at once).
 */
export async function installClusterDns(client: KubeClient, replicas = 2, which: 'all' | 'deployment' | 'without-deployment' = 'all'): Promise<void> {
  const create = async (obj: KubeObject) => {
    try {
      await client.create<KubeObject>(resourceFor(obj.kind ?? ''), obj);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  };
  const objects = clusterDnsObjects({ clusterIP: CLUSTER_DNS_IP, replicas, image: 'flatnet/dns' });
  if (which !== 'all') {
    await Promise.all(objects.filter((o) => (o.kind === 'Deployment') === (which === 'deployment')).map(create));
    return;
  }
  for (const obj of objects) await create(obj);
}

/** The lab's pod network (the server's default --pod-cidr). */
export const LAB_CLUSTER_CIDR = '10.244.0.0/16';

/**
 * ConfigMap kube-system/kube-proxy as kubeadm writes it: `config.conf` holds a
 * KubeProxyConfiguration whose `mode` is the agents' proxy backend and whose clusterCIDR is the
 * pod network; `kubeconfig.conf` is the in-pod kubeconfig kube-proxy pods use (ServiceAccount
 * token and CA). flatnet's agents take their settings from flags; this object tells people and
 * tools (`kubectl -n kube-system get cm kube-proxy -o yaml | grep mode`) what runs.
 */
export function kubeProxyConfigMap(opts: { mode: 'nftables' | 'iptables'; clusterCIDR?: string; server?: string }): KubeObject {
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    bindAddress: '0.0.0.0',
    clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf', acceptContentTypes: '', contentType: '', qps: 0, burst: 0 },
    clusterCIDR: opts.clusterCIDR ?? LAB_CLUSTER_CIDR,
    configSyncPeriod: '0s',
    conntrack: { maxPerCore: null, min: null, tcpEstablishedTimeout: null, tcpCloseWaitTimeout: null, udpTimeout: '0s', udpStreamTimeout: '0s' },
    detectLocalMode: '',
    enableProfiling: false,
    healthzBindAddress: '',
    hostnameOverride: '',
    iptables: { masqueradeAll: false, masqueradeBit: null, minSyncPeriod: '0s', syncPeriod: '0s', localhostNodePorts: null },
    nftables: { masqueradeAll: false, masqueradeBit: null, minSyncPeriod: '0s', syncPeriod: '0s' },
    metricsBindAddress: '',
    mode: opts.mode,
    nodePortAddresses: null,
    oomScoreAdj: null,
    portRange: '',
  };
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default', cluster: { 'certificate-authority': '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', server: opts.server ?? `https://${LAB_GATEWAY}:${API_LISTEN.split(':')[1]}` } }],
    contexts: [{ name: 'default', context: { cluster: 'default', namespace: 'default', user: 'default' } }],
    'current-context': 'default',
    users: [{ name: 'default', user: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } }],
  };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { app: 'kube-proxy' } },
    data: { 'config.conf': stringifyYaml(config), 'kubeconfig.conf': stringifyYaml(kubeconfig) },
  } as KubeObject;
}

/** Creates kube-system/kube-proxy, or brings its `mode` up to date when the lab's proxy mode changed. */
export async function installKubeProxyConfig(client: KubeClient, mode: 'nftables' | 'iptables'): Promise<void> {
  const cm = kubeProxyConfigMap({ mode });
  try {
    await client.create<KubeObject>(R.configmaps, cm);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    await client.patch(R.configmaps, 'kube-system', 'kube-proxy', { data: (cm as unknown as { data: Record<string, string> }).data }, 'merge');
  }
}

/**
 * The classes flatnet serves, installed by `flatnet up`: GatewayClasses `flatnet` and `nginx` (so
 * manifests written for NGINX Gateway Fabric work unchanged), IngressClass `flatnet` (the default
 * class) and IngressClass `nginx` (ingress-nginx's controller name, which flatnet serves too).
 */
export function servedClasses(): KubeObject[] {
  const gatewayClass = (name: string, description: string): KubeObject => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name },
    spec: { controllerName: GATEWAY_CONTROLLER_NAME, description },
  });
  return [
    gatewayClass('flatnet', 'flatnet gateway proxy'),
    gatewayClass('nginx', 'flatnet serves manifests written for NGINX Gateway Fabric'),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'flatnet', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: INGRESS_CONTROLLER_NAME },
    },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: NGINX_INGRESS_CONTROLLER_NAME } },
  ];
}

/** Creates the served GatewayClasses and IngressClasses that do not exist yet (existing ones are left as they are). */
export async function installServedClasses(client: KubeClient): Promise<void> {
  for (const obj of servedClasses()) {
    try {
      await client.create<KubeObject>(obj.kind === 'GatewayClass' ? R.gatewayclasses : R.ingressclasses, obj);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/**
 * Asks the cluster DNS, from inside `netns`, for the kubernetes Service (one A query to the
 * Service address from a fresh UDP socket of that namespace, as `dig` run there would send);
 * answers the address, or undefined when no answer with one came within `timeoutMs`. (`netns`
 * '' is this process's namespace; `server` is the Service address unless a test gives another.)
 */
export async function probeClusterDns(netns: string, timeoutMs = 1000, server = { host: CLUSTER_DNS_IP, port: 53 }): Promise<string | undefined> {
  let sock: dgram.Socket;
  try {
    sock = await bindUdp(netns, '0.0.0.0', 0);
  } catch {
    return undefined;
  }
  const id = randomInt(0x10000);
  return new Promise((resolve) => {
    const done = (answer: string | undefined) => {
      clearTimeout(timer);
      sock.removeAllListeners('message');
      try {
        sock.close();
      } catch {
        // already closed
      }
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('message', (msg) => {
      let res: DecodedResponse;
      try {
        res = decodeResponse(msg);
      } catch {
        return; // not a DNS answer: keep waiting
      }
      if (res.id !== id || !(res.flags & 0x8000)) return;
      const a = res.answers.find((r) => r.type === RRType.A);
      done(typeof a?.data === 'string' ? a.data : undefined);
    });
    sock.on('error', () => done(undefined));
    sock.send(encodeQuery(id, DNS_PROBE_NAME, RRType.A, 1), server.port, server.host, (err) => {
      if (err) done(undefined);
    });
  });
}

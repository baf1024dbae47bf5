// The cluster DNS add-on as API objects, shaped like kubeadm's CoreDNS add-on: ConfigMap `coredns`
// (its Corefile, which the DNS pods watch and follow), ServiceAccount `coredns` with kubeadm's RBAC
// (ClusterRole and ClusterRoleBinding `system:coredns`: list and watch Endpoints, Services, Pods,
// Namespaces and EndpointSlices), Deployment `coredns` (k8s-app=kube-dns) and Service `kube-dns`
// in kube-system. The DNS pods read the API with their own ServiceAccount token. CoreDNS reads its
// Corefile from the mounted ConfigMap; flatnet's DNS pods read it through the API, so Role
// `coredns-corefile` adds get/list/watch of that one ConfigMap and creating Events (Corefile errors).
// The container serves DNS on 53 (udp/tcp) and HTTP on 8080: /health (liveness), /ready
// (readiness, after the informers synced) and /metrics; the Service's `metrics` port 9153
// targets that HTTP port by name.
import type { KubeObject } from '../api/types.js';
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_TTL } from './workload.js';

export interface ClusterDnsManifestOptions {
  clusterIP: string;
  replicas: number;
  image: string;
  clusterDomain?: string;
  ttl?: number;
  /** Upstream resolvers for names outside the cluster (none in the lab). */
  upstreams?: string[];
}

export const DNS_NAMESPACE = 'kube-system';
export const DNS_HTTP_PORT = 8080;
export const COREFILE_CONFIGMAP = 'coredns';

/**
 * kubeadm's default Corefile for our cluster domain, TTL and upstreams. kubeadm forwards to the
 * node's /etc/resolv.conf; flatnet forwards only to the upstreams it is given (none in the lab, so
 * lab traffic never leaves the machine), and leaves the forward line out when there are none.
 */
export function defaultCorefile(opts: { clusterDomain?: string; ttl?: number; upstreams?: string[] } = {}): string {
  const upstreams = opts.upstreams ?? [];
  const forward = upstreams.length ? [`    forward . ${upstreams.join(' ')} {`, '       max_concurrent 1000', '    }'] : [];
  return [
    '.:53 {',
    '    errors',
    '    health {',
    '       lameduck 5s',
    '    }',
    '    ready',
    `    kubernetes ${opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`,
    '       pods insecure',
    '       fallthrough in-addr.arpa ip6.arpa',
    `       ttl ${opts.ttl ?? DEFAULT_TTL}`,
    '    }',
    '    prometheus :9153',
    ...forward,
    '    cache 30 {',
    `       disable success ${opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN}`,
    `       disable denial ${opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN}`,
    '    }',
    '    loop',
    '    reload',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
}

export function clusterDnsObjects(opts: ClusterDnsManifestOptions): KubeObject[] {
  const labels = { 'k8s-app': 'kube-dns' };
  const args = [
    `--cluster-domain=${opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN}`,
    `--ttl=${opts.ttl ?? DEFAULT_TTL}`,
    ...(opts.upstreams ?? []).map((u) => `--upstream=${u}`),
    `--corefile-configmap=${DNS_NAMESPACE}/${COREFILE_CONFIGMAP}`,
  ];
  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: COREFILE_CONFIGMAP, namespace: DNS_NAMESPACE },
    data: { Corefile: defaultCorefile(opts) },
  } as KubeObject;
  const serviceAccount: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'coredns', namespace: DNS_NAMESPACE },
  };
  const rbac = dnsRbacObjects();
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: DNS_NAMESPACE, labels },
    spec: {
      replicas: opts.replicas,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: DNS_SERVICE_ACCOUNT,
          priorityClassName: 'system-cluster-critical',
          // The DNS server itself must not resolve through itself.
          dnsPolicy: 'Default',
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
          containers: [
            {
              name: 'coredns',
              image: opts.image,
              args,
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: DNS_HTTP_PORT, protocol: 'TCP' },
              ],
              livenessProbe: { httpGet: { path: '/health', port: DNS_HTTP_PORT, scheme: 'HTTP' }, initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5 },
              readinessProbe: { httpGet: { path: '/ready', port: DNS_HTTP_PORT, scheme: 'HTTP' }, periodSeconds: 1, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
              resources: { requests: { cpu: '100m', memory: '70Mi' }, limits: { memory: '170Mi' } },
              volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
            },
          ],
          // As kubeadm mounts it; the DNS server reads the same ConfigMap through the API, as
          // its ServiceAccount (Role coredns-corefile).
          volumes: [{ name: 'config-volume', configMap: { name: COREFILE_CONFIGMAP, items: [{ key: 'Corefile', path: 'Corefile' }] } }],
        },
      },
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: DNS_NAMESPACE,
      labels: { ...labels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      selector: labels,
      clusterIP: opts.clusterIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 'metrics' },
      ],
    },
  };
  return [configMap, serviceAccount, ...rbac, deployment, service];
}

export const DNS_SERVICE_ACCOUNT = 'coredns';
export const DNS_CLUSTER_ROLE = 'system:coredns';
export const DNS_COREFILE_ROLE = 'coredns-corefile';

/** kubeadm's ClusterRole and ClusterRoleBinding system:coredns, and the Role for the Corefile ConfigMap. */
export function dnsRbacObjects(): KubeObject[] {
  const subjects = [{ kind: 'ServiceAccount', name: DNS_SERVICE_ACCOUNT, namespace: DNS_NAMESPACE }];
  const bootstrap = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: DNS_CLUSTER_ROLE, labels: bootstrap },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: DNS_CLUSTER_ROLE, labels: bootstrap, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: DNS_CLUSTER_ROLE },
      subjects,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: DNS_COREFILE_ROLE, namespace: DNS_NAMESPACE },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], resourceNames: [COREFILE_CONFIGMAP], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: DNS_COREFILE_ROLE, namespace: DNS_NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: DNS_COREFILE_ROLE },
      subjects,
    },
  ] as KubeObject[];
}

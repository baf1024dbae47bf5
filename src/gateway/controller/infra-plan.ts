// The objects behind a proxy, as pure functions: a Deployment running `flatnet/gateway`, a
// LoadBalancer Service with one port per distinct listener (port, protocol), and a Secret with the
// proxy's token and the cluster CA. Gateways get `<gateway>-<class>` in their namespace, owned by
// the Gateway; the ingress proxy is `flatnet-system/flatnet-ingress` on ports 80 and 443.
import type { KubeObject } from '../../api/types.js';
import { canonicalJSON, fnv32a } from '../../controllers/names.js';
import { PROXY_CA_ENV, PROXY_HEALTH_PORT, PROXY_TOKEN_ENV } from '../proxy-identity.js';
import {
  APP_NAME_LABEL,
  GATEWAY_NAME_LABEL,
  INGRESS_NAMESPACE,
  INGRESS_PROXY_NAME,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  SPEC_HASH_ANNOTATION,
  fitLabel,
  provisionedName,
  tokenSecretName,
} from './names.js';

export const PROXY_IMAGE = 'flatnet/gateway';
export const READINESS_PATH = '/readyz';

export interface ProxyPort {
  name: string;
  port: number;
  protocol: 'TCP' | 'UDP';
}

/** Where pods reach the API server (the `kubernetes` Service), given to the proxy as kubelets do. */
export interface ApiServiceAddress {
  host: string;
  port: number;
}

export interface ProxyObjects {
  namespace: string;
  name: string;
  deployment: KubeObject;
  service: KubeObject;
  /** The token Secret's name (its content is made by the caller: the token is minted once). */
  secretName: string;
}

/** The Service ports of a Gateway: one per distinct listener (port, protocol); UDP listeners use UDP, the rest TCP. */
export function listenerPorts(gateway: KubeObject): ProxyPort[] {
  const listeners = ((gateway.spec as { listeners?: { port?: unknown; protocol?: unknown }[] } | undefined)?.listeners ?? []);
  const seen = new Set<string>();
  const out: ProxyPort[] = [];
  for (const l of listeners) {
    const port = Number(l.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
    const protocol = l.protocol === 'UDP' ? 'UDP' : 'TCP';
    const key = `${protocol}/${port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name: `${protocol.toLowerCase()}-${port}`, port, protocol });
  }
  return out.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

function specHash(obj: KubeObject): string {
  return fnv32a(canonicalJSON({ labels: obj.metadata.labels, annotations: obj.metadata.annotations, spec: obj.spec })).toString(16).padStart(8, '0');
}

/** Stamps the spec-hash annotation (the hash covers labels, other annotations and spec). */
function withHash(obj: KubeObject): KubeObject {
  const hash = specHash(obj);
  obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [SPEC_HASH_ANNOTATION]: hash };
  return obj;
}

interface ProxyShape {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  podLabels: Record<string, string>;
  args: string[];
  ports: ProxyPort[];
  ownerReferences?: KubeObject['metadata']['ownerReferences'];
  loadBalancerIP?: string;
  api: ApiServiceAddress;
}

function proxyObjects(s: ProxyShape): ProxyObjects {
  const secretName = tokenSecretName(s.name);
  const meta = () => ({
    name: s.name,
    namespace: s.namespace,
    labels: { ...s.labels },
    ...(Object.keys(s.annotations).length > 0 ? { annotations: { ...s.annotations } } : {}),
    ...(s.ownerReferences ? { ownerReferences: s.ownerReferences.map((o) => ({ ...o })) } : {}),
  });
  const secretEnv = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(),
    spec: {
      replicas: 1,
      selector: { matchLabels: { ...s.podLabels } },
      template: {
        metadata: { labels: { ...s.labels, ...s.podLabels }, ...(Object.keys(s.annotations).length > 0 ? { annotations: { ...s.annotations } } : {}) },
        spec: {
          containers: [
            {
              name: 'proxy',
              image: PROXY_IMAGE,
              args: s.args,
              env: [
                secretEnv(PROXY_TOKEN_ENV, 'token'),
                secretEnv(PROXY_CA_ENV, 'ca.crt'),
                { name: 'KUBERNETES_SERVICE_HOST', value: s.api.host },
                { name: 'KUBERNETES_SERVICE_PORT', value: String(s.api.port) },
              ],
              ports: [
                ...s.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol })),
                { name: 'health', containerPort: PROXY_HEALTH_PORT, protocol: 'TCP' },
              ],
              readinessProbe: { httpGet: { path: READINESS_PATH, port: PROXY_HEALTH_PORT }, periodSeconds: 2, failureThreshold: 3 },
            },
          ],
        },
      },
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(),
    spec: {
      type: 'LoadBalancer',
      selector: { ...s.podLabels },
      ports: s.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: p.protocol })),
      ...(s.loadBalancerIP ? { loadBalancerIP: s.loadBalancerIP } : {}),
    },
  };
  return { namespace: s.namespace, name: s.name, deployment: withHash(deployment), service: withHash(service), secretName };
}

/** The first address a Gateway asks for in spec.addresses (type IPAddress, the default type). */
function requestedAddress(gateway: KubeObject): string | undefined {
  const addrs = ((gateway.spec as { addresses?: { type?: string; value?: string }[] } | undefined)?.addresses ?? []);
  return addrs.find((a) => (a.type ?? 'IPAddress') === 'IPAddress' && a.value)?.value;
}

/** The proxy of one Gateway of class `className`. */
export function gatewayProxyObjects(gateway: KubeObject, className: string, api: ApiServiceAddress): ProxyObjects {
  const gwName = gateway.metadata.name ?? '';
  const infra = ((gateway.spec as { infrastructure?: { labels?: Record<string, string>; annotations?: Record<string, string> } } | undefined)?.infrastructure ?? {});
  const podLabels = { [GATEWAY_NAME_LABEL]: fitLabel(gwName), [APP_NAME_LABEL]: 'flatnet-gateway' };
  return proxyObjects({
    namespace: gateway.metadata.namespace ?? 'default',
    name: provisionedName(gwName, className),
    labels: { ...(infra.labels ?? {}), ...podLabels, [MANAGED_BY_LABEL]: MANAGED_BY },
    annotations: { ...(infra.annotations ?? {}) },
    podLabels,
    args: ['--gateway', `${gateway.metadata.namespace ?? 'default'}/${gwName}`],
    ports: listenerPorts(gateway),
    ownerReferences: [{ apiVersion: gateway.apiVersion ?? 'gateway.networking.k8s.io/v1', kind: 'Gateway', name: gwName, uid: gateway.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    loadBalancerIP: requestedAddress(gateway),
    api,
  });
}

/** The ingress proxy: every served Ingress, on ports 80 and 443. */
export function ingressProxyObjects(api: ApiServiceAddress): ProxyObjects {
  const podLabels = { [APP_NAME_LABEL]: INGRESS_PROXY_NAME };
  return proxyObjects({
    namespace: INGRESS_NAMESPACE,
    name: INGRESS_PROXY_NAME,
    labels: { ...podLabels, [MANAGED_BY_LABEL]: MANAGED_BY },
    annotations: {},
    podLabels,
    args: ['--ingress'],
    ports: [
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'https', port: 443, protocol: 'TCP' },
    ],
    api,
  });
}

/** The token Secret of a proxy. */
export function tokenSecret(p: Pick<ProxyObjects, 'namespace' | 'secretName' | 'deployment'>, token: string, caPem: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: p.secretName,
      namespace: p.namespace,
      labels: { ...(p.deployment.metadata.labels ?? {}) },
      ...(p.deployment.metadata.ownerReferences ? { ownerReferences: p.deployment.metadata.ownerReferences.map((o) => ({ ...o })) } : {}),
    },
    type: 'Opaque',
    data: { token: Buffer.from(token).toString('base64'), 'ca.crt': Buffer.from(caPem).toString('base64') },
  };
}

/**
 * The update that brings `current` to `desired`, or undefined when its spec hash already matches.
 * Service updates keep what the API server allocated (clusterIP(s), node ports of ports that stay),
 * so the Service is changed in place and keeps its LoadBalancer address.
 */
export function proxyObjectUpdate(current: KubeObject, desired: KubeObject): KubeObject | undefined {
  const want = desired.metadata.annotations?.[SPEC_HASH_ANNOTATION];
  if (current.metadata.annotations?.[SPEC_HASH_ANNOTATION] === want) return undefined;
  const next: KubeObject = {
    ...current,
    metadata: {
      ...current.metadata,
      labels: { ...(desired.metadata.labels ?? {}) },
      annotations: { ...(current.metadata.annotations ?? {}), ...(desired.metadata.annotations ?? {}) },
      ...(desired.metadata.ownerReferences ? { ownerReferences: desired.metadata.ownerReferences } : {}),
    },
  };
  if (desired.kind === 'Service') {
    const cur = (current.spec ?? {}) as { ports?: { port: number; protocol?: string; nodePort?: number }[] } & Record<string, unknown>;
    const want = desired.spec as { ports: { port: number; protocol: string }[] } & Record<string, unknown>;
    const ports = want.ports.map((p) => {
      const nodePort = cur.ports?.find((c) => c.port === p.port && (c.protocol ?? 'TCP') === p.protocol)?.nodePort;
      return nodePort ? { ...p, nodePort } : { ...p };
    });
    const spec: Record<string, unknown> = { ...cur, ...want, ports };
    if (!want.loadBalancerIP) delete spec.loadBalancerIP;
    next.spec = spec;
  } else {
    next.spec = { ...(current.spec as Record<string, unknown>), ...(desired.spec as Record<string, unknown>) };
  }
  return next;
}

// The snapshots the pure models read, built from the controller's informer caches: the
// GatewayWorld (with each Gateway's provisioned infrastructure as the Service and Deployment
// status show it) and the IngressWorld (with the ingress proxy Service's addresses).
import type { KubeObject } from '../../api/types.js';
import type { GatewayInfra, GatewayWorld } from '../model/types.js';
import type { IngressWorld } from '../ingress/types.js';
import { GATEWAY_CONTROLLER_NAME } from '../model/types.js';
import { INGRESS_NAMESPACE, INGRESS_PROXY_NAME, provisionedName } from './names.js';

export interface Caches {
  gatewayClasses: KubeObject[];
  gateways: KubeObject[];
  httpRoutes: KubeObject[];
  grpcRoutes: KubeObject[];
  tlsRoutes: KubeObject[];
  tcpRoutes: KubeObject[];
  udpRoutes: KubeObject[];
  referenceGrants: KubeObject[];
  services: KubeObject[];
  endpointSlices: KubeObject[];
  secrets: KubeObject[];
  namespaces: KubeObject[];
  deployments: KubeObject[];
  ingresses: KubeObject[];
  ingressClasses: KubeObject[];
}

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

function index(objs: KubeObject[]): Map<string, KubeObject> {
  return new Map(objs.map((o) => [keyOf(o), o]));
}

/** LoadBalancer IPs of a Service's status. */
export function loadBalancerIPs(svc: KubeObject | undefined): string[] {
  const ingress = ((svc?.status as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress ?? []);
  return ingress.map((i) => i.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '');
}

/** Our GatewayClasses by name (controllerName flatnet.dev/gateway-controller). */
export function ourGatewayClasses(classes: KubeObject[]): Map<string, KubeObject> {
  return new Map(classes.filter((c) => (c.spec as { controllerName?: string } | undefined)?.controllerName === GATEWAY_CONTROLLER_NAME).map((c) => [c.metadata.name ?? '', c]));
}

/** The class name of a Gateway when that class is ours, else undefined. */
export function ourClassOf(gateway: KubeObject, ours: Map<string, KubeObject>): string | undefined {
  const name = (gateway.spec as { gatewayClassName?: string } | undefined)?.gatewayClassName;
  return name && ours.has(name) ? name : undefined;
}

/** The TLS Secrets of a Secret list, filtered again only when it is another list (the models compare lists by identity). */
export class TlsSecretsFilter {
  private from: KubeObject[] | undefined;
  private tls: KubeObject[] = [];

  of(secrets: KubeObject[]): KubeObject[] {
    if (secrets !== this.from) {
      this.tls = secrets.filter((s) => s.type === TLS_SECRET_TYPE);
      this.from = secrets;
    }
    return this.tls;
  }
}

export function gatewayWorld(c: Caches, tlsSecrets = new TlsSecretsFilter()): GatewayWorld {
  const services = index(c.services);
  const deployments = index(c.deployments);
  const ours = ourGatewayClasses(c.gatewayClasses);
  const infra = new Map<string, GatewayInfra>();
  for (const gw of c.gateways) {
    const cls = ourClassOf(gw, ours);
    if (!cls) continue;
    const key = `${gw.metadata.namespace ?? ''}/${provisionedName(gw.metadata.name ?? '', cls)}`;
    const svc = services.get(key);
    const dep = deployments.get(key);
    if (!svc && !dep) continue;
    infra.set(keyOf(gw), {
      addresses: loadBalancerIPs(svc),
      readyReplicas: Number((dep?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0),
    });
  }
  return {
    gatewayClasses: c.gatewayClasses,
    gateways: c.gateways,
    httpRoutes: c.httpRoutes,
    grpcRoutes: c.grpcRoutes,
    tlsRoutes: c.tlsRoutes,
    tcpRoutes: c.tcpRoutes,
    udpRoutes: c.udpRoutes,
    referenceGrants: c.referenceGrants,
    services: c.services,
    endpointSlices: c.endpointSlices,
    secrets: tlsSecrets.of(c.secrets),
    namespaces: c.namespaces,
    infra,
  };
}

export function ingressWorld(c: Caches, tlsSecrets = new TlsSecretsFilter()): IngressWorld {
  const proxy = c.services.find((s) => s.metadata.namespace === INGRESS_NAMESPACE && s.metadata.name === INGRESS_PROXY_NAME);
  return {
    ingresses: c.ingresses,
    ingressClasses: c.ingressClasses,
    services: c.services,
    endpointSlices: c.endpointSlices,
    secrets: tlsSecrets.of(c.secrets),
    addresses: loadBalancerIPs(proxy),
  };
}

// The Gateway API route model's contract: a snapshot of API objects in, every status this
// controller owns and one ProxyConfig per Gateway out. computeGatewayState (state.ts) is a pure
// function of the snapshot: the server's status controller and every proxy pod call it on the
// same objects, so what the status says and what the proxy does cannot disagree.
import type { KubeObject } from '../../api/types.js';
import type { ProxyConfig } from '../config.js';

/** The controllerName of GatewayClasses flatnet implements. */
export const GATEWAY_CONTROLLER_NAME = 'flatnet.dev/gateway-controller';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration: number;
  /** Set by the status writer (kept when type, status and reason are unchanged). */
  lastTransitionTime?: string;
}

/** What the Gateway's provisioned infrastructure looks like now (read by the controller). */
export interface GatewayInfra {
  /** LoadBalancer addresses of the Gateway's Service (status.loadBalancer.ingress[].ip). */
  addresses: string[];
  /** Ready proxy pods of the Gateway's Deployment. */
  readyReplicas: number;
}

export interface GatewayWorld {
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
  /** Secrets of type kubernetes.io/tls (others are ignored, a reference to them is invalid). */
  secrets: KubeObject[];
  namespaces: KubeObject[];
  /** Keyed by `namespace/name` of the Gateway; absent = nothing provisioned yet. */
  infra: Map<string, GatewayInfra>;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: { group: string; kind: string }[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  addresses: { type: 'IPAddress' | 'Hostname'; value: string }[];
  conditions: Condition[];
  listeners: ListenerStatus[];
}

export interface ParentRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

/** One entry of a route's status.parents, as this controller writes it. */
export interface RouteParentStatus {
  parentRef: ParentRef;
  controllerName: typeof GATEWAY_CONTROLLER_NAME;
  conditions: Condition[];
}

/** A Warning event about an object (invalid or conflicting configuration). */
export interface ModelEvent {
  kind: string;
  namespace?: string;
  name: string;
  reason: string;
  message: string;
}

export interface GatewayState {
  /** Status conditions of every GatewayClass whose controllerName is ours, by name. */
  gatewayClasses: Map<string, Condition[]>;
  /** Every Gateway of one of our (Accepted) classes, by `namespace/name`. */
  gateways: Map<string, { status: GatewayStatus; config: ProxyConfig }>;
  /**
   * Our status.parents entries of every route that names one of our Gateways, by
   * `Kind/namespace/name` (Kind = HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute). An empty
   * list means: remove our entries.
   *
   * A route is in this map exactly when at least one of its parentRefs names a Gateway that
   * exists and whose GatewayClass is ours and Accepted; the list then holds one entry per such
   * parentRef (group and kind defaults filled in, namespace/sectionName/port as written). Routes
   * absent from the map are left alone by the status writer.
   */
  routes: Map<string, RouteParentStatus[]>;
  events: ModelEvent[];
}

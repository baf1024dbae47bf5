// The Ingress translation's contract: Ingresses (with their classes, Services, EndpointSlices and
// TLS Secrets) in, the ingress proxy's ProxyConfig, each Ingress's status and Warning events out.
// computeIngressState (state.ts) is pure; the status controller and the ingress proxy pods call
// it on the same objects.
import type { KubeObject } from '../../api/types.js';
import type { ProxyConfig } from '../config.js';
import type { ModelEvent } from '../model/types.js';

/** The controller of IngressClasses flatnet serves. */
export const INGRESS_CONTROLLER_NAME = 'flatnet.dev/ingress';
/** ingress-nginx's controller name: classes naming it are served too (and class `nginx` without an IngressClass object). */
export const NGINX_INGRESS_CONTROLLER_NAME = 'k8s.io/ingress-nginx';

export interface IngressWorld {
  ingresses: KubeObject[];
  ingressClasses: KubeObject[];
  services: KubeObject[];
  endpointSlices: KubeObject[];
  /** Secrets of type kubernetes.io/tls. */
  secrets: KubeObject[];
  /** The ingress proxy Service's LoadBalancer addresses (written to every served Ingress's status). */
  addresses: string[];
}

export interface IngressState {
  /** What the ingress proxy serves: port 80 and, when any served Ingress has TLS, 443. */
  config: ProxyConfig;
  /**
   * status.loadBalancer.ingress of every Ingress this controller serves, by `namespace/name`;
   * an Ingress of a class we do not serve is absent (its status is left alone).
   */
  statuses: Map<string, { ip: string }[]>;
  /** Warnings: annotations we do not implement, configuration-snippet refused, bad regexes... */
  events: ModelEvent[];
}

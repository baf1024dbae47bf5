// Field types of the Gateway API kinds we serve (v1.2.1 CRDs, standard and experimental fields),
// written from the Gateway API specification. SSA list types follow the CRDs' x-kubernetes-list-type.
import { modelType } from './builtin.js';
import { type FieldType, SCALAR as S, list, map, obj } from './types.js';

const metadata = (): FieldType => modelType('V1ObjectMeta');
const labelSelector = (): FieldType => modelType('V1LabelSelector');

const condition = obj({ type: S, status: S, observedGeneration: S, lastTransitionTime: S, reason: S, message: S });
const conditions = list(condition, { listType: 'map', mapKeys: ['type'] });
const parentRef = obj({ group: S, kind: S, namespace: S, name: S, sectionName: S, port: S });
const objectRef = obj({ group: S, kind: S, name: S, namespace: S });
const localRef = obj({ group: S, kind: S, name: S });
const backendObjectRef = obj({ group: S, kind: S, name: S, namespace: S, port: S });
const headerList = list(obj({ name: S, value: S }));
const headerModifier = obj({ set: headerList, add: headerList, remove: list(S) });
const pathModifier = obj({ type: S, replaceFullPath: S, replacePrefixMatch: S });
const mirror = obj({ backendRef: backendObjectRef, percent: S, fraction: obj({ numerator: S, denominator: S }) });
const sessionPersistence = obj({ sessionName: S, absoluteTimeout: S, idleTimeout: S, type: S, cookieConfig: obj({ lifetimeType: S }) });

const httpFilter = obj({
  type: S,
  requestHeaderModifier: headerModifier,
  responseHeaderModifier: headerModifier,
  requestMirror: mirror,
  requestRedirect: obj({ scheme: S, hostname: S, path: pathModifier, port: S, statusCode: S }),
  urlRewrite: obj({ hostname: S, path: pathModifier }),
  extensionRef: localRef,
  cors: obj({ allowOrigins: list(S), allowCredentials: S, allowMethods: list(S), allowHeaders: list(S), exposeHeaders: list(S), maxAge: S }),
});
const grpcFilter = obj({ type: S, requestHeaderModifier: headerModifier, responseHeaderModifier: headerModifier, requestMirror: mirror, extensionRef: localRef });

const routeStatus = obj({ parents: list(obj({ parentRef, controllerName: S, conditions })) });

function root(spec: FieldType, status?: FieldType): FieldType {
  const fields: Record<string, FieldType> = { apiVersion: S, kind: S, metadata: metadata(), spec };
  if (status) fields.status = status;
  return obj(fields);
}

const gatewayClass = root(
  obj({ controllerName: S, parametersRef: objectRef, description: S }),
  obj({ conditions, supportedFeatures: list(obj({ name: S }), { listType: 'map', mapKeys: ['name'] }) }),
);

const listener = obj({
  name: S,
  hostname: S,
  port: S,
  protocol: S,
  tls: obj({ mode: S, certificateRefs: list(objectRef), options: map(), frontendValidation: obj({ caCertificateRefs: list(objectRef) }) }),
  allowedRoutes: obj({ namespaces: obj({ from: S, selector: labelSelector() }), kinds: list(obj({ group: S, kind: S })) }),
});

const gateway = root(
  obj({
    gatewayClassName: S,
    listeners: list(listener, { listType: 'map', mapKeys: ['name'] }),
    addresses: list(obj({ type: S, value: S })),
    infrastructure: obj({ labels: map(), annotations: map(), parametersRef: localRef }),
    backendTLS: obj({ clientCertificateRef: objectRef }),
  }),
  obj({
    addresses: list(obj({ type: S, value: S })),
    conditions,
    listeners: list(obj({ name: S, supportedKinds: list(obj({ group: S, kind: S })), attachedRoutes: S, conditions }), { listType: 'map', mapKeys: ['name'] }),
  }),
);

const httpRoute = root(
  obj({
    parentRefs: list(parentRef),
    hostnames: list(S),
    rules: list(
      obj({
        name: S,
        matches: list(obj({ path: obj({ type: S, value: S }), headers: list(obj({ type: S, name: S, value: S })), queryParams: list(obj({ type: S, name: S, value: S })), method: S })),
        filters: list(httpFilter),
        backendRefs: list(obj({ group: S, kind: S, name: S, namespace: S, port: S, weight: S, filters: list(httpFilter) })),
        timeouts: obj({ request: S, backendRequest: S }),
        retry: obj({ codes: list(S), attempts: S, backoff: S }),
        sessionPersistence,
      }),
    ),
  }),
  routeStatus,
);

const grpcRoute = root(
  obj({
    parentRefs: list(parentRef),
    hostnames: list(S),
    rules: list(
      obj({
        name: S,
        matches: list(obj({ method: obj({ type: S, service: S, method: S }), headers: list(obj({ type: S, name: S, value: S })) })),
        filters: list(grpcFilter),
        backendRefs: list(obj({ group: S, kind: S, name: S, namespace: S, port: S, weight: S, filters: list(grpcFilter) })),
        sessionPersistence,
      }),
    ),
  }),
  routeStatus,
);

const l4Rule = obj({ name: S, backendRefs: list(obj({ group: S, kind: S, name: S, namespace: S, port: S, weight: S })) });
const tcpRoute = root(obj({ parentRefs: list(parentRef), rules: list(l4Rule) }), routeStatus);
const tlsRoute = root(obj({ parentRefs: list(parentRef), hostnames: list(S), rules: list(l4Rule) }), routeStatus);

const referenceGrant = root(obj({ from: list(obj({ group: S, kind: S, namespace: S })), to: list(obj({ group: S, kind: S, name: S })) }));

export const GATEWAY_ROOTS: Record<string, FieldType> = {
  GatewayClass: gatewayClass,
  Gateway: gateway,
  HTTPRoute: httpRoute,
  GRPCRoute: grpcRoute,
  ReferenceGrant: referenceGrant,
  TCPRoute: tcpRoute,
  UDPRoute: tcpRoute,
  TLSRoute: tlsRoute,
};

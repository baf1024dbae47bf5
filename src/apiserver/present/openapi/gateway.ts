// Compact OpenAPI schemas for the Gateway API kinds flatnet serves (gateway.networking.k8s.io/v1,
// standard channel of release v1.6.1), written by hand from the spec's field list. They serve
// `kubectl explain` and document the shapes; validation lives in the API server.
import { GATEWAY_API_GROUP } from '../../../api/resources.js';
import { ref, type Schema } from './schema.js';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const CONDITION = 'io.k8s.apimachinery.pkg.apis.meta.v1.Condition';
const LABEL_SELECTOR = 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector';
const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';
const PREFIX = 'io.k8s.networking.gateway';

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const int = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', description, ...extra });
const obj = (description: string, properties: Record<string, Schema>, required?: string[]): Schema => ({
  type: 'object',
  description,
  properties,
  ...(required ? { required } : {}),
});
const arr = (description: string, items: Schema, extra: Schema = {}): Schema => ({ type: 'array', description, items, ...extra });
const strMap = (description: string): Schema => ({ type: 'object', description, additionalProperties: { type: 'string' } });
const conditions = (what: string): Schema =>
  arr(`Conditions describing the current state of the ${what}.`, ref(CONDITION), {
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });

const hostnames = (what: string) => arr(`Hostnames the ${what} matches; a leading "*." label is a wildcard.`, { type: 'string' });

const parentReference = obj('A parent (usually a Gateway, optionally one listener) the route attaches to.', {
  group: str('Group of the parent; defaults to gateway.networking.k8s.io.'),
  kind: str('Kind of the parent; defaults to Gateway.'),
  namespace: str("Namespace of the parent; defaults to the route's namespace."),
  name: str('Name of the parent.'),
  sectionName: str('Name of a listener of the parent Gateway (or a port name of a Service).'),
  port: int('Port of the parent the route targets (Extended support).'),
}, ['name']);

const backendObjectReference = {
  group: str('Group of the backend; "" (the default) is the core group.'),
  kind: str('Kind of the backend; defaults to Service.'),
  name: str('Name of the backend.'),
  namespace: str('Namespace of the backend; another namespace needs a ReferenceGrant there.'),
  port: int('Port of the backend Service.'),
};

const headerModifier = obj('Sets, adds or removes HTTP headers.', {
  set: arr('Headers to overwrite.', obj('A header name and value.', { name: str('Header name.'), value: str('Header value.') }, ['name', 'value'])),
  add: arr('Headers to append.', obj('A header name and value.', { name: str('Header name.'), value: str('Header value.') }, ['name', 'value'])),
  remove: arr('Header names to remove.', { type: 'string' }),
});

const pathModifier = obj('How a path is rewritten.', {
  type: str('ReplaceFullPath or ReplacePrefixMatch.'),
  replaceFullPath: str('The new full path.'),
  replacePrefixMatch: str('The value that replaces the matched prefix.'),
}, ['type']);

const localObjectReference = obj('A reference to an object in the same namespace.', {
  group: str('API group of the referent.'),
  kind: str('Kind of the referent.'),
  name: str('Name of the referent.'),
}, ['group', 'kind', 'name']);

const httpRouteFilter = obj('A processing step applied to requests matching the rule.', {
  type: str('RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite, CORS or ExtensionRef.'),
  requestHeaderModifier: headerModifier,
  responseHeaderModifier: headerModifier,
  requestMirror: obj('Mirrors requests to another backend; responses are ignored.', {
    backendRef: obj('The backend receiving mirrored requests.', backendObjectReference, ['name']),
    percent: int('Percentage of requests to mirror.'),
  }, ['backendRef']),
  requestRedirect: obj('Answers with an HTTP redirect.', {
    scheme: str('Scheme of the Location header (http or https).'),
    hostname: str('Hostname of the Location header.'),
    path: pathModifier,
    port: int('Port of the Location header.'),
    statusCode: int('301 (default) or 302.'),
  }),
  urlRewrite: obj('Rewrites the request before forwarding it.', { hostname: str('The new Host header.'), path: pathModifier }),
  extensionRef: localObjectReference,
}, ['type']);

const httpBackendRef = obj('A backend receiving a weighted share of the traffic.', {
  ...backendObjectReference,
  weight: int('Relative share of requests for this backend (default 1).'),
  filters: arr('Filters applied only for this backend.', httpRouteFilter),
}, ['name']);

const plainBackendRef = obj('A backend receiving a weighted share of the connections.', {
  ...backendObjectReference,
  weight: int('Relative share of connections for this backend (default 1).'),
}, ['name']);

const headerMatch = obj('Matches a header value.', {
  type: str('Exact (default) or RegularExpression.'),
  name: str('Header name, matched case-insensitively.'),
  value: str('Value to match.'),
}, ['name', 'value']);

const routeStatus = (what: string) =>
  obj(`Status of the ${what}: one entry per parent that handled it.`, {
    parents: arr('Status for each parent reference.', obj('Status for one parent.', {
      parentRef: parentReference,
      controllerName: str('The controller that wrote this entry.'),
      conditions: conditions('route for this parent'),
    }, ['parentRef', 'controllerName'])),
  }, ['parents']);

const l4Rule = (what: string) =>
  obj(`A ${what} rule: where matching connections go.`, {
    name: str('Optional name of the rule.'),
    backendRefs: arr('Backends for the connections.', plainBackendRef),
  });

function kind(k: string, description: string, spec: Schema, status?: Schema): Schema {
  const properties: Record<string, Schema> = {
    apiVersion: str('The versioned schema of this object: gateway.networking.k8s.io/v1.'),
    kind: str(`The kind of this object: ${k}.`),
    metadata: { allOf: [ref(OBJECT_META)], description: "Standard object's metadata." },
    spec,
  };
  if (status) properties.status = status;
  return {
    type: 'object',
    description,
    properties,
    required: ['spec'],
    'x-kubernetes-group-version-kind': [{ group: GATEWAY_API_GROUP, version: 'v1', kind: k }],
  };
}

const gatewayClass = kind('GatewayClass', 'A cluster-scoped class of Gateways, handled by the controller it names.',
  obj('Desired state of the GatewayClass.', {
    controllerName: str('Name of the controller managing Gateways of this class (domain/path); immutable.'),
    description: str('Human-readable description of the class.'),
    parametersRef: obj('Controller-specific configuration.', {
      group: str('Group of the referent.'),
      kind: str('Kind of the referent.'),
      name: str('Name of the referent.'),
      namespace: str('Namespace of a namespaced referent.'),
    }, ['group', 'kind', 'name']),
  }, ['controllerName']),
  obj('Current state of the GatewayClass.', {
    conditions: conditions('GatewayClass (Accepted, SupportedVersion)'),
    supportedFeatures: arr('Features the controller supports.', obj('A feature name.', { name: str('Feature name.') }, ['name'])),
  }));

const listener = obj('A logical endpoint of the Gateway: port, protocol and optional hostname.', {
  name: str('Unique name of the listener within the Gateway.'),
  hostname: str('Host (SNI or Host header) this listener accepts; a leading "*." is a wildcard. Not allowed for TCP and UDP.'),
  port: int('Network port.'),
  protocol: str('HTTP, HTTPS, TLS, TCP, UDP or a domain-prefixed protocol.'),
  tls: obj('TLS settings (HTTPS and TLS listeners).', {
    mode: str('Terminate (default) or Passthrough.'),
    certificateRefs: arr('Secrets holding the certificate and key.', obj('A reference to a Secret.', {
      group: str('Group of the referent; "" for Secret.'),
      kind: str('Kind of the referent; defaults to Secret.'),
      name: str('Name of the referent.'),
      namespace: str('Namespace of the referent; another namespace needs a ReferenceGrant.'),
    }, ['name'])),
    options: strMap('Implementation-specific TLS options.'),
  }),
  allowedRoutes: obj('Which routes may attach to this listener.', {
    namespaces: obj('Namespaces routes may attach from.', {
      from: str('Same (default), All, Selector or None.'),
      selector: { allOf: [ref(LABEL_SELECTOR)], description: 'Namespaces selected by labels when from is Selector.' },
    }),
    kinds: arr('Route kinds allowed; derived from the protocol when empty.', obj('A route kind.', {
      group: str('Group of the route kind.'),
      kind: str('Route kind.'),
    }, ['kind'])),
  }),
}, ['name', 'port', 'protocol']);

const gateway = kind('Gateway', 'Listeners bound to addresses that accept traffic for routes.',
  obj('Desired state of the Gateway.', {
    gatewayClassName: str('Name of the GatewayClass.'),
    listeners: arr('Listeners of the Gateway (1 to 64, unique names).', listener, {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
    addresses: arr('Requested addresses.', obj('A requested address.', {
      type: str('IPAddress (default), Hostname or a domain-prefixed type.'),
      value: str('The address.'),
    })),
    infrastructure: obj('Attributes for resources created for this Gateway.', {
      labels: strMap('Labels for created resources.'),
      annotations: strMap('Annotations for created resources.'),
      parametersRef: localObjectReference,
    }),
  }, ['gatewayClassName', 'listeners']),
  obj('Current state of the Gateway.', {
    addresses: arr('Addresses assigned to the Gateway.', obj('An assigned address.', { type: str('Address type.'), value: str('The address.') }, ['value'])),
    conditions: conditions('Gateway (Accepted, Programmed)'),
    listeners: arr('Status of each listener.', obj('Status of one listener.', {
      name: str('Listener name.'),
      supportedKinds: arr('Route kinds the listener accepts.', obj('A route kind.', { group: str('Group.'), kind: str('Kind.') }, ['kind'])),
      attachedRoutes: int('Number of Accepted routes attached to the listener.'),
      conditions: conditions('listener'),
    }, ['name', 'supportedKinds', 'attachedRoutes', 'conditions'])),
  }));

const httpRoute = kind('HTTPRoute', 'Routes HTTP requests from Gateway listeners to backends.',
  obj('Desired state of the HTTPRoute.', {
    parentRefs: arr('Gateways (or listeners) the route attaches to.', parentReference),
    hostnames: hostnames('route'),
    rules: arr('Routing rules.', obj('Matches, filters and backends of one rule.', {
      name: str('Optional name of the rule.'),
      matches: arr('Conditions a request must meet (ORed); defaults to path prefix /.', obj('Conditions that are ANDed.', {
        path: obj('Path match.', { type: str('Exact, PathPrefix (default) or RegularExpression.'), value: str('The path (default /).') }),
        headers: arr('Header matches.', headerMatch),
        queryParams: arr('Query parameter matches.', obj('Matches a query parameter.', {
          type: str('Exact (default) or RegularExpression.'),
          name: str('Parameter name.'),
          value: str('Value to match.'),
        }, ['name', 'value'])),
        method: str('HTTP method to match.'),
      })),
      filters: arr('Filters applied to matching requests.', httpRouteFilter),
      backendRefs: arr('Backends for matching requests.', httpBackendRef),
      timeouts: obj('Timeouts for the rule (durations like 10s).', {
        request: str('Timeout for the whole request.'),
        backendRequest: str('Timeout for each request to a backend.'),
      }),
    })),
  }),
  routeStatus('HTTPRoute'));

const grpcRoute = kind('GRPCRoute', 'Routes gRPC requests from Gateway listeners to backends.',
  obj('Desired state of the GRPCRoute.', {
    parentRefs: arr('Gateways (or listeners) the route attaches to.', parentReference),
    hostnames: hostnames('route'),
    rules: arr('Routing rules.', obj('Matches, filters and backends of one rule.', {
      name: str('Optional name of the rule.'),
      matches: arr('Conditions a request must meet (ORed).', obj('Conditions that are ANDed.', {
        method: obj('gRPC method match.', {
          type: str('Exact (default) or RegularExpression.'),
          service: str('Fully qualified gRPC service name.'),
          method: str('gRPC method name.'),
        }),
        headers: arr('Header matches.', headerMatch),
      })),
      filters: arr('Filters applied to matching requests.', httpRouteFilter),
      backendRefs: arr('Backends for matching requests.', httpBackendRef),
    })),
  }),
  routeStatus('GRPCRoute'));

const tlsRoute = kind('TLSRoute', 'Routes TLS connections by SNI hostname to backends.',
  obj('Desired state of the TLSRoute.', {
    parentRefs: arr('Gateways (or listeners) the route attaches to.', parentReference),
    hostnames: hostnames('route (SNI)'),
    rules: arr('Routing rules.', l4Rule('TLSRoute')),
  }, ['rules']),
  routeStatus('TLSRoute'));

const tcpRoute = kind('TCPRoute', 'Routes TCP connections arriving at a listener port to backends.',
  obj('Desired state of the TCPRoute.', {
    parentRefs: arr('Gateways (or listeners) the route attaches to.', parentReference),
    rules: arr('Routing rules.', l4Rule('TCPRoute')),
  }, ['rules']),
  routeStatus('TCPRoute'));

const udpRoute = kind('UDPRoute', 'Routes UDP datagrams arriving at a listener port to backends.',
  obj('Desired state of the UDPRoute.', {
    parentRefs: arr('Gateways (or listeners) the route attaches to.', parentReference),
    rules: arr('Routing rules.', l4Rule('UDPRoute')),
  }, ['rules']),
  routeStatus('UDPRoute'));

const referenceGrant = kind('ReferenceGrant', 'Allows references from objects in other namespaces to objects in this namespace.',
  obj('Which references are allowed.', {
    from: arr('Namespaces and kinds that may refer to objects here.', obj('A trusted source.', {
      group: str('Group of the referring kind.'),
      kind: str('Referring kind.'),
      namespace: str('Namespace of the referring objects.'),
    }, ['group', 'kind', 'namespace'])),
    to: arr('Kinds (optionally one name) that may be referred to.', obj('An allowed target.', {
      group: str('Group of the target kind ("" for core).'),
      kind: str('Target kind.'),
      name: str('Name of the one allowed target; all of the kind when empty.'),
    }, ['group', 'kind'])),
  }, ['from', 'to']));

const byKind: Record<string, Schema> = {
  GatewayClass: gatewayClass,
  Gateway: gateway,
  HTTPRoute: httpRoute,
  GRPCRoute: grpcRoute,
  TLSRoute: tlsRoute,
  TCPRoute: tcpRoute,
  UDPRoute: udpRoute,
  ReferenceGrant: referenceGrant,
};

/** The component name of a gateway kind at a version (io.k8s.networking.gateway.v1beta1.HTTPRoute). */
export function gatewaySchemaName(kindName: string, version = 'v1'): string {
  return `${PREFIX}.${version}.${kindName}`;
}

/** A kind's schema as another served version describes it: the same fields, that version's apiVersion. */
function atVersion(k: string, schema: Schema, version: string): Schema {
  if (version === 'v1') return schema;
  const properties = { ...(schema.properties as Record<string, Schema>), apiVersion: str(`The versioned schema of this object: ${GATEWAY_API_GROUP}/${version}.`) };
  return { ...schema, properties, 'x-kubernetes-group-version-kind': [{ group: GATEWAY_API_GROUP, version, kind: k }] };
}

/** Schemas for these gateway kinds and their lists at one served version; throws for a kind without one. */
export function gatewaySchemas(kinds: string[], version = 'v1'): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const k of kinds) {
    const schema = byKind[k];
    if (!schema) throw new Error(`OpenAPI: no schema written for gateway kind ${k}`);
    out[gatewaySchemaName(k, version)] = atVersion(k, schema, version);
    out[gatewaySchemaName(`${k}List`, version)] = {
      type: 'object',
      description: `A list of ${k} objects.`,
      properties: {
        apiVersion: str('The versioned schema of this list.'),
        kind: str(`${k}List`),
        items: arr(`The ${k} objects.`, ref(gatewaySchemaName(k, version))),
        metadata: { allOf: [ref(LIST_META)], description: 'Standard list metadata.' },
      },
      required: ['items'],
      'x-kubernetes-group-version-kind': [{ group: GATEWAY_API_GROUP, version, kind: `${k}List` }],
    };
  }
  return out;
}

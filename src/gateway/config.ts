// What one gateway proxy serves: an immutable description of its listening ports and, per port,
// the routing table in precedence order. The route model (Gateway API, model/) and the Ingress
// translation (ingress/) build it as a pure function of API objects; the proxy (proxy/) swaps
// the whole table in one assignment when a new one arrives, so a change never reloads anything.
//
// Every list here is already in the order the proxy must try it: the proxy never sorts.

/** Where an entry came from: shown by `flatnet gateway routes`, used as the metrics' route label. */
export interface RouteSource {
  kind: 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute' | 'Ingress';
  namespace: string;
  name: string;
  /** Index of the rule in the object (for an Ingress: the rule, then the path as `match`). */
  rule: number;
  /** Index of the match inside the rule (0 when the rule has none). */
  match: number;
  /** spec.rules[].name when the rule has one. */
  ruleName?: string;
}

export interface Endpoint {
  address: string;
  port: number;
}

/** One backendRef (or Ingress backend) with its share of the traffic. */
export interface WeightedBackend {
  weight: number;
  /** `namespace/name:port` of the Service, for logs and metrics. */
  name: string;
  /**
   * When set, this share of the traffic is answered 500 (an invalid reference: missing Service,
   * unknown kind, not permitted by a ReferenceGrant). The text says why (logged, not sent).
   */
  invalid?: string;
  /** How the proxy talks to the endpoints (appProtocol kubernetes.io/h2c -> h2c, kubernetes.io/ws -> ws). */
  protocol: 'http' | 'h2c' | 'ws' | 'https' | 'grpc';
  /** Ready endpoints (serving-and-not-terminating ones when none is ready); empty -> 503. */
  endpoints: Endpoint[];
  /** Filters that apply only when this backend is chosen (HTTPBackendRef.filters). */
  filters: HttpFilter[];
}

export interface HeaderMatch {
  type: 'Exact' | 'RegularExpression';
  /** Lower-case header name. */
  name: string;
  value: string;
}

export interface QueryParamMatch {
  type: 'Exact' | 'RegularExpression';
  /** Exact, case-sensitive parameter name. */
  name: string;
  value: string;
}

export interface HttpMatch {
  /**
   * PathPrefix matches whole path elements (`/v2` matches `/v2` and `/v2/x`, not `/v2x`).
   * RegularExpression is a JavaScript regular expression anchored at both ends by the proxy.
   */
  path: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string };
  /** Upper-case method, absent for any. */
  method?: string;
  /** ANDed. */
  headers: HeaderMatch[];
  /** ANDed. */
  queryParams: QueryParamMatch[];
}

export interface HeaderModifier {
  /** [name, value]: replaces every value of that header. */
  set: [string, string][];
  /** [name, value]: appends (joined with "," when the header is present). */
  add: [string, string][];
  /** Names to remove. */
  remove: string[];
}

export type PathModifier =
  | { type: 'ReplaceFullPath'; value: string }
  /** Replaces the part of the path that the entry's PathPrefix match matched. */
  | { type: 'ReplacePrefixMatch'; value: string }
  /** nginx rewrite-target: `pattern` (anchored at the start, as nginx does) applied to the path, `$1`.. in `replacement`. */
  | { type: 'RegexReplace'; pattern: string; replacement: string };

export interface CorsPolicy {
  /** Origins, `*`, or patterns with one leading `*.` label (`https://*.example.com`). */
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  allowCredentials: boolean;
  maxAgeSeconds?: number;
}

export type HttpFilter =
  | ({ type: 'RequestHeaderModifier' } & HeaderModifier)
  | ({ type: 'ResponseHeaderModifier' } & HeaderModifier)
  | {
      type: 'RequestRedirect';
      scheme?: 'http' | 'https';
      hostname?: string;
      /** Absent: the port of the request's listener unless the scheme changes (then the scheme's default). */
      port?: number;
      path?: PathModifier;
      /** 301, 302 (default), 303, 307 or 308. */
      statusCode: number;
    }
  | { type: 'URLRewrite'; hostname?: string; path?: PathModifier }
  | {
      type: 'RequestMirror';
      backend: WeightedBackend;
      /** 0-100; 100 when the route gave neither percent nor fraction. */
      percent: number;
    }
  | ({ type: 'CORS' } & CorsPolicy)
  /** Client source address ranges (nginx whitelist/denylist-source-range): a denied client gets 403. */
  | { type: 'SourceRange'; allow: string[]; deny: string[] };

export interface HttpRouteEntry {
  source: RouteSource;
  match: HttpMatch;
  /** Request-level filters in the order the route lists them. */
  filters: HttpFilter[];
  /**
   * Where the request goes, chosen by weight. Empty (and no RequestRedirect filter) -> 500, as
   * the spec says for a rule without backendRefs.
   */
  backends: WeightedBackend[];
  /** HTTPRoute timeouts.request / backendRequest (ms); absent or 0 = none. 504 when exceeded. */
  timeouts?: { requestMs?: number; backendRequestMs?: number; connectMs?: number };
  /** HTTPRoute retry: attempts after the first, on these status codes (and on connection errors). */
  retry?: { attempts: number; codes: number[]; backoffMs: number };
  /** nginx proxy-body-size: a larger request body gets 413. */
  maxBodyBytes?: number;
  /** nginx affinity=cookie: the chosen endpoint is pinned by this cookie. */
  affinityCookie?: { name: string; maxAgeSeconds?: number; path?: string };
}

/** Requests whose Host (port removed, lower-cased) matches `hostname` use `entries`. */
export interface VirtualHost {
  /** An exact name, a wildcard `*.example.com` (one or more labels, Gateway) , or `*` for any. */
  hostname: string;
  /** For Ingress wildcards, which cover exactly one label. */
  wildcardOneLabel?: boolean;
  /** Tried in order; the first entry whose match fits wins; none -> 404. */
  entries: HttpRouteEntry[];
}

export interface TlsCertificate {
  /** SNI names this certificate serves: exact, `*.suffix`, or `*` (the default for the port). */
  hostnames: string[];
  certPem: string;
  keyPem: string;
}

/** TLS passthrough (TLSRoute): connections whose SNI matches go to `backends` unterminated. */
export interface PassthroughRoute {
  source: RouteSource;
  hostnames: string[];
  backends: WeightedBackend[];
}

export interface HttpPortConfig {
  kind: 'http';
  port: number;
  /**
   * Present on ports that speak TLS: certificates chosen by SNI, and passthrough names.
   * `listenerHostnames` (Gateways): the hostnames of the port's HTTPS listeners, most specific
   * first (`*` for a listener without one); a request whose Host falls under another listener
   * than its SNI is answered 421 Misdirected Request.
   */
  tls?: { certificates: TlsCertificate[]; passthrough: PassthroughRoute[]; listenerHostnames?: string[] };
  /** Most specific first: exact names, then wildcards by length, then `*`. */
  hosts: VirtualHost[];
}

export interface TcpPortConfig {
  kind: 'tcp';
  port: number;
  source?: RouteSource;
  /** Chosen by weight per connection; none -> the connection is closed at once. */
  backends: WeightedBackend[];
}

export interface UdpPortConfig {
  kind: 'udp';
  port: number;
  source?: RouteSource;
  backends: WeightedBackend[];
}

export type PortConfig = HttpPortConfig | TcpPortConfig | UdpPortConfig;

export interface ProxyConfig {
  /** One entry per (port, protocol) the proxy listens on, ports ascending. */
  ports: PortConfig[];
}

// Ingresses -> the equivalent Gateway API objects (`flatnet ingress2gateway`): one Gateway per
// Ingress class per namespace (HTTP on 80, HTTPS on 443 per TLS host), HTTPRoutes per Ingress and
// host. The nginx annotations with a Gateway API equivalent are translated; every other one gets
// a comment saying so, so nothing is dropped silently. Pure: objects in, objects and comments out.
import { Document } from 'yaml';
import type { KubeObject } from '../../api/types.js';
import { asArray, asNumber, asRecord, asString, keyOf, nameOf, namespaceOf } from '../model/objects.js';
import { NGINX_ANNOTATION_PREFIX, parseIngressAnnotations, type IngressAnnotations } from './annotations.js';
import { ingressClassOf } from './classes.js';
import { ANY_HOST, normalizeIngressHost, tlsHostCovers } from './hosts.js';
import { hasRegexCharacters } from './regex.js';
import { ingressTlsEntries } from './tls.js';

export interface IngressToGatewayInput {
  ingresses: readonly KubeObject[];
  /** To turn a backend's named port into the number a backendRef needs. */
  services: readonly KubeObject[];
  /** spec.gatewayClassName of the Gateways. */
  gatewayClassName: string;
}

/** One object to print, with the comments that go above it. */
export interface TranslatedObject {
  object: KubeObject;
  comments: string[];
}

export interface GatewayTranslation {
  objects: TranslatedObject[];
  /** Things that could not be translated to any object (printed as comments first). */
  notes: string[];
}

interface RoutePlan extends TranslatedObject {
  host: string;
  /** The rules of a main route (mutated by canaries, written to spec.rules at the end). */
  rules?: RouteRule[];
}

const GATEWAY_API = 'gateway.networking.k8s.io/v1';
/** Annotations whose meaning the HTTPRoute carries (the rest get a comment). */
const TRANSLATED = new Set([
  'rewrite-target',
  'use-regex',
  'ssl-redirect',
  'force-ssl-redirect',
  'app-root',
  'permanent-redirect',
  'permanent-redirect-code',
  'temporal-redirect',
  'proxy-read-timeout',
  'enable-cors',
  'cors-allow-origin',
  'cors-allow-methods',
  'cors-allow-headers',
  'cors-expose-headers',
  'cors-allow-credentials',
  'cors-max-age',
  'canary',
  'canary-weight',
  'canary-weight-total',
  'canary-by-header',
  'canary-by-header-value',
  'canary-by-header-pattern',
  'upstream-vhost',
]);
const WHY_NOT: Record<string, string> = {
  'proxy-body-size': 'Gateway API has no request body limit',
  'proxy-connect-timeout': 'Gateway API timeouts have no connect timeout',
  'proxy-send-timeout': 'Gateway API timeouts have no send timeout',
  'whitelist-source-range': 'Gateway API has no client address filter',
  'allowlist-source-range': 'Gateway API has no client address filter',
  'denylist-source-range': 'Gateway API has no client address filter',
  affinity: 'cookie affinity is sessionPersistence, which is experimental in Gateway API',
  'session-cookie-name': 'see affinity',
  'session-cookie-max-age': 'see affinity',
  'session-cookie-path': 'see affinity',
  'backend-protocol': 'set appProtocol on the Service port (kubernetes.io/h2c, kubernetes.io/ws) or use a GRPCRoute / BackendTLSPolicy',
};

/** A DNS-label-safe form of a host name for object and listener names. */
export function hostSlug(host: string): string {
  if (host === ANY_HOST) return 'all-hosts';
  return host.replace(/^\*\./, 'wildcard.').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
}

interface ListenerSpec {
  name: string;
  hostname?: string;
  secretName: string;
}

interface GatewayPlan {
  namespace: string;
  name: string;
  className: string | undefined;
  listeners: ListenerSpec[];
  comments: string[];
}

interface ParsedIngress {
  ingress: KubeObject;
  ann: IngressAnnotations;
  problems: string[];
}

type Json = Record<string, unknown>;

function servicePort(services: Map<string, KubeObject>, namespace: string, backend: unknown, comments: string[]): Json | undefined {
  const svc = asRecord(asRecord(backend).service);
  const name = asString(svc.name);
  if (!name) {
    const res = asRecord(asRecord(backend).resource);
    comments.push(`backend ${asString(res.kind) ?? '?'}/${asString(res.name) ?? '?'} is not a Service: not translated`);
    return undefined;
  }
  const port = asRecord(svc.port);
  let number = asNumber(port.number);
  const portName = asString(port.name);
  if (number === undefined && portName !== undefined) {
    const found = asArray(asRecord(services.get(`${namespace}/${name}`)?.spec).ports).map(asRecord).find((p) => asString(p.name) === portName);
    number = found ? asNumber(found.port) : undefined;
    if (number === undefined) comments.push(`backend ${name} port "${portName}": the Service or its port was not found, so the backendRef has no port; set it`);
  }
  return { name, ...(number !== undefined ? { port: number } : {}) };
}

function pathMatch(path: string, pathType: string, regexMode: boolean): Json {
  const p = path || '/';
  if (pathType === 'Exact') return { type: 'Exact', value: p };
  if (regexMode && (pathType === 'ImplementationSpecific' || hasRegexCharacters(p))) return { type: 'RegularExpression', value: p };
  const trimmed = p.replace(/\/+$/, '');
  return { type: 'PathPrefix', value: trimmed === '' ? '/' : trimmed };
}

function corsFilter(ann: IngressAnnotations): Json | undefined {
  if (!ann.cors) return undefined;
  const c = ann.cors;
  return {
    type: 'CORS',
    cors: {
      allowOrigins: c.allowOrigins,
      allowMethods: c.allowMethods,
      allowHeaders: c.allowHeaders,
      ...(c.exposeHeaders.length > 0 ? { exposeHeaders: c.exposeHeaders } : {}),
      allowCredentials: c.allowCredentials,
      ...(c.maxAgeSeconds !== undefined ? { maxAge: c.maxAgeSeconds } : {}),
    },
  };
}

/** The filters and timeouts of a rule for one path of an Ingress. */
function ruleExtras(ann: IngressAnnotations, match: Json, comments: string[], where: string): { filters: Json[]; redirect: boolean; timeouts?: Json } {
  if (ann.redirect) {
    const r = ann.redirect;
    return {
      redirect: true,
      filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: r.scheme, hostname: r.hostname, ...(r.port ? { port: r.port } : {}), path: { type: 'ReplaceFullPath', replaceFullPath: r.path }, statusCode: r.statusCode } }],
    };
  }
  const filters: Json[] = [];
  const cors = corsFilter(ann);
  if (cors) filters.push(cors);
  const rewrite: Json = {};
  if (ann.rewriteTarget !== undefined) {
    if (ann.rewriteTarget.includes('$')) {
      comments.push(`${where}: rewrite-target ${ann.rewriteTarget} uses regex capture groups, which Gateway API cannot express (gateway-api#2177): not translated`);
    } else if (match.type === 'PathPrefix') {
      rewrite.path = { type: 'ReplacePrefixMatch', replacePrefixMatch: ann.rewriteTarget };
    } else if (match.type === 'Exact') {
      rewrite.path = { type: 'ReplaceFullPath', replaceFullPath: ann.rewriteTarget };
    } else {
      comments.push(`${where}: rewrite-target on a regular-expression path has no Gateway API equivalent: not translated`);
    }
  }
  if (ann.upstreamVhost) rewrite.hostname = ann.upstreamVhost;
  if (Object.keys(rewrite).length > 0) filters.push({ type: 'URLRewrite', urlRewrite: rewrite });
  const timeouts = ann.readTimeoutMs ? { backendRequest: `${ann.readTimeoutMs / 1000}s` } : undefined;
  return { filters, redirect: false, ...(timeouts ? { timeouts } : {}) };
}

function annotationComments(p: ParsedIngress): string[] {
  const out = [...p.problems];
  for (const key of Object.keys(p.ingress.metadata.annotations ?? {})) {
    if (!key.startsWith(NGINX_ANNOTATION_PREFIX)) continue;
    const name = key.slice(NGINX_ANNOTATION_PREFIX.length);
    if (TRANSLATED.has(name) || name.endsWith('-snippet')) continue;
    const why = WHY_NOT[name];
    if (why) out.push(`annotation ${key}: no Gateway API equivalent (${why}): not translated`);
  }
  if (p.ann.rewriteTarget !== undefined && !p.ann.rewriteTarget.includes('$')) {
    out.push(`rewrite-target ${p.ann.rewriteTarget}: nginx replaced the whole path; ReplacePrefixMatch replaces the matched prefix and keeps the rest`);
  }
  if (p.ann.connectTimeoutMs) out.push(`annotation ${NGINX_ANNOTATION_PREFIX}proxy-connect-timeout: no Gateway API equivalent: not translated`);
  return [...new Set(out)];
}

interface RouteRule {
  host: string;
  rawPath: string;
  rule: Json;
}

export function ingressesToGateway(input: IngressToGatewayInput): GatewayTranslation {
  const services = new Map(input.services.map((s) => [keyOf(s), s]));
  const parsed: ParsedIngress[] = [...input.ingresses]
    .sort((a, b) => ((a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : (a.metadata.creationTimestamp ?? '') > (b.metadata.creationTimestamp ?? '') ? 1 : keyOf(a) < keyOf(b) ? -1 : 1))
    .map((ingress) => {
      const problems: string[] = [];
      const ann = parseIngressAnnotations(ingress.metadata.annotations, (p) =>
        problems.push(p.reason === 'SnippetRefused' ? p.message.replace(/ was not executed.*$/, ': configuration snippets have no Gateway API equivalent and flatnet never runs them (IngressNightmare, CVE-2025-1974): not translated') : p.message),
      );
      return { ingress, ann, problems };
    });

  const gateways = new Map<string, GatewayPlan>();
  const gatewayOf = (ing: KubeObject): GatewayPlan => {
    const cls = ingressClassOf(ing);
    const name = cls ?? 'ingress';
    const key = `${namespaceOf(ing)}/${name}`;
    let g = gateways.get(key);
    if (!g) {
      g = { namespace: namespaceOf(ing), name, className: cls, listeners: [{ name: 'http', secretName: '' }], comments: [] };
      gateways.set(key, g);
    }
    return g;
  };

  // HTTPS listeners from every Ingress's tls (canaries included: ingress-nginx serves their TLS too).
  for (const p of parsed) {
    const g = gatewayOf(p.ingress);
    for (const t of ingressTlsEntries(p.ingress)) {
      if (!t.secretName) continue;
      for (const host of t.hosts.length > 0 ? t.hosts : [ANY_HOST]) {
        const hostname = host === ANY_HOST ? undefined : host;
        const existing = g.listeners.find((l) => l.secretName !== '' && l.hostname === hostname);
        if (existing) {
          if (existing.secretName !== t.secretName) g.comments.push(`listener ${existing.name}: Ingress ${keyOf(p.ingress)} names Secret ${t.secretName}, but ${existing.secretName} is already used for ${host}`);
          continue;
        }
        const base = hostname === undefined ? 'https' : `https-${hostSlug(host)}`;
        let name = base;
        for (let n = 2; g.listeners.some((l) => l.name === name); n++) name = `${base}-${n}`;
        g.listeners.push({ name, ...(hostname !== undefined ? { hostname } : {}), secretName: t.secretName });
      }
    }
  }

  const out: TranslatedObject[] = [];
  const notes: string[] = [];
  const routes: RoutePlan[] = [];
  const mains = parsed.filter((p) => !p.ann.canary);

  for (const p of mains) {
    const ing = p.ingress;
    const ns = namespaceOf(ing);
    const g = gatewayOf(ing);
    const comments = annotationComments(p);
    const regexMode = p.ann.useRegex || p.ann.rewriteTarget !== undefined;
    const byHost = new Map<string, RouteRule[]>();
    const rulesOf = (host: string) => {
      let l = byHost.get(host);
      if (!l) byHost.set(host, (l = []));
      return l;
    };
    asArray(asRecord(ing.spec).rules).forEach((r, ri) => {
      const host = normalizeIngressHost(asString(asRecord(r).host));
      const list = rulesOf(host);
      asArray(asRecord(asRecord(r).http).paths).forEach((x, pi) => {
        const path = asRecord(x);
        const rawPath = asString(path.path) ?? '/';
        const where = `spec.rules[${ri}].http.paths[${pi}] ${rawPath}`;
        const match = pathMatch(rawPath, asString(path.pathType) ?? 'Prefix', regexMode);
        if (match.type === 'RegularExpression') comments.push(`${where}: nginx matched this regular expression case-insensitively from the start of the path; RegularExpression semantics are implementation-specific`);
        const extras = ruleExtras(p.ann, match, comments, where);
        const ref = extras.redirect ? undefined : servicePort(services, ns, path.backend, comments);
        list.push({
          host,
          rawPath,
          rule: {
            matches: [{ path: match }],
            ...(extras.filters.length > 0 ? { filters: extras.filters } : {}),
            ...(ref ? { backendRefs: [ref] } : {}),
            ...(extras.timeouts ? { timeouts: extras.timeouts } : {}),
          },
        });
      });
    });
    const defaultBackend = asRecord(ing.spec).defaultBackend;
    if (defaultBackend !== undefined) {
      if (byHost.size === 0) rulesOf(ANY_HOST);
      for (const [host, list] of byHost) {
        const match = { type: 'PathPrefix', value: '/' };
        const extras = ruleExtras({ ...p.ann, rewriteTarget: undefined }, match, comments, 'spec.defaultBackend');
        const ref = extras.redirect ? undefined : servicePort(services, ns, defaultBackend, comments);
        list.push({ host, rawPath: '', rule: { matches: [{ path: match }], ...(extras.filters.length > 0 ? { filters: extras.filters } : {}), ...(ref ? { backendRefs: [ref] } : {}) } });
      }
    }
    if (p.ann.appRoot) {
      for (const list of byHost.values()) {
        list.unshift({ host: '', rawPath: '', rule: { matches: [{ path: { type: 'Exact', value: '/' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: p.ann.appRoot }, statusCode: 302 } }] } });
      }
    }

    const single = byHost.size === 1;
    for (const [host, rules] of byHost) {
      const routeName = single ? nameOf(ing) : `${nameOf(ing)}-${hostSlug(host)}`;
      const https = g.listeners.filter((l) => l.secretName !== '' && (l.hostname === undefined || tlsHostCovers(l.hostname, host)));
      const wantsRedirect = p.ann.forceSslRedirect || (https.length > 0 && p.ann.sslRedirect !== false);
      const routeComments = [`from Ingress ${keyOf(ing)}${host === ANY_HOST ? '' : ` host ${host}`}`, ...comments];
      let parents: Json[];
      if (https.length > 0) {
        parents = https.map((l) => ({ name: g.name, sectionName: l.name }));
        if (!wantsRedirect) parents.unshift({ name: g.name, sectionName: 'http' });
      } else {
        parents = [{ name: g.name, sectionName: 'http' }];
        if (p.ann.forceSslRedirect) routeComments.push('force-ssl-redirect: this host has no TLS in any Ingress, so the Gateway has no HTTPS listener for it; the route stays on HTTP');
      }
      if (rules.length > 16) routeComments.push(`this route has ${rules.length} rules; Gateway API allows at most 16 per HTTPRoute: split it`);
      const hostnames = host === ANY_HOST ? {} : { hostnames: [host] };
      const route: KubeObject = {
        apiVersion: GATEWAY_API,
        kind: 'HTTPRoute',
        metadata: { name: routeName, namespace: ns },
        spec: { parentRefs: parents, ...hostnames, rules: [] },
      };
      routes.push({ object: route, comments: routeComments, host, rules });
      if (https.length > 0 && wantsRedirect) {
        routes.push({
          object: {
            apiVersion: GATEWAY_API,
            kind: 'HTTPRoute',
            metadata: { name: `${routeName}-https-redirect`, namespace: ns },
            spec: { parentRefs: [{ name: g.name, sectionName: 'http' }], ...hostnames, rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 308 } }] }] },
          },
          comments: [`from Ingress ${keyOf(ing)}: ssl-redirect (HTTP answers 308 to HTTPS)`],
          host,
        });
      }
    }
  }

  // Canaries: weights on the main rule's backendRefs, header matches as rules of their own.
  for (const p of parsed.filter((x) => x.ann.canary)) {
    const c = p.ann.canary!;
    const ns = namespaceOf(p.ingress);
    asArray(asRecord(p.ingress.spec).rules).forEach((r) => {
      const host = normalizeIngressHost(asString(asRecord(r).host));
      asArray(asRecord(asRecord(r).http).paths).forEach((x) => {
        const path = asRecord(x);
        const rawPath = asString(path.path) ?? '/';
        const isMain = (m: RouteRule) => m.rawPath === rawPath && Array.isArray(m.rule.backendRefs);
        const target = routes.find((t) => t.rules && t.host === host && namespaceOf(t.object) === ns && t.rules.some(isMain));
        const main = target?.rules!.find(isMain);
        if (!target || !main) {
          notes.push(`canary Ingress ${keyOf(p.ingress)}: ${host} ${rawPath} matches no path of a main Ingress: not translated`);
          return;
        }
        const canaryRef = servicePort(services, ns, path.backend, target.comments);
        if (!canaryRef) return;
        const mainRefs = main.rule.backendRefs as Json[];
        if (c.weight > 0) main.rule.backendRefs = [...mainRefs.map((m) => ({ ...m, weight: c.weightTotal - c.weight })), { ...canaryRef, weight: c.weight }];
        if (c.header) {
          const headerRule = (value: string, type: string, refs: Json[]): RouteRule => ({
            host,
            rawPath: '',
            rule: { ...structuredClone(main.rule), matches: (main.rule.matches as Json[]).map((m) => ({ ...m, headers: [{ type, name: c.header, value }] })), backendRefs: refs },
          });
          const rules = target.rules!;
          const idx = rules.indexOf(main);
          if (c.headerValue !== undefined) rules.splice(idx, 0, headerRule(c.headerValue, 'Exact', [canaryRef]));
          else if (c.headerPattern !== undefined) rules.splice(idx, 0, headerRule(c.headerPattern, 'RegularExpression', [canaryRef]));
          else rules.splice(idx, 0, headerRule('always', 'Exact', [canaryRef]), headerRule('never', 'Exact', mainRefs));
        }
        target.comments.push(`canary Ingress ${keyOf(p.ingress)} merged into ${rawPath}${c.weight > 0 ? ` (weight ${c.weight}/${c.weightTotal})` : ''}${c.header ? ` (header ${c.header})` : ''}`);
      });
    });
  }
  for (const t of routes) if (t.rules) asRecord(t.object.spec).rules = t.rules.map((r) => r.rule);

  for (const g of [...gateways.values()].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))) {
    out.push({
      object: {
        apiVersion: GATEWAY_API,
        kind: 'Gateway',
        metadata: { name: g.name, namespace: g.namespace },
        spec: {
          gatewayClassName: input.gatewayClassName,
          listeners: g.listeners.map((l) =>
            l.secretName === ''
              ? { name: l.name, protocol: 'HTTP', port: 80 }
              : { name: l.name, protocol: 'HTTPS', port: 443, ...(l.hostname ? { hostname: l.hostname } : {}), tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: l.secretName }] } },
          ),
        },
      },
      comments: [`Ingress class ${g.className ?? '(none)'} in namespace ${g.namespace}`, ...g.comments],
    });
  }
  const objects = [...out, ...routes.map(({ object, comments }) => ({ object, comments }))];
  return { objects, notes };
}

/** Multi-document YAML, each object with its comments above it; the notes open the stream. */
export function renderGatewayYaml(t: GatewayTranslation, header: string[] = []): string {
  const docs: string[] = [];
  for (const [i, o] of t.objects.entries()) {
    const lines = i === 0 ? [...header, ...t.notes, ...(header.length + t.notes.length > 0 ? [''] : []), ...o.comments] : o.comments;
    const doc = new Document(o.object);
    const comment = lines.map((c) => (c === '' ? '' : ` ${c.replace(/\n/g, ' ')}`)).join('\n');
    if (comment) doc.commentBefore = comment;
    docs.push(doc.toString({ lineWidth: 0 }));
  }
  if (docs.length === 0) return [...header, ...t.notes].map((c) => `# ${c}\n`).join('');
  return docs.join('---\n');
}

// computeIngressState: the served Ingresses (with their Services, EndpointSlices and TLS Secrets)
// -> the ingress proxy's ProxyConfig, each Ingress's status and Warning events. Pure.
//
// Per host, the paths of every Ingress naming it are merged and ordered as nginx tries them:
// longest path first, Exact before Prefix before regex at equal length, a canary's header entry
// before the main entry it shadows, then the oldest Ingress, then rule and path order. A host's
// unmatched paths go to a default backend (its own Ingress's, else the cluster-wide one), else 404.
import type { KubeObject } from '../../api/types.js';
import type { HttpPortConfig, HttpRouteEntry, PortConfig, RouteSource, TlsCertificate, VirtualHost, WeightedBackend } from '../config.js';
import type { ModelEvent } from '../model/types.js';
import { asArray, asRecord, asString, createdOf, keyOf, nameOf, namespaceOf } from '../model/objects.js';
import { parseIngressAnnotations, type IngressAnnotations } from './annotations.js';
import { BackendIndex, resolveIngressBackend } from './backends.js';
import { isServedIngress, servedClassNames } from './classes.js';
import { appRootEntry, ingressEntry, prefixMatch, sslRedirectEntry } from './entries.js';
import { ANY_HOST, compareHosts, isWildcardHost, normalizeIngressHost, tlsHostCovers } from './hosts.js';
import { ingressPathMatch } from './paths.js';
import { SecretIndex, ingressTlsEntries, tlsCertificate } from './tls.js';
import type { IngressState, IngressWorld } from './types.js';

interface ServedIngress {
  ingress: KubeObject;
  order: number;
  ann: IngressAnnotations;
  warn(reason: string, message: string): void;
}

interface IngressPath {
  host: string;
  rule: number;
  path: number;
  rawPath: string;
  pathType: string;
  backend: unknown;
}

/** An entry of a host with its sort key. */
interface Item {
  entry: HttpRouteEntry;
  owner: ServedIngress;
  rawPath?: string;
  length: number;
  rank: number;
  /** 0 for a canary's header entry, 1 otherwise: shadows the main entry of the same path. */
  headerRank: number;
  rule: number;
  path: number;
  sub: number;
  canaryMerged?: boolean;
}

function byAge(a: KubeObject, b: KubeObject): number {
  const ta = createdOf(a);
  const tb = createdOf(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function compareItems(a: Item, b: Item): number {
  return b.length - a.length || a.rank - b.rank || a.headerRank - b.headerRank || a.owner.order - b.owner.order || a.rule - b.rule || a.path - b.path || a.sub - b.sub;
}

function ingressPaths(ingress: KubeObject): IngressPath[] {
  const out: IngressPath[] = [];
  asArray(asRecord(ingress.spec).rules).forEach((r, ri) => {
    const rule = asRecord(r);
    const host = normalizeIngressHost(asString(rule.host));
    asArray(asRecord(rule.http).paths).forEach((p, pi) => {
      const path = asRecord(p);
      out.push({ host, rule: ri, path: pi, rawPath: asString(path.path) ?? '/', pathType: asString(path.pathType) ?? '', backend: path.backend });
    });
  });
  return out;
}

/** Hosts named by an Ingress's rules (`*` for a rule without host), in rule order. */
function ruleHosts(ingress: KubeObject): string[] {
  const hosts = asArray(asRecord(ingress.spec).rules).map((r) => normalizeIngressHost(asString(asRecord(r).host)));
  return [...new Set(hosts)];
}

function source(ingress: KubeObject, rule: number, match: number): RouteSource {
  return { kind: 'Ingress', namespace: namespaceOf(ingress), name: nameOf(ingress), rule, match };
}

export function computeIngressState(world: IngressWorld): IngressState {
  const events: ModelEvent[] = [];
  const statuses = new Map<string, { ip: string }[]>();
  const classes = servedClassNames(world.ingressClasses);
  const backends = new BackendIndex(world.services, world.endpointSlices);
  const secrets = new SecretIndex(world.secrets);

  const served: ServedIngress[] = world.ingresses
    .filter((i) => isServedIngress(i, classes))
    .sort(byAge)
    .map((ingress, order) => {
      const warn = (reason: string, message: string) => events.push({ kind: 'Ingress', namespace: namespaceOf(ingress), name: nameOf(ingress), reason, message });
      const ann = parseIngressAnnotations(ingress.metadata.annotations, (p) => warn(p.reason, p.message));
      statuses.set(keyOf(ingress), world.addresses.map((ip) => ({ ip })));
      return { ingress, order, ann, warn };
    });
  const mains = served.filter((s) => !s.ann.canary);
  const canaries = served.filter((s) => s.ann.canary);

  const resolve = (owner: ServedIngress, backend: unknown, weight = 1): WeightedBackend => {
    const r = resolveIngressBackend(backends, namespaceOf(owner.ingress), backend, owner.ann.backendProtocol, weight);
    if (r.problem) owner.warn('BackendNotFound', r.problem);
    return r.backend;
  };

  // TLS: certificates, and the host patterns that have TLS (their HTTP port redirects to https).
  const certificates: TlsCertificate[] = [];
  const tlsPatterns: string[] = [];
  let anyTls = false;
  for (const s of mains) {
    for (const entry of ingressTlsEntries(s.ingress)) {
      anyTls = true;
      tlsPatterns.push(...(entry.hosts.length > 0 ? entry.hosts : ruleHosts(s.ingress).concat(asRecord(s.ingress.spec).defaultBackend ? [ANY_HOST] : [])));
      const cert = tlsCertificate(secrets, s.ingress, entry);
      if (cert instanceof Error) s.warn('InvalidTLSSecret', `${cert.message}; ${entry.hosts.join(', ') || 'its hosts'} served without this certificate`);
      else certificates.push(cert);
    }
  }
  const hasTls = (host: string) => tlsPatterns.some((t) => tlsHostCovers(t, host));

  const hosts = new Map<string, Item[]>();
  const itemsOf = (host: string) => {
    let list = hosts.get(host);
    if (!list) hosts.set(host, (list = []));
    return list;
  };

  for (const s of mains) {
    try {
      const regexMode = s.ann.useRegex || s.ann.rewriteTarget !== undefined;
      for (const p of ingressPaths(s.ingress)) {
        let pm;
        try {
          pm = ingressPathMatch(p.rawPath, p.pathType, regexMode);
        } catch (err) {
          s.warn('InvalidPath', `spec.rules[${p.rule}].http.paths[${p.path}]: ${(err as Error).message}; this path is not served`);
          continue;
        }
        const entry = ingressEntry(source(s.ingress, p.rule, p.path), pm.match, s.ann, s.ann.redirect ? [] : [resolve(s, p.backend)], p.rawPath);
        itemsOf(p.host).push({ entry, owner: s, rawPath: p.rawPath, length: pm.length, rank: pm.rank, headerRank: 1, rule: p.rule, path: p.path, sub: 0 });
      }
      if (s.ann.appRoot) {
        const ruleList = asArray(asRecord(s.ingress.spec).rules);
        for (const host of ruleHosts(s.ingress)) {
          const ri = ruleList.findIndex((r) => normalizeIngressHost(asString(asRecord(r).host)) === host);
          itemsOf(host).push({ entry: appRootEntry(source(s.ingress, ri, 0), s.ann.appRoot), owner: s, length: 1, rank: 0, headerRank: 1, rule: ri, path: -1, sub: 0 });
        }
      }
    } catch (err) {
      s.warn('InternalError', `this Ingress could not be translated: ${(err as Error).message}`);
    }
  }

  // Canaries merge into the main entry of the same host and path.
  for (const c of canaries) {
    const canary = c.ann.canary!;
    for (const p of ingressPaths(c.ingress)) {
      const items = hosts.get(p.host) ?? [];
      const main = items.find((i) => i.rawPath === p.rawPath && i.headerRank === 1 && i.entry.backends.length > 0 && i.owner.ann.canary === undefined);
      const where = `${p.host === ANY_HOST ? '(any host)' : p.host} ${p.rawPath}`;
      if (!main) {
        c.warn('CanaryWithoutMain', `canary path ${where} matches no path of a main (non-canary) Ingress; it is not served`);
        continue;
      }
      if (main.canaryMerged) {
        c.warn('CanaryConflict', `${where} already has a canary (from an older Ingress); this one is not served`);
        continue;
      }
      main.canaryMerged = true;
      const canaryBackend = resolve(c, p.backend);
      const mainBackends = main.entry.backends.map((b) => ({ ...b, filters: [...b.filters] }));
      if (canary.weight > 0) {
        main.entry.backends = [...mainBackends.map((b) => ({ ...b, weight: canary.weightTotal - canary.weight })), { ...canaryBackend, weight: canary.weight }];
      }
      if (canary.header) {
        const variants: { headers: HttpRouteEntry['match']['headers']; backends: WeightedBackend[] }[] = [];
        if (canary.headerValue !== undefined) variants.push({ headers: [{ type: 'Exact', name: canary.header, value: canary.headerValue }], backends: [canaryBackend] });
        else if (canary.headerPattern !== undefined) variants.push({ headers: [{ type: 'RegularExpression', name: canary.header, value: canary.headerPattern }], backends: [canaryBackend] });
        else {
          variants.push({ headers: [{ type: 'Exact', name: canary.header, value: 'always' }], backends: [canaryBackend] });
          variants.push({ headers: [{ type: 'Exact', name: canary.header, value: 'never' }], backends: mainBackends });
        }
        variants.forEach((v, k) => {
          const entry: HttpRouteEntry = {
            ...structuredClone(main.entry),
            source: source(c.ingress, p.rule, p.path),
            match: { ...main.entry.match, headers: [...main.entry.match.headers, ...v.headers] },
            backends: v.backends,
          };
          items.push({ ...main, entry, headerRank: 0, sub: k, canaryMerged: true });
        });
      }
    }
  }

  // Default backends: per host the oldest Ingress with rules for it and a defaultBackend, else the
  // cluster-wide default for every host (and for hosts no rule names).
  const defaultEntry = (s: ServedIngress) => {
    const entry = ingressEntry(source(s.ingress, -1, 0), prefixMatch('/'), s.ann, s.ann.redirect ? [] : [resolve(s, asRecord(s.ingress.spec).defaultBackend)], undefined);
    return { entry, owner: s, length: 0, rank: 9, headerRank: 1, rule: -1, path: 0, sub: 0 } satisfies Item;
  };
  // A catch-all Ingress (a defaultBackend and no rules) is preferred for the cluster-wide default.
  const withDefault = mains.filter((s) => asRecord(s.ingress.spec).defaultBackend !== undefined);
  const catchAll = withDefault.filter((s) => ruleHosts(s.ingress).length === 0);
  const globalOwner = catchAll[0] ?? withDefault[0];
  const globalDefault = globalOwner ? defaultEntry(globalOwner) : undefined;
  for (const s of catchAll.slice(1)) {
    s.warn('DefaultBackendIgnored', `spec.defaultBackend is ignored: the older Ingress ${keyOf(globalOwner!.ingress)} already sets the default backend`);
  }
  if (globalDefault) itemsOf(ANY_HOST);
  for (const s of withDefault) for (const h of ruleHosts(s.ingress)) itemsOf(h);

  const hostNames = [...hosts.keys()].sort(compareHosts);
  const httpHosts: VirtualHost[] = [];
  const httpsHosts: VirtualHost[] = [];
  for (const host of hostNames) {
    const items = hosts.get(host)!.sort(compareItems);
    const own = withDefault.find((s) => ruleHosts(s.ingress).includes(host));
    const fallback = own ? defaultEntry(own) : globalDefault;
    if (fallback) items.push(fallback);
    const wildcard = isWildcardHost(host) ? { wildcardOneLabel: true } : {};
    const tls = hasTls(host);
    httpHosts.push({
      hostname: host,
      ...wildcard,
      entries: items.map((i) => {
        const redirect = i.owner.ann.forceSslRedirect || (tls && i.owner.ann.sslRedirect !== false);
        const isRedirect = i.entry.filters.some((f) => f.type === 'RequestRedirect');
        return redirect && !isRedirect ? sslRedirectEntry(i.entry) : i.entry;
      }),
    });
    if (tls) httpsHosts.push({ hostname: host, ...wildcard, entries: items.map((i) => structuredClone(i.entry)) });
  }

  const ports: PortConfig[] = [{ kind: 'http', port: 80, hosts: httpHosts }];
  if (anyTls) {
    const https: HttpPortConfig = { kind: 'http', port: 443, tls: { certificates, passthrough: [] }, hosts: httpsHosts };
    ports.push(https);
  }
  const seen = new Set<string>();
  const unique = events.filter((e) => {
    const k = JSON.stringify([e.namespace, e.name, e.reason, e.message]);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { config: { ports }, statuses, events: unique };
}

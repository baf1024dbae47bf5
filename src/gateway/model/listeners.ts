// Gateway listeners: protocol, TLS mode and certificates, allowed route kinds and namespaces,
// and conflicts between listeners that share a port. The result says for each listener what its
// status conditions are and whether the proxy serves it.
import type { KubeObject } from '../../api/types.js';
import type { LabelSelector } from '../../api/label-selector.js';
import { resolveCertificateRefs, type CertificatePair } from './certificates.js';
import { condition, type Problem } from './conditions.js';
import { GATEWAY_GROUP, asArray, asNumber, asRecord, asString, nameOf, namespaceOf, specOf } from './objects.js';
import type { ReferenceGrantIndex } from './referencegrant.js';
import type { Condition, ListenerStatus } from './types.js';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

const KINDS_BY_PROTOCOL: Record<ListenerProtocol, RouteKind[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

export interface ListenerModel {
  name: string;
  port: number;
  protocol: ListenerProtocol | string;
  /** Absent: any hostname. */
  hostname?: string;
  supportedKinds: RouteKind[];
  namespaces: { from: 'Same' | 'All' | 'Selector' | 'None'; selector?: LabelSelector };
  certificates: CertificatePair[];
  /** Accepted=False reason, if any. */
  notAccepted?: Problem;
  /** ResolvedRefs=False reason, if any. */
  unresolved?: Problem;
  /** Conflicted=True reason, if any. */
  conflicted?: Problem;
  /** Routes (Kind/ns/name) attached and Accepted on this listener. */
  attachedRoutes: Set<string>;
}

/** Whether the proxy serves this listener. */
export function listenerServes(l: ListenerModel): boolean {
  return !l.notAccepted && !l.conflicted && l.supportedKinds.length > 0 && (!l.unresolved || l.unresolved.reason === 'InvalidRouteKinds');
}

export function isKnownProtocol(p: string): p is ListenerProtocol {
  return Object.prototype.hasOwnProperty.call(KINDS_BY_PROTOCOL, p);
}

/** Builds the listeners of one Gateway, conflicts included. */
export function buildListeners(
  gateway: KubeObject,
  secrets: Map<string, KubeObject>,
  grants: ReferenceGrantIndex,
): ListenerModel[] {
  const gw = { namespace: namespaceOf(gateway), name: nameOf(gateway) };
  const out: ListenerModel[] = [];
  for (const [i, raw] of asArray(specOf(gateway).listeners).entries()) {
    const l = asRecord(raw);
    const protocol = asString(l.protocol) ?? '';
    const hostname = asString(l.hostname)?.toLowerCase() || undefined;
    const model: ListenerModel = {
      name: asString(l.name) ?? `listener-${i}`,
      port: asNumber(l.port) ?? 0,
      protocol,
      hostname,
      supportedKinds: [],
      namespaces: { from: 'Same' },
      certificates: [],
      attachedRoutes: new Set(),
    };
    out.push(model);
    if (!isKnownProtocol(protocol)) {
      model.notAccepted = { reason: 'UnsupportedProtocol', message: `protocol ${JSON.stringify(protocol)} is not supported (HTTP, HTTPS, TLS, TCP, UDP)` };
      continue;
    }
    if (model.port < 1 || model.port > 65535) {
      model.notAccepted = { reason: 'UnsupportedValue', message: `port ${String(l.port)} is not in 1-65535` };
    }
    // Route kinds.
    const allowed = asRecord(l.allowedRoutes);
    const kinds = asArray(allowed.kinds);
    const defaults = KINDS_BY_PROTOCOL[protocol];
    if (kinds.length === 0) {
      model.supportedKinds = [...defaults];
    } else {
      const bad: string[] = [];
      for (const k of kinds) {
        const r = asRecord(k);
        const group = asString(r.group) ?? GATEWAY_GROUP;
        const kind = asString(r.kind) ?? '';
        if (group === GATEWAY_GROUP && (defaults as string[]).includes(kind)) {
          if (!model.supportedKinds.includes(kind as RouteKind)) model.supportedKinds.push(kind as RouteKind);
        } else bad.push(`${group}/${kind}`);
      }
      if (bad.length > 0) {
        model.unresolved = { reason: 'InvalidRouteKinds', message: `route kinds ${bad.join(', ')} are not supported on a ${protocol} listener (supported: ${defaults.join(', ')})` };
      }
    }
    // Namespaces.
    const ns = asRecord(allowed.namespaces);
    const from = asString(ns.from) ?? 'Same';
    if (from === 'Same' || from === 'All' || from === 'None') model.namespaces = { from };
    else if (from === 'Selector') model.namespaces = { from, selector: asRecord(ns.selector) as LabelSelector };
    else model.notAccepted ??= { reason: 'UnsupportedValue', message: `allowedRoutes.namespaces.from ${JSON.stringify(from)} is not Same, All, Selector or None` };
    // TLS.
    const tls = l.tls === undefined || l.tls === null ? undefined : asRecord(l.tls);
    const mode = asString(tls?.mode) ?? 'Terminate';
    if (protocol === 'HTTPS') {
      if (mode !== 'Terminate') {
        model.notAccepted ??= { reason: 'UnsupportedValue', message: `HTTPS listeners terminate TLS; tls.mode ${mode} is not allowed` };
      } else {
        const res = resolveCertificateRefs(gw, asArray(tls?.certificateRefs), secrets, grants);
        model.certificates = res.pairs;
        if (res.problem) model.unresolved = res.problem;
      }
    } else if (protocol === 'TLS') {
      if (!tls || mode !== 'Passthrough') {
        model.notAccepted ??= { reason: 'UnsupportedValue', message: 'TLS listeners support tls.mode Passthrough only (terminate TLS with an HTTPS listener)' };
      }
    }
  }
  markConflicts(out);
  return out;
}

/** The protocol family sharing one TCP port: HTTP alone, HTTPS with TLS (told apart by SNI), TCP alone. */
function family(protocol: ListenerProtocol): string {
  return protocol === 'HTTP' ? 'http' : protocol === 'HTTPS' || protocol === 'TLS' ? 'tls' : protocol === 'TCP' ? 'tcp' : 'udp';
}

function markConflicts(listeners: ListenerModel[]): void {
  const byPort = new Map<string, ListenerModel[]>();
  for (const l of listeners) {
    if (!isKnownProtocol(l.protocol)) continue;
    const transport = l.protocol === 'UDP' ? 'udp' : 'tcp';
    const key = `${l.port}/${transport}`;
    const list = byPort.get(key);
    if (list) list.push(l);
    else byPort.set(key, [l]);
  }
  for (const group of byPort.values()) {
    if (group.length < 2) continue;
    const families = new Set(group.map((l) => family(l.protocol as ListenerProtocol)));
    if (families.size > 1) {
      for (const l of group) {
        l.conflicted = { reason: 'ProtocolConflict', message: `port ${l.port} is used by listeners of incompatible protocols (${group.map((o) => `${o.name}:${o.protocol}`).join(', ')})` };
      }
      continue;
    }
    const byHost = new Map<string, ListenerModel[]>();
    for (const l of group) {
      const h = l.protocol === 'TCP' || l.protocol === 'UDP' ? '' : (l.hostname ?? '');
      const list = byHost.get(h);
      if (list) list.push(l);
      else byHost.set(h, [l]);
    }
    for (const [h, same] of byHost) {
      if (same.length < 2) continue;
      for (const l of same) {
        l.conflicted = { reason: 'HostnameConflict', message: `listeners ${same.map((o) => o.name).join(', ')} share port ${l.port} and hostname ${JSON.stringify(h || '*')}` };
      }
    }
  }
}

/** The listener's status (conditions in a stable order: Accepted, ResolvedRefs, Programmed, Conflicted). */
export function listenerStatus(l: ListenerModel, gen: number): ListenerStatus {
  const conditions: Condition[] = [];
  const notAccepted = l.notAccepted ?? l.conflicted;
  conditions.push(
    notAccepted
      ? condition('Accepted', false, notAccepted.reason, notAccepted.message, gen)
      : condition('Accepted', true, 'Accepted', 'listener accepted', gen),
  );
  conditions.push(
    l.unresolved
      ? condition('ResolvedRefs', false, l.unresolved.reason, l.unresolved.message, gen)
      : condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved', gen),
  );
  const serves = listenerServes(l);
  conditions.push(
    serves
      ? condition('Programmed', true, 'Programmed', 'listener programmed', gen)
      : condition('Programmed', false, 'Invalid', (notAccepted ?? l.unresolved ?? { message: 'no supported route kinds' }).message, gen),
  );
  conditions.push(
    l.conflicted
      ? condition('Conflicted', true, l.conflicted.reason, l.conflicted.message, gen)
      : condition('Conflicted', false, 'NoConflicts', 'no conflicts', gen),
  );
  return {
    name: l.name,
    supportedKinds: l.supportedKinds.map((kind) => ({ group: GATEWAY_GROUP, kind })),
    attachedRoutes: l.attachedRoutes.size,
    conditions,
  };
}

// Route -> Gateway attachment through one parentRef: sectionName and port pick the candidate
// listeners; a listener takes the route when it allows the route's kind and namespace and, for
// hostname-carrying routes, when their hostnames intersect. Attachment does not depend on the
// listener being valid (attachedRoutes counts routes on listeners that are not Accepted).
import { labelSelectorMatches, type Labels } from '../../api/label-selector.js';
import type { Problem } from './conditions.js';
import { intersectHostname } from './hostnames.js';
import type { ListenerModel, RouteKind } from './listeners.js';
import { GATEWAY_GROUP, asNumber, asRecord, asString } from './objects.js';
import type { ParentRef } from './types.js';

export interface Attachment {
  listener: ListenerModel;
  /** The hostnames this route serves on the listener (intersections; `*` for any). */
  hostnames: string[];
}

export interface ParentRefView {
  /** As the route wrote it, with group and kind defaults filled in. */
  echo: ParentRef;
  gatewayKey: string;
  sectionName?: string;
  port?: number;
}

/** The parentRef if it names a Gateway (group and kind defaulted), else undefined. */
export function gatewayParentRef(raw: unknown, routeNamespace: string): ParentRefView | undefined {
  const r = asRecord(raw);
  const group = asString(r.group) ?? GATEWAY_GROUP;
  const kind = asString(r.kind) ?? 'Gateway';
  const name = asString(r.name);
  if (group !== GATEWAY_GROUP || kind !== 'Gateway' || !name) return undefined;
  const namespace = asString(r.namespace);
  const sectionName = asString(r.sectionName);
  const port = asNumber(r.port);
  const echo: ParentRef = { group, kind, name };
  if (namespace !== undefined) echo.namespace = namespace;
  if (sectionName !== undefined) echo.sectionName = sectionName;
  if (port !== undefined) echo.port = port;
  return { echo, gatewayKey: `${namespace ?? routeNamespace}/${name}`, sectionName, port };
}

export interface AttachInput {
  kind: RouteKind;
  routeNamespace: string;
  /** spec.hostnames (lower-cased); empty for none or for TCP/UDP routes. */
  hostnames: string[];
  gatewayNamespace: string;
  listeners: ListenerModel[];
  namespaceLabels: (ns: string) => Labels;
}

export function attachRoute(input: AttachInput, ref: ParentRefView): { attachments: Attachment[]; problem?: Problem } {
  const candidates = input.listeners.filter(
    (l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port),
  );
  if (candidates.length === 0) {
    const what = [ref.sectionName !== undefined ? `sectionName ${ref.sectionName}` : '', ref.port !== undefined ? `port ${ref.port}` : '']
      .filter(Boolean)
      .join(' and ');
    return { attachments: [], problem: { reason: 'NoMatchingParent', message: `Gateway ${ref.gatewayKey} has no listener with ${what || 'any name'}` } };
  }
  const attachments: Attachment[] = [];
  let allowedSomewhere = false;
  for (const l of candidates) {
    if (!l.supportedKinds.includes(input.kind) || !namespaceAllowed(l, input)) continue;
    allowedSomewhere = true;
    const hostnames = intersectAll(l.hostname, input.hostnames, input.kind);
    if (hostnames.length > 0) attachments.push({ listener: l, hostnames });
  }
  if (attachments.length > 0) return { attachments };
  if (!allowedSomewhere) {
    return { attachments, problem: { reason: 'NotAllowedByListeners', message: `no listener of Gateway ${ref.gatewayKey} allows ${input.kind}s from namespace ${input.routeNamespace}` } };
  }
  return {
    attachments,
    problem: { reason: 'NoMatchingListenerHostname', message: `no hostname of the route intersects a listener hostname of Gateway ${ref.gatewayKey}` },
  };
}

function namespaceAllowed(l: ListenerModel, input: AttachInput): boolean {
  switch (l.namespaces.from) {
    case 'All':
      return true;
    case 'Same':
      return input.routeNamespace === input.gatewayNamespace;
    case 'Selector':
      return labelSelectorMatches(l.namespaces.selector ?? {}, input.namespaceLabels(input.routeNamespace));
    default:
      return false;
  }
}

function intersectAll(listenerHost: string | undefined, routeHosts: string[], kind: RouteKind): string[] {
  if (kind === 'TCPRoute' || kind === 'UDPRoute') return ['*'];
  if (routeHosts.length === 0) return [listenerHost ?? '*'];
  const out: string[] = [];
  for (const h of routeHosts) {
    const i = intersectHostname(listenerHost, h);
    if (i !== undefined && !out.includes(i)) out.push(i);
  }
  return out;
}

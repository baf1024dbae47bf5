// Discovery documents built once from the resource registry: aggregated discovery
// (apidiscovery.k8s.io/v2, what kubectl 1.32 asks for first) and the legacy documents
// (APIVersions, APIGroupList, APIGroup, APIResourceList) clients fall back to.
import { SERVED_RESOURCES, groupVersions, type ResourceInfo, type SubresourceInfo } from '../../api/resources.js';

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** The group, version and kind a subresource answers with (scale -> autoscaling/v1 Scale). */
export function subresourceKind(r: ResourceInfo, s: SubresourceInfo): GroupVersionKind {
  return { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind ?? r.kind };
}

/** Groups in registry order, each with its versions (the first is preferred). */
function groupsInOrder(): { name: string; versions: string[] }[] {
  const groups: { name: string; versions: string[] }[] = [];
  for (const gv of groupVersions()) {
    let g = groups.find((x) => x.name === gv.group);
    if (!g) groups.push((g = { name: gv.group, versions: [] }));
    if (!g.versions.includes(gv.version)) g.versions.push(gv.version);
  }
  return groups;
}

function resourcesOf(group: string, version: string): ResourceInfo[] {
  return SERVED_RESOURCES.filter((r) => r.group === group && r.version === version);
}

/** One resource's entry in aggregated discovery (apidiscovery.k8s.io/v2). */
export function aggregatedResource(r: ResourceInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length) out.shortNames = [...r.shortNames];
  if (r.categories.length) out.categories = [...r.categories];
  if (r.subresources.length) {
    out.subresources = r.subresources.map((s) => ({
      subresource: s.name,
      responseKind: subresourceKind(r, s),
      verbs: [...s.verbs],
    }));
  }
  return out;
}

function aggregatedGroup(name: string, versions: string[]): Record<string, unknown> {
  return {
    metadata: { name },
    versions: versions.map((version) => ({
      version,
      resources: resourcesOf(name, version).map(aggregatedResource),
      freshness: 'Current',
    })),
  };
}

function buildAggregated(root: 'api' | 'apis'): Record<string, unknown> {
  const groups = groupsInOrder().filter((g) => (root === 'api' ? g.name === '' : g.name !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groups.map((g) => aggregatedGroup(g.name, g.versions)),
  };
}

/** The Content-Type an aggregated discovery reply must carry: client-go decides on it alone. */
export const AGGREGATED_DISCOVERY_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

const aggregated = { api: buildAggregated('api'), apis: buildAggregated('apis') };

export function aggregatedDiscovery(root: 'api' | 'apis'): unknown {
  return aggregated[root];
}

// ---- legacy discovery ----

let serverAddress = '127.0.0.1:6443';

/** The address `/api` advertises in serverAddressByClientCIDRs (host:port of the API server). */
export function setAdvertisedServerAddress(hostPort: string): void {
  serverAddress = hostPort;
}

function legacyResources(r: ResourceInfo): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length) main.shortNames = [...r.shortNames];
  if (r.categories.length) main.categories = [...r.categories];
  const subs = r.subresources.map((s) => {
    const gvk = subresourceKind(r, s);
    const entry: Record<string, unknown> = { name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced };
    if (gvk.group !== r.group || gvk.version !== r.version) {
      entry.group = gvk.group;
      entry.version = gvk.version;
    }
    entry.kind = gvk.kind;
    entry.verbs = [...s.verbs];
    return entry;
  });
  return [main, ...subs];
}

function groupVersionString(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

function buildLegacy(): Map<string, Record<string, unknown>> {
  const docs = new Map<string, Record<string, unknown>>();
  const groups = groupsInOrder();
  const core = groups.find((g) => g.name === '');
  docs.set('/api', { kind: 'APIVersions', versions: core ? core.versions : [] });
  const named = groups.filter((g) => g.name !== '');
  docs.set('/apis', { kind: 'APIGroupList', apiVersion: 'v1', groups: named.map((g) => apiGroup(g.name, g.versions)) });
  for (const g of named) docs.set(`/apis/${g.name}`, { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.name, g.versions) });
  for (const g of groups) {
    for (const version of g.versions) {
      const path = g.name === '' ? `/api/${version}` : `/apis/${g.name}/${version}`;
      docs.set(path, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: groupVersionString(g.name, version),
        resources: resourcesOf(g.name, version).flatMap(legacyResources),
      });
    }
  }
  return docs;
}

const legacy = buildLegacy();

export function legacyDiscovery(path: string): unknown | undefined {
  const clean = path.split('?')[0].replace(/\/+$/, '');
  const doc = legacy.get(clean);
  if (!doc) return undefined;
  if (clean === '/api') {
    return { ...doc, serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }
  return doc;
}

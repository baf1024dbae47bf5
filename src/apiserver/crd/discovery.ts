// Discovery with custom resources added, as kube-apiserver lists them: aggregated discovery
// (apidiscovery.k8s.io/v2) and the legacy APIGroupList / APIGroup / APIResourceList documents.
// A CRD group gets its served versions, most preferred first (v2 > v1 > v1beta1 > v1alpha1 >
// others), and a custom resource in a group that also has built-in kinds joins that group's
// entry instead of making a second one.
import { aggregatedResource } from '../present/discovery.js';
import type { CustomResourceInfo } from './resource.js';

type Doc = Record<string, unknown>;

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/** Sorts versions by Kubernetes version priority: GA before beta before alpha, higher numbers first, then other names. */
export function compareVersions(a: string, b: string): number {
  const ma = KUBE_VERSION.exec(a);
  const mb = KUBE_VERSION.exec(b);
  if (!ma || !mb) return ma ? -1 : mb ? 1 : a.localeCompare(b);
  const rank = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  if (rank(ma) !== rank(mb)) return rank(mb) - rank(ma);
  if (Number(ma[1]) !== Number(mb[1])) return Number(mb[1]) - Number(ma[1]);
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

interface CustomGroup {
  name: string;
  versions: Map<string, CustomResourceInfo[]>;
}

function groupsOf(resources: CustomResourceInfo[]): CustomGroup[] {
  const groups = new Map<string, CustomGroup>();
  for (const r of resources) {
    let g = groups.get(r.group);
    if (!g) groups.set(r.group, (g = { name: r.group, versions: new Map() }));
    g.versions.set(r.version, [...(g.versions.get(r.version) ?? []), r]);
  }
  return [...groups.values()];
}

function sortedVersions(g: CustomGroup, extra: string[] = []): string[] {
  return [...new Set([...g.versions.keys(), ...extra])].sort(compareVersions);
}

function legacyResources(r: CustomResourceInfo): Doc[] {
  const main: Doc = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: [...r.verbs] };
  if (r.shortNames.length) main.shortNames = [...r.shortNames];
  if (r.categories.length) main.categories = [...r.categories];
  const subs = r.subresources.map((s) => {
    const entry: Doc = { name: `${r.plural}/${s.name}`, singularName: '', namespaced: r.namespaced };
    if (s.group !== undefined) {
      entry.group = s.group;
      entry.version = s.version;
    }
    entry.kind = s.kind ?? r.kind;
    entry.verbs = [...s.verbs];
    return entry;
  });
  return [main, ...subs];
}

/** The aggregated /apis document with custom resources merged in. */
export function aggregatedWithCustom(doc: Doc, resources: CustomResourceInfo[]): Doc {
  const items = [...((doc.items as Doc[] | undefined) ?? [])];
  for (const g of groupsOf(resources)) {
    const i = items.findIndex((it) => (it.metadata as { name?: string } | undefined)?.name === g.name);
    const existing = i >= 0 ? ((items[i].versions as Doc[]) ?? []) : [];
    const versions = sortedVersions(g, existing.map((v) => v.version as string)).map((version) => {
      const builtin = existing.find((v) => v.version === version);
      const own = (g.versions.get(version) ?? []).map(aggregatedResource);
      return { version, resources: [...((builtin?.resources as Doc[] | undefined) ?? []), ...own], freshness: 'Current' };
    });
    const item = { metadata: { name: g.name }, versions };
    if (i >= 0) items[i] = item;
    else items.push(item);
  }
  return { ...doc, items };
}

function apiGroup(name: string, versions: string[]): Doc {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

/**
 * A legacy discovery document for `path` with custom resources merged in; `builtin` is the
 * built-in document of that path (undefined = none). Undefined when neither serves the path.
 */
export function legacyWithCustom(path: string, builtin: Doc | undefined, resources: CustomResourceInfo[]): Doc | undefined {
  const clean = path.split('?')[0].replace(/\/+$/, '');
  const groups = groupsOf(resources);
  if (clean === '/apis') {
    const list = [...((builtin?.groups as Doc[] | undefined) ?? [])];
    for (const g of groups) {
      const i = list.findIndex((x) => x.name === g.name);
      const existing = i >= 0 ? ((list[i].versions as { version: string }[]) ?? []).map((v) => v.version) : [];
      const entry = apiGroup(g.name, sortedVersions(g, existing));
      if (i >= 0) list[i] = entry;
      else list.push(entry);
    }
    return { kind: 'APIGroupList', apiVersion: 'v1', ...(builtin ?? {}), groups: list };
  }
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(clean);
  const g = m && groups.find((x) => x.name === m[1]);
  if (!m || !g) return builtin;
  if (m[2] === undefined) {
    const existing = ((builtin?.versions as { version: string }[] | undefined) ?? []).map((v) => v.version);
    return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.name, sortedVersions(g, existing)) };
  }
  const own = g.versions.get(m[2]);
  if (!own) return builtin;
  const base = (builtin?.resources as Doc[] | undefined) ?? [];
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${g.name}/${m[2]}`, resources: [...base, ...own.flatMap(legacyResources)] };
}

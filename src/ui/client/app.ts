// The web view: a cluster map with live flows, the Services and their per-node rules, the
// NetworkPolicy reachability matrix, and the trace form. Preact renders it; the hash picks the page.
import { h, render, type ComponentChildren, type VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { FlowEvent, FlowPeer } from '../../flows/types.js';
import { buildClusterMap, verdictClass, type MapBox } from '../map-model.js';
import type { PolicyView } from '../policy-view.js';
import type { ServiceView } from '../service-view.js';
import { cluster, flowFeed, getJson, postJson, startLive, subscribe, type KubeObject } from './live.js';

/** What a component renders (props typed per element by preact). */
type View = VNode<any>;

/** Re-renders the calling component whenever live data changes. */
function useLive(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => subscribe(() => setVersion((v) => v + 1)), []);
  return version;
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/map');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/map');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** Fetches `path` again whenever `deps` (a string summarising the inputs) changes. */
function useFetched<T>(path: string | undefined, deps: string): { data?: T; error?: string } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  useEffect(() => {
    if (!path) return;
    let live = true;
    const t = setTimeout(() => {
      getJson<T>(path).then(
        (data) => live && setState({ data }),
        (err: Error) => live && setState({ error: err.message }),
      );
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [path, deps]);
  return state;
}

/** A short summary of a collection's contents: changes whenever an object does. */
function versionsOf(...lists: KubeObject[][]): string {
  return lists.map((l) => l.map((o) => o.metadata.resourceVersion).join(',')).join('|');
}

function podIP(p: KubeObject): string | undefined {
  return (p.status as { podIP?: string } | undefined)?.podIP;
}

function nodeReady(n: KubeObject): boolean {
  const conds = (n.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

function peerText(p: FlowPeer): string {
  const id = p.identity;
  const who = id.kind === 'pod' ? `${id.namespace}/${id.name}` : id.kind === 'service' ? `svc ${id.namespace}/${id.name}` : id.kind === 'node' ? `node ${id.name}` : 'outside';
  return `${who} ${p.ip}${p.port !== undefined ? `:${p.port}` : ''}`;
}

// ---- map ----

function boxView(b: MapBox): View {
  return h(
    'g',
    { class: `box ${b.kind}`, 'data-id': b.id, 'data-kind': b.kind },
    h('title', null, `${b.label}\n${b.detail}`),
    h('rect', { x: b.x, y: b.y, width: b.w, height: b.h, rx: b.kind === 'pod' ? 6 : 3 }),
    h('text', { x: b.x + 8, y: b.y + (b.kind === 'node' ? 16 : 14), class: 'label' }, b.label),
    h('text', { x: b.x + 8, y: b.y + (b.kind === 'node' ? 28 : 27), class: 'detail' }, b.detail),
  );
}

function MapPage(): View {
  useLive();
  const pods = cluster.pods.list();
  const map = buildClusterMap({
    nodes: cluster.nodes.list().map((n) => ({
      name: n.metadata.name,
      ready: nodeReady(n),
      internalIP: (n.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    })),
    pods: pods.map((p) => ({ namespace: p.metadata.namespace ?? '', name: p.metadata.name, node: (p.spec as { nodeName?: string } | undefined)?.nodeName, ip: podIP(p), phase: (p.status as { phase?: string } | undefined)?.phase })),
    services: cluster.services.list().map((s) => ({ namespace: s.metadata.namespace ?? '', name: s.metadata.name, clusterIP: (s.spec as { clusterIP?: string } | undefined)?.clusterIP, type: (s.spec as { type?: string } | undefined)?.type })),
    flows: flowFeed.flows.slice(-500),
  });
  const byId = new Map(map.boxes.map((b) => [b.id, b]));
  const centre = (b: MapBox) => ({ x: b.x + b.w / 2, y: b.y + b.h / 2 });
  const edges = map.edges.map((e) => {
    const a = centre(byId.get(e.from)!);
    const b = centre(byId.get(e.to)!);
    const title = `${e.from} -> ${e.to}: ${e.count} flow(s), last ${e.verdict}${e.policies.length ? ` by ${e.policies.join(', ')}` : ''}`;
    return h(
      'line',
      { class: `edge ${e.verdictClass}`, 'data-from': e.from, 'data-to': e.to, 'data-verdict': e.verdict, 'data-class': e.verdictClass, x1: a.x, y1: a.y, x2: b.x, y2: b.y, 'marker-end': `url(#arrow-${e.verdictClass})` },
      h('title', null, title),
    );
  });
  return h(
    'section',
    { class: 'page map-page' },
    h('p', { class: 'legend' }, h('span', { class: 'swatch allowed' }), ' forwarded / translated / replied  ', h('span', { class: 'swatch denied' }), ' dropped / rejected'),
    h(
      'svg',
      { id: 'cluster-map', width: map.width, height: map.height, viewBox: `0 0 ${map.width} ${map.height}` },
      h(
        'defs',
        null,
        ...(['allowed', 'denied'] as const).map((c) =>
          h('marker', { id: `arrow-${c}`, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse', class: `arrow ${c}` }, h('path', { d: 'M 0 0 L 10 5 L 0 10 z' })),
        ),
      ),
      ...map.boxes.filter((b) => b.kind === 'node').map(boxView),
      ...map.boxes.filter((b) => b.kind !== 'node').map(boxView),
      ...edges,
    ),
    h(FlowList, null),
  );
}

function FlowList(): View {
  useLive();
  // Newest first; the nodes' streams interleave, so order by the kernel's timestamps.
  const shown = flowFeed.flows.slice(-60).sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  const shed = [...flowFeed.nodes.values()].filter((n) => n.error);
  return h(
    'div',
    { class: 'flows' },
    h('h2', null, `Flows (${flowFeed.received} received${flowFeed.connected ? ', live' : ', reconnecting'})`),
    flowFeed.error ? h('p', { class: 'error' }, flowFeed.error) : null,
    ...shed.map((n) => h('p', { class: 'warning' }, `node ${n.node}: ${n.error}`)),
    h(
      'table',
      { id: 'flow-list' },
      h('thead', null, h('tr', null, ...['time', 'node', 'verdict', 'source', 'destination', 'service / endpoint', 'policy', 'summary'].map((t) => h('th', null, t)))),
      h(
        'tbody',
        null,
        ...shown.map((f: FlowEvent) =>
          h(
            'tr',
            { key: `${f.node}:${f.seq}`, class: `flow ${verdictClass(f.verdict)}`, 'data-verdict': f.verdict },
            h('td', null, f.time.slice(11, 23)),
            h('td', null, f.node),
            h('td', { class: 'verdict' }, f.verdict),
            h('td', null, peerText(f.source)),
            h('td', null, peerText(f.destination)),
            h('td', null, [f.service ? `${f.service.namespace}/${f.service.name}` : '', f.endpoint ? ` -> ${peerText(f.endpoint)}` : ''].join('')),
            h('td', null, f.policy ? `${f.policy.direction}: ${f.policy.policies.join(', ') || '(default deny)'}` : ''),
            h('td', null, f.summary),
          ),
        ),
      ),
    ),
  );
}

// ---- services ----

function ServicesPage(): View {
  useLive();
  const services = cluster.services.list().sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  return h(
    'section',
    { class: 'page' },
    h('h2', null, 'Services'),
    h(
      'ul',
      { class: 'service-list' },
      ...services.map((s) => h('li', null, h('a', { href: `#/service/${s.metadata.namespace}/${s.metadata.name}` }, `${s.metadata.namespace}/${s.metadata.name}`), ` ${(s.spec as { type?: string }).type ?? ''} ${(s.spec as { clusterIP?: string }).clusterIP ?? ''}`)),
    ),
  );
}

function ServicePage(props: { namespace: string; name: string }): View {
  useLive();
  const deps = versionsOf(cluster.services.list(), cluster.endpointslices.list(), cluster.nodes.list());
  const { data, error } = useFetched<ServiceView>(`/ui/api/service?namespace=${encodeURIComponent(props.namespace)}&name=${encodeURIComponent(props.name)}`, deps);
  if (error) return h('section', { class: 'page' }, h('p', { class: 'error' }, error));
  if (!data) return h('section', { class: 'page' }, h('p', null, 'Loading…'));
  const s = data.service;
  return h(
    'section',
    { class: 'page service-page' },
    h('h2', null, `Service ${s.namespace}/${s.name}`),
    h('p', null, `${s.type}${s.clusterIP ? ` ${s.clusterIP}` : ''}; ports ${s.ports.map((p) => `${p.port}/${p.protocol}${p.nodePort ? ` (node port ${p.nodePort})` : ''}`).join(', ') || 'none'}; internalTrafficPolicy ${s.internalTrafficPolicy}, externalTrafficPolicy ${s.externalTrafficPolicy}`),
    h('h3', null, 'Endpoints'),
    data.endpoints.length === 0
      ? h('p', { class: 'warning' }, 'No endpoints: connections to this Service are rejected.')
      : h(
          'table',
          { id: 'service-endpoints' },
          h('thead', null, h('tr', null, ...['address', 'ports', 'pod', 'node', 'state'].map((t) => h('th', null, t)))),
          h('tbody', null, ...data.endpoints.map((e) => h('tr', null, h('td', null, e.ip), h('td', null, e.ports.join(', ')), h('td', null, e.pod ?? ''), h('td', null, e.node ?? ''), h('td', null, e.ready ? 'ready' : e.terminating ? 'terminating' : 'not ready')))),
        ),
    h('h3', null, 'Rules per node (the proxy model)'),
    ...data.nodes.map((n) =>
      h(
        'div',
        { class: 'node-rules', 'data-node': n.node },
        h('h4', null, n.node),
        n.rules.length === 0
          ? h('p', null, 'no rules (headless or ExternalName)')
          : h('ul', null, ...n.rules.map((r) => h('li', { class: r.verdict }, `${r.match} -> ${r.verdict === 'reject' ? 'reject (no endpoints)' : r.endpoints.map((e) => `${e} (1/${r.endpoints.length})`).join(', ')}${r.policy === 'Local' ? ' [Local]' : ''}`))),
      ),
    ),
  );
}

// ---- policies ----

function PolicyPage(props: { namespace: string }): View {
  useLive();
  const deps = versionsOf(cluster.pods.list(), cluster.namespaces.list(), cluster.networkpolicies.list());
  const { data, error } = useFetched<PolicyView>(`/ui/api/policy${props.namespace ? `?namespace=${encodeURIComponent(props.namespace)}` : ''}`, deps);
  const namespaces = cluster.namespaces.list().map((n) => n.metadata.name).sort();
  const picker = h(
    'label',
    null,
    'Namespace ',
    h(
      'select',
      { id: 'policy-namespace', value: props.namespace, onChange: (e: Event) => (location.hash = `#/policies/${(e.target as HTMLSelectElement).value}`) },
      h('option', { value: '' }, '(all)'),
      ...namespaces.map((n) => h('option', { value: n }, n)),
    ),
  );
  if (error) return h('section', { class: 'page' }, picker, h('p', { class: 'error' }, error));
  if (!data) return h('section', { class: 'page' }, picker, h('p', null, 'Loading…'));
  return h(
    'section',
    { class: 'page policy-page' },
    h('h2', null, 'NetworkPolicy reachability'),
    picker,
    h('ol', { id: 'matrix-pods' }, ...data.pods.map((p) => h('li', null, p))),
    ...data.tables.map((t) =>
      h(
        'div',
        { class: 'matrix-block' },
        h('h3', null, `${t.protocol}/${t.port}`, h('small', null, ' rows: sources, columns: destinations')),
        h(
          'table',
          { class: 'matrix', 'data-protocol': t.protocol, 'data-port': String(t.port) },
          h('thead', null, h('tr', null, h('th', null, ''), ...data.pods.map((_, i) => h('th', { title: data.pods[i] }, String(i + 1))))),
          h(
            'tbody',
            null,
            ...t.rows.map((row, r) =>
              h('tr', null, h('th', { class: 'source' }, data.pods[r]), ...row.map((cell, c) => h('td', { class: cell === '.' ? 'allowed' : cell === 'X' ? 'denied' : 'none', 'data-cell': cell, title: `${data.pods[r]} -> ${data.pods[c]}` }, cell))),
            ),
          ),
        ),
      ),
    ),
    data.tables.length === 0 ? h('pre', null, data.text) : null,
    h('h3', null, 'Which policy isolates whom'),
    h(
      'table',
      { id: 'isolation' },
      h('thead', null, h('tr', null, h('th', null, 'pod'), h('th', null, 'ingress isolated by'), h('th', null, 'egress isolated by'))),
      h('tbody', null, ...data.isolation.map((i) => h('tr', null, h('td', null, i.pod), h('td', null, i.ingress.join(', ') || '(not isolated)'), h('td', null, i.egress.join(', ') || '(not isolated)')))),
    ),
    h('details', null, h('summary', null, 'as `flatnet policy matrix` prints it'), h('pre', { id: 'matrix-text' }, data.text)),
  );
}

// ---- trace ----

function TracePage(): View {
  useLive();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [port, setPort] = useState('');
  const [result, setResult] = useState<{ text?: string; error?: string; running?: boolean; bugs?: number; probed?: boolean }>({});
  const pods = cluster.pods
    .list()
    .filter((p) => podIP(p))
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
    .sort();
  const submit = (e: Event) => {
    e.preventDefault();
    setResult({ text: 'Tracing…', running: true });
    postJson<{ text: string; report: { bugs: number; kernel?: unknown } }>('/ui/api/trace', { from, to, port }).then(
      (r) => setResult({ text: r.text, bugs: r.report.bugs, probed: r.report.kernel !== undefined }),
      (err: Error) => setResult({ error: err.message }),
    );
  };
  const input = (id: string, value: string, set: (v: string) => void, placeholder: string) =>
    h('input', { id, name: id, value, placeholder, list: 'trace-pods', onInput: (e: Event) => set((e.target as HTMLInputElement).value) });
  return h(
    'section',
    { class: 'page trace-page' },
    h('h2', null, 'Trace'),
    h('p', null, 'One flow as `flatnet trace` follows it: the models’ prediction (Service DNAT choice, route and overlay hop, egress and ingress policy verdicts), then a real probe from the source pod with nftables tracing on in the nodes involved, the rules it hit, and every difference between the two flagged as a bug.'),
    h(
      'form',
      { id: 'trace-form', onSubmit: submit },
      h('datalist', { id: 'trace-pods' }, h('option', { value: 'outside' }), ...pods.map((p) => h('option', { value: p }))),
      h('label', null, 'From ', input('trace-from', from, setFrom, 'NAMESPACE/POD or outside')),
      h('label', null, 'To ', input('trace-to', to, setTo, 'NAMESPACE/POD, IPv4 or node:NAME')),
      h('label', null, 'Port ', input('trace-port', port, setPort, '80/tcp')),
      h('button', { type: 'submit' }, 'Trace'),
    ),
    result.error ? h('p', { class: 'error', id: 'trace-error' }, result.error) : null,
    result.probed && !result.running
      ? (result.bugs ?? 0) > 0
        ? h('p', { class: 'error', id: 'trace-verdict', 'data-bugs': String(result.bugs) }, `The kernel and the models disagree: ${result.bugs} BUG line${result.bugs === 1 ? '' : 's'} below.`)
        : h('p', { id: 'trace-verdict', 'data-bugs': '0' }, 'The kernel did what the models say.')
      : null,
    result.text ? h('pre', { id: 'trace-result', 'data-state': result.running ? 'running' : 'done' }, result.text) : null,
  );
}

// ---- shell ----

function App(): View {
  const hash = useHash();
  const [me, setMe] = useState<{ username: string } | undefined>();
  useEffect(() => {
    void getJson<{ username: string }>('/ui/api/whoami').then(setMe, () => undefined);
  }, []);
  useLive();
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  let page: ComponentChildren;
  if (parts[0] === 'service' && parts[1] && parts[2]) page = h(ServicePage, { namespace: parts[1], name: parts[2], key: hash });
  else if (parts[0] === 'services') page = h(ServicesPage, null);
  else if (parts[0] === 'policies') page = h(PolicyPage, { namespace: parts[1] ?? '' });
  else if (parts[0] === 'trace') page = h(TracePage, null);
  else page = h(MapPage, null);
  const errors = Object.entries(cluster).filter(([, c]) => c.error).map(([k, c]) => `${k}: ${c.error}`);
  const nav = (href: string, text: string) => h('a', { href, class: hash.startsWith(href) ? 'active' : '' }, text);
  return h(
    'div',
    { class: 'shell' },
    h(
      'header',
      null,
      h('strong', null, 'flatnet'),
      h('nav', null, nav('#/map', 'Map'), nav('#/services', 'Services'), nav('#/policies', 'Policies'), nav('#/trace', 'Trace')),
      h('span', { class: 'who', id: 'whoami' }, me ? `as ${me.username}` : ''),
    ),
    ...errors.map((e) => h('p', { class: 'error' }, e)),
    page,
  );
}

const abort = new AbortController();
startLive(abort.signal);
const root = document.getElementById('app')!;
root.replaceChildren();
render(h(App, null), root);

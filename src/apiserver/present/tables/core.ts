// Rows for core/v1 kinds other than pods: services, endpoints, nodes, namespaces, configmaps,
// secrets, events and service accounts.
import { age, formatLabels, loadBalancerString } from './format.js';
import { ageColumn, column, nameColumn, type Json, type Printer } from './types.js';

function servicePorts(ports: Json[] | undefined): string {
  const pieces = (ports ?? []).map((p: Json) =>
    p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`,
  );
  return pieces.length ? pieces.join(',') : '<none>';
}

function serviceExternalIP(svc: Json): string {
  const spec = svc.spec ?? {};
  const externalIPs: string[] = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerString(svc.status?.loadBalancer);
      if (externalIPs.length) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

export const servicePrinter: Printer = {
  columns: [
    nameColumn,
    column('Type', 'The type of the service: ClusterIP, NodePort, LoadBalancer or ExternalName.'),
    column('Cluster-IP', 'The IP address of the service inside the cluster.'),
    column('External-IP', 'External IPs and load-balancer addresses of the service.'),
    column('Port(s)', 'The ports of the service (port:nodePort/protocol).'),
    ageColumn,
    column('Selector', 'Pods with these labels back the service.', { wide: true }),
  ],
  row: (svc, now) => {
    const spec = svc.spec ?? {};
    const clusterIP: string = spec.clusterIPs?.[0] || spec.clusterIP || '<none>';
    return {
      cells: [
        svc.metadata?.name ?? '',
        spec.type ?? 'ClusterIP',
        clusterIP,
        serviceExternalIP(svc),
        servicePorts(spec.ports),
        age(svc.metadata?.creationTimestamp, now),
        formatLabels(spec.selector),
      ],
    };
  },
};

/** ip:port for the first three endpoints of every subset, then `+ N more...`. */
export function formatEndpoints(ep: Json): string {
  const subsets: Json[] = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  for (const ss of subsets) {
    const addresses: Json[] = ss.addresses ?? [];
    const ports: Json[] = ss.ports ?? [];
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(hostPort(a.ip, p.port));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter: Printer = {
  columns: [nameColumn, column('Endpoints', 'Endpoints of the service (ip:port).'), ageColumn],
  row: (ep, now) => ({ cells: [ep.metadata?.name ?? '', formatEndpoints(ep), age(ep.metadata?.creationTimestamp, now)] }),
};

/** Roles from node-role.kubernetes.io/<role> labels and the kubernetes.io/role label, sorted. */
export function nodeRoles(labels: Record<string, string> | undefined): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') {
      roles.add(v);
    }
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function nodeAddress(node: Json, type: string): string {
  return (node.status?.addresses ?? []).find((a: Json) => a.type === type)?.address ?? '<none>';
}

export const nodePrinter: Printer = {
  columns: [
    nameColumn,
    column('Status', 'The status of the node (Ready, NotReady, SchedulingDisabled).'),
    column('Roles', 'The roles of the node (node-role.kubernetes.io/<role> labels).'),
    ageColumn,
    column('Version', 'Kubelet version reported by the node.'),
    column('Internal-IP', 'The first internal IP of the node.', { wide: true }),
    column('External-IP', 'The first external IP of the node.', { wide: true }),
    column('OS-Image', 'OS image reported by the node.', { wide: true }),
    column('Kernel-Version', 'Kernel version reported by the node.', { wide: true }),
    column('Container-Runtime', 'Container runtime version reported by the node.', { wide: true }),
  ],
  row: (node, now) => {
    const status: string[] = [];
    const ready = (node.status?.conditions ?? []).filter((c: Json) => c.type === 'Ready').pop();
    if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    if (status.length === 0) status.push('Unknown');
    if (node.spec?.unschedulable) status.push('SchedulingDisabled');
    const info = node.status?.nodeInfo ?? {};
    return {
      cells: [
        node.metadata?.name ?? '',
        status.join(','),
        nodeRoles(node.metadata?.labels),
        age(node.metadata?.creationTimestamp, now),
        info.kubeletVersion ?? '',
        nodeAddress(node, 'InternalIP'),
        nodeAddress(node, 'ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ],
    };
  },
};

export const namespacePrinter: Printer = {
  columns: [nameColumn, column('Status', 'The status of the namespace (Active, Terminating).'), ageColumn],
  row: (ns, now) => ({ cells: [ns.metadata?.name ?? '', ns.status?.phase ?? '', age(ns.metadata?.creationTimestamp, now)] }),
};

export const configMapPrinter: Printer = {
  columns: [nameColumn, column('Data', 'Number of keys in data and binaryData.', { type: 'integer' }), ageColumn],
  row: (cm, now) => ({
    cells: [
      cm.metadata?.name ?? '',
      Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
      age(cm.metadata?.creationTimestamp, now),
    ],
  }),
};

export const secretPrinter: Printer = {
  columns: [nameColumn, column('Type', 'The type of the secret.'), column('Data', 'Number of keys in data.', { type: 'integer' }), ageColumn],
  row: (s, now) => ({
    cells: [s.metadata?.name ?? '', s.type ?? '', Object.keys(s.data ?? {}).length, age(s.metadata?.creationTimestamp, now)],
  }),
};

export const serviceAccountPrinter: Printer = {
  columns: [nameColumn, column('Secrets', 'Number of secrets listed by the service account.', { type: 'integer' }), ageColumn],
  row: (sa, now) => ({ cells: [sa.metadata?.name ?? '', (sa.secrets ?? []).length, age(sa.metadata?.creationTimestamp, now)] }),
};

function eventSource(ev: Json): string {
  const component: string = ev.source?.component || ev.reportingComponent || '';
  const instance: string = ev.source?.host || ev.reportingInstance || '';
  if (!component) return '<unknown>';
  return instance ? `${component}, ${instance}` : component;
}

export const eventPrinter: Printer = {
  columns: [
    column('Last Seen', 'Time since the event was last observed.'),
    column('Type', 'Type of the event (Normal, Warning).'),
    column('Reason', 'Short, machine-understandable reason for the event.'),
    column('Object', 'The object the event is about (kind/name).'),
    column('Subobject', 'The field of the object the event is about (involvedObject.fieldPath).', { wide: true }),
    column('Source', 'The component (and host) that reported the event.', { wide: true }),
    column('Message', 'Human-readable description of the event.'),
    column('First Seen', 'Time since the event was first observed.', { wide: true }),
    column('Count', 'Number of times the event occurred.', { wide: true }),
    column('Name', 'Name of the event object.', { wide: true }),
  ],
  row: (ev, now) => {
    const firstSeen = ev.firstTimestamp ? age(ev.firstTimestamp, now) : age(ev.eventTime, now);
    let lastSeen = ev.lastTimestamp ? age(ev.lastTimestamp, now) : firstSeen;
    let count: number = ev.count ?? 0;
    if (ev.series) {
      lastSeen = age(ev.series.lastObservedTime, now);
      count = ev.series.count ?? 0;
    } else if (count === 0) {
      count = 1;
    }
    const involved = ev.involvedObject ?? {};
    const kind = String(involved.kind ?? '').toLowerCase();
    const target = involved.name ? `${kind}/${involved.name}` : kind;
    return {
      cells: [
        lastSeen,
        ev.type ?? '',
        ev.reason ?? '',
        target,
        involved.fieldPath ?? '',
        eventSource(ev),
        String(ev.message ?? '').trim(),
        firstSeen,
        count,
        ev.metadata?.name ?? '',
      ],
    };
  },
};

// Rows for networking.k8s.io/v1 (ingresses, ingressclasses, networkpolicies),
// discovery.k8s.io/v1 endpointslices and coordination.k8s.io/v1 leases.
import { age, listWithMore, loadBalancerString } from './format.js';
import { formatLabelSelector } from '../../../api/label-selector.js';
import { ageColumn, column, nameColumn, type Json, type Printer } from './types.js';

/** The first three rule hosts, `*` when no rule names a host. */
export function ingressHosts(rules: Json[] | undefined): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  const all = rules ?? [];
  for (const rule of all) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const ret = list.join(',');
  return more ? `${ret} + ${all.length - max} more...` : ret;
}

export const ingressPrinter: Printer = {
  columns: [
    nameColumn,
    column('Class', 'The name of the IngressClass the ingress uses.'),
    column('Hosts', 'Hosts the ingress rules match.'),
    column('Address', 'Addresses of the load balancer serving the ingress.'),
    column('Ports', 'Ports of the load balancer serving the ingress.'),
    ageColumn,
  ],
  row: (ing, now) => ({
    cells: [
      ing.metadata?.name ?? '',
      ing.spec?.ingressClassName ?? '<none>',
      ingressHosts(ing.spec?.rules),
      loadBalancerString(ing.status?.loadBalancer),
      (ing.spec?.tls ?? []).length ? '80, 443' : '80',
      age(ing.metadata?.creationTimestamp, now),
    ],
  }),
};

export const ingressClassPrinter: Printer = {
  columns: [
    nameColumn,
    column('Controller', 'The controller that implements the class.'),
    column('Parameters', 'The resource holding parameters for the controller (Kind.group/name).'),
    ageColumn,
  ],
  row: (ic, now) => {
    const p = ic.spec?.parameters;
    let parameters = '<none>';
    if (p) parameters = `${p.kind ?? ''}${p.apiGroup != null ? '.' + p.apiGroup : ''}/${p.name ?? ''}`;
    return { cells: [ic.metadata?.name ?? '', ic.spec?.controller ?? '', parameters, age(ic.metadata?.creationTimestamp, now)] };
  },
};

export const networkPolicyPrinter: Printer = {
  columns: [nameColumn, column('Pod-Selector', 'The pods the policy applies to.'), ageColumn],
  row: (np, now) => ({
    cells: [np.metadata?.name ?? '', formatLabelSelector(np.spec?.podSelector ?? {}), age(np.metadata?.creationTimestamp, now)],
  }),
};

function sliceEndpoints(endpoints: Json[] | undefined): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const e of endpoints ?? []) {
    for (const a of e.addresses ?? []) {
      if (list.length < max) list.push(a);
      else if (list.length === max) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, max, '<unset>');
}

function slicePorts(ports: Json[] | undefined): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const p of ports ?? []) {
    if (list.length < max) list.push(p.port != null ? String(p.port) : p.name != null ? p.name : '*');
    else if (list.length === max) more = true;
    count++;
  }
  return listWithMore(list, more, count, max, '<unset>');
}

export const endpointSlicePrinter: Printer = {
  columns: [
    nameColumn,
    column('AddressType', 'The type of address carried by the slice (IPv4, IPv6, FQDN).'),
    column('Ports', 'Ports of the endpoints in the slice.'),
    column('Endpoints', 'Addresses of the endpoints in the slice.'),
    ageColumn,
  ],
  row: (s, now) => ({
    cells: [s.metadata?.name ?? '', s.addressType ?? '', slicePorts(s.ports), sliceEndpoints(s.endpoints), age(s.metadata?.creationTimestamp, now)],
  }),
};

export const leasePrinter: Printer = {
  columns: [nameColumn, column('Holder', 'The identity of the current holder of the lease.'), ageColumn],
  row: (l, now) => ({ cells: [l.metadata?.name ?? '', l.spec?.holderIdentity ?? '', age(l.metadata?.creationTimestamp, now)] }),
};

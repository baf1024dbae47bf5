// Gateway spec.addresses (GatewayStaticAddresses). A flatnet Gateway gets one IPv4 address from the
// LoadBalancer pool through its proxy Service (spec.loadBalancerIP when the Gateway asks for one).
// An address of a type other than IPAddress, or an IPAddress value that is not an IPv4 address,
// cannot be honoured at all: Accepted=False/UnsupportedAddress. A well-formed request that the
// pool did not give (more than one address, or the Service shows another address because the one
// asked for is outside the pool or taken): Programmed=False/AddressNotUsable. An entry without a
// value asks for any address (as leaving spec.addresses out does).
import { isIPv4 } from 'node:net';
import type { Problem } from './conditions.js';
import { asArray, asRecord, asString, specOf } from './objects.js';
import type { KubeObject } from '../../api/types.js';

export interface RequestedAddresses {
  /** IPv4 values asked for, without repeats, in order. */
  ips: string[];
  /** Why the Gateway cannot be accepted because of spec.addresses. */
  unsupported?: Problem;
}

export function requestedAddresses(gateway: KubeObject): RequestedAddresses {
  const ips: string[] = [];
  const bad: string[] = [];
  for (const [i, raw] of asArray(specOf(gateway).addresses).entries()) {
    const a = asRecord(raw);
    const type = asString(a.type) ?? 'IPAddress';
    const value = asString(a.value) ?? '';
    if (type !== 'IPAddress') bad.push(`spec.addresses[${i}].type ${JSON.stringify(type)} is not supported (flatnet assigns IPAddress addresses from the LoadBalancer pool)`);
    else if (value === '') continue;
    else if (!isIPv4(value)) bad.push(`spec.addresses[${i}].value ${JSON.stringify(value)} is not an IPv4 address`);
    else if (!ips.includes(value)) ips.push(value);
  }
  return { ips, ...(bad.length > 0 ? { unsupported: { reason: 'UnsupportedAddress', message: bad.join('; ') } } : {}) };
}

/** `ip -> namespace/name` of the Services of type LoadBalancer that show an address in their status. */
export function loadBalancerHolders(services: KubeObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const svc of services) {
    if (asString(specOf(svc).type) !== 'LoadBalancer') continue;
    const ingress = asArray(asRecord(asRecord(svc.status).loadBalancer).ingress);
    for (const i of ingress) {
      const ip = asString(asRecord(i).ip);
      if (ip) out.set(ip, `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`);
    }
  }
  return out;
}

/**
 * Programmed=False/AddressNotUsable when the addresses asked for are not the ones assigned.
 * `holders` (loadBalancerHolders) tells an address another Service holds from one still pending.
 */
export function unusableAddresses(requested: string[], assigned: string[], holders: ReadonlyMap<string, string> = new Map()): Problem | undefined {
  if (requested.length === 0) return undefined;
  if (requested.length > 1) {
    return { reason: 'AddressNotUsable', message: `a Gateway gets one address from the LoadBalancer pool; spec.addresses asks for ${requested.length} (${requested.join(', ')})` };
  }
  const holder = holders.get(requested[0]);
  if (holder && !assigned.includes(requested[0])) {
    return { reason: 'AddressNotUsable', message: `address ${requested[0]} is used by Service ${holder}` };
  }
  if (assigned.length > 0 && !assigned.includes(requested[0])) {
    return { reason: 'AddressNotUsable', message: `address ${requested[0]} could not be assigned (outside the LoadBalancer pool or used by another Service); the Gateway's Service has ${assigned.join(', ')}` };
  }
  return undefined;
}

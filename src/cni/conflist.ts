// The node's CNI network configuration list: flatnet's own plugins, or the reference plugins of
// containernetworking/plugins (bridge + host-local + portmap + loopback) with the same layout.
import { join } from 'node:path';

export const NETWORK_NAME = 'flatnet';
export const BRIDGE_NAME = 'cni0';

export interface ConflistOptions {
  podCIDR: string;
  mtu: number;
  plugins: 'flatnet' | 'reference';
  dataDir: string;
}

export function renderConflist(opts: ConflistOptions): object {
  const own = opts.plugins === 'flatnet';
  const prefix = own ? 'flatnet-' : '';
  return {
    // The reference plugins packaged here speak up to 1.0.0; ours speak 1.1.0 (GC, STATUS).
    cniVersion: own ? '1.1.0' : '1.0.0',
    ...(own ? { cniVersions: ['1.0.0', '1.1.0'] } : {}),
    name: NETWORK_NAME,
    // The packaged reference portmap (1.1.1) fails CHECK on IPv4-only pods (it looks for its
    // IPv6 chain), so CHECK is off for the reference set.
    ...(own ? {} : { disableCheck: true }),
    plugins: [
      {
        type: `${prefix}bridge`,
        bridge: BRIDGE_NAME,
        isGateway: true,
        isDefaultGateway: true,
        hairpinMode: true,
        mtu: opts.mtu,
        ipam: {
          type: `${prefix}host-local`,
          ranges: [[{ subnet: opts.podCIDR }]],
          dataDir: join(opts.dataDir, 'cni', 'networks'),
        },
      },
      own
        ? { type: 'flatnet-portmap', capabilities: { portMappings: true }, snat: true, stateDir: join(opts.dataDir, 'cni', 'portmap') }
        : { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: `${prefix}loopback` },
    ],
  };
}

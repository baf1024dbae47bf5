// A pod's /etc/hosts as the kubelet writes it: localhost lines, the pod's own name on its IP
// (with the subdomain FQDN when the pod has hostname+subdomain), then the hostAliases.

export interface HostsInput {
  podIPs: string[];
  hostname: string;
  subdomain?: string;
  namespace: string;
  clusterDomain: string;
  hostAliases?: { ip: string; hostnames?: string[] }[];
}

export function renderHostsFile(input: HostsInput): string {
  const lines = [
    '# Kubernetes-managed hosts file (written by the flatnet agent).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const names = input.subdomain
    ? [`${input.hostname}.${input.subdomain}.${input.namespace}.svc.${input.clusterDomain}`, input.hostname]
    : [input.hostname];
  for (const ip of input.podIPs) lines.push(`${ip}\t${names.join('\t')}`);
  if (input.hostAliases && input.hostAliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const alias of input.hostAliases) lines.push(`${alias.ip}\t${(alias.hostnames ?? []).join('\t')}`);
  }
  return lines.join('\n') + '\n';
}

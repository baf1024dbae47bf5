// The Pod Security labels `flatnet up` makes sure of, as upstream clusters carry them: kube-system
// runs privileged add-ons, so it is labelled privileged for enforce, audit and warn (the server
// labels it so when it creates it; a data directory from before that gets the labels here). A
// namespace that already has a pod-security label keeps the choice its owner made.
import type { KubeClient } from '../client/client.js';
import { R } from '../api/resources.js';
import { LABEL_PREFIX, systemNamespaceLabels } from '../apiserver/admission/pod-security/policy.js';

export const PRIVILEGED_SYSTEM_NAMESPACES = ['kube-system'];

export async function labelSystemNamespaces(client: KubeClient): Promise<void> {
  for (const name of PRIVILEGED_SYSTEM_NAMESPACES) {
    const ns = await client.get(R.namespaces, undefined, name);
    if (!ns) continue;
    if (Object.keys(ns.metadata.labels ?? {}).some((k) => k.startsWith(LABEL_PREFIX))) continue;
    await client.patch(R.namespaces, undefined, name, { metadata: { labels: systemNamespaceLabels(name) } });
  }
}

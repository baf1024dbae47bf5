// Builds the namespace-operations addon (see native/build-addon.mjs). It is an accelerator: without
// it a pod's namespaces are made by `ip netns add`/`unshare` and a workload's sockets inside a pod
// namespace come from a broker process started there (src/linux/netns-socket.ts).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from '../build-addon.mjs';

buildAddon({
  dir: dirname(fileURLToPath(import.meta.url)),
  target: 'netns_ops.node',
  without: 'pod namespaces and in-pod sockets are made by spawned processes (ip, unshare, a broker per pod)',
  linuxOnly: 'setns/unshare are Linux only',
  built: 'pod namespaces and in-pod sockets without a process per pod',
});

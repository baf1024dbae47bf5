// Builds the TCP MD5 signature addon (see native/build-addon.mjs). Only BGPPeers with a password
// need it: without it such a peer is refused with an error naming the missing addon.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from '../build-addon.mjs';

buildAddon({
  dir: dirname(fileURLToPath(import.meta.url)),
  target: 'tcp_md5.node',
  without: 'BGPPeers with a password cannot be used',
  linuxOnly: 'TCP_MD5SIG and setns are Linux only',
  built: 'TCP MD5 signatures for BGP peers',
});

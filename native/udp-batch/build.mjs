// Builds the batched-UDP addon (see native/build-addon.mjs). It is an accelerator: without it the
// DNS server serves UDP through Node's dgram and says so in its log.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAddon } from '../build-addon.mjs';

buildAddon({
  dir: dirname(fileURLToPath(import.meta.url)),
  target: 'udp_batch.node',
  without: 'DNS serves UDP through dgram',
  linuxOnly: 'recvmmsg/sendmmsg are Linux only',
  built: 'batched UDP for DNS',
});

// Which UDP I/O the DNS server uses: the option, else FLATNET_DNS_UDP_IO, else auto; a bad value
// is an error naming the variable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { udpIoSetting } from '../../../src/dns/transport.js';

test('udpIoSetting: option over environment over the default', () => {
  assert.equal(udpIoSetting(undefined, {}), 'auto');
  assert.equal(udpIoSetting(undefined, { FLATNET_DNS_UDP_IO: 'dgram' }), 'dgram');
  assert.equal(udpIoSetting(undefined, { FLATNET_DNS_UDP_IO: 'batched' }), 'batched');
  assert.equal(udpIoSetting('dgram', { FLATNET_DNS_UDP_IO: 'batched' }), 'dgram');
  assert.throws(() => udpIoSetting(undefined, { FLATNET_DNS_UDP_IO: 'fast' }), /FLATNET_DNS_UDP_IO: must be batched, dgram or auto, not "fast"/);
});

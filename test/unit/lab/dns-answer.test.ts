// firstClusterDnsAnswer keeps starting probes while earlier ones are still out: an answer from a
// later probe is taken without waiting for an earlier one to time out; with no answer by the
// deadline it gives up once every probe is back. A probe is one A query from a fresh socket: it
// takes the address of the answer to its own query and gives up after its timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { firstClusterDnsAnswer } from '../../../src/lab/dns-answer.js';
import { DNS_PROBE_NAME, probeClusterDns } from '../../../src/lab/addons.js';
import { decodeResponse, RRType } from '../../../src/dns/wire.js';

test('a later probe answers while the first is still out: its answer is taken', async () => {
  const pending: ((a: string | undefined) => void)[] = [];
  let started = 0;
  const probe = (netns: string) => {
    assert.equal(netns, 'flatnet-node-node-1');
    started++;
    if (started === 1) return new Promise<string | undefined>((resolve) => pending.push(resolve)); // a dig waiting for its 1 s timeout
    if (started === 2) return Promise.resolve(undefined); // refused: no endpoint yet
    return Promise.resolve('10.96.0.1');
  };
  const answer = await firstClusterDnsAnswer('flatnet-node-node-1', Date.now() + 60_000, probe);
  assert.equal(answer, '10.96.0.1');
  assert.equal(pending.length, 1, 'the first probe was still out when the answer came');
  pending[0](undefined);
});

test('no answer before the deadline: undefined once every probe is back', async () => {
  let started = 0;
  const answer = await firstClusterDnsAnswer('n', Date.now() + 250, () => {
    started++;
    return new Promise((resolve) => setTimeout(() => resolve(undefined), 50));
  });
  assert.equal(answer, undefined);
  assert.ok(started >= 1);
});

/** A DNS server on 127.0.0.1 that answers every A query with `address` (after a reply with a wrong id first), or never. */
async function fakeDns(address: string | undefined): Promise<{ port: number; questions: string[]; close: () => void }> {
  const server = dgram.createSocket('udp4');
  const questions: string[] = [];
  server.on('message', (query, from) => {
    // The header and the question, without the query's OPT record: QR set, one answer after them.
    let end = 12;
    while (query[end] !== 0) end += query[end] + 1;
    end += 5;
    const head = Buffer.from(query.subarray(0, end));
    questions.push(decodeResponse(Buffer.concat([head.subarray(0, 10), Buffer.alloc(2), head.subarray(12)])).question?.name ?? '');
    if (!address) return;
    head.writeUInt16BE(0x8580, 2);
    head.writeUInt16BE(1, 6);
    head.writeUInt16BE(0, 10);
    const answer = Buffer.from([0xc0, 0x0c, 0, RRType.A, 0, 1, 0, 0, 0, 30, 0, 4, ...address.split('.').map(Number)]);
    const wrongId = Buffer.concat([head, answer]);
    wrongId.writeUInt16BE((query.readUInt16BE(0) + 1) & 0xffff, 0);
    server.send(wrongId, from.port, from.address);
    server.send(Buffer.concat([head, answer]), from.port, from.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, questions, close: () => server.close() };
}

test('a probe asks for the kubernetes Service and takes the address answered to its own query', async () => {
  const dns = await fakeDns('10.96.0.1');
  try {
    assert.equal(await probeClusterDns('', 2000, { host: '127.0.0.1', port: dns.port }), '10.96.0.1');
    assert.deepEqual(dns.questions, [DNS_PROBE_NAME]);
  } finally {
    dns.close();
  }
});

test('a probe that gets no answer gives up after its timeout', async () => {
  const dns = await fakeDns(undefined);
  try {
    assert.equal(await probeClusterDns('', 100, { host: '127.0.0.1', port: dns.port }), undefined);
    assert.deepEqual(dns.questions, [DNS_PROBE_NAME], 'the question went out');
  } finally {
    dns.close();
  }
});

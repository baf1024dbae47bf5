// TCP framing (RFC 7766): several queries in one segment, a query split across segments, each
// answered with its own length-prefixed reply on the same connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { decode, fixtureModel, queryBytes, section } from '../../unit/dns/fixture.js';
import { serveModel } from './support.js';

function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

test('pipelined and split TCP queries are each answered', async (t) => {
  const server = await serveModel(fixtureModel());
  t.after(() => server.close());
  const sock = net.connect(server.port, '127.0.0.1');
  t.after(() => sock.destroy());
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const replies: Buffer[] = [];
  let buf = Buffer.alloc(0);
  const got = new Promise<void>((resolve) => {
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        if (replies.length === 4) resolve();
      }
    });
  });
  const names = ['web.ns1.svc.cluster.local', 'db.ns1.svc.cluster.local', 'nope.ns1.svc.cluster.local', 'dual.ns1.svc.cluster.local'];
  const framed = names.map((n, i) => frame(queryBytes(n, 'A', { id: 100 + i })));
  sock.write(Buffer.concat(framed.slice(0, 3)));
  const last = framed[3];
  sock.write(last.subarray(0, 1));
  await new Promise((r) => setTimeout(r, 50));
  sock.write(last.subarray(1, 9));
  await new Promise((r) => setTimeout(r, 50));
  sock.write(last.subarray(9));
  await got;
  const byId = new Map(replies.map((r) => [decode(r).id, decode(r)]));
  assert.deepEqual(section(byId.get(100)?.answers), ['web.ns1.svc.cluster.local. 30 A 10.96.0.20']);
  assert.equal(byId.get(101)?.answers.length, 3);
  assert.equal(byId.get(102)?.rcode, 'NXDOMAIN');
  assert.deepEqual(section(byId.get(103)?.answers), ['dual.ns1.svc.cluster.local. 30 A 10.96.0.21']);
});

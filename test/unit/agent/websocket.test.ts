import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { acceptKey, encodeFrame, encodeMaskedFrame, OP_BINARY, OP_PING, parseFrameHeader, WebSocketConnection } from '../../../src/agent/websocket.js';

test('the accept key of RFC 6455 section 1.3', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('frame headers with 7-, 16- and 64-bit lengths', () => {
  for (const len of [5, 300, 70_000]) {
    const h = parseFrameHeader(encodeFrame(OP_BINARY, Buffer.alloc(len)))!;
    assert.equal(h.length, len);
    assert.equal(h.opcode, OP_BINARY);
    assert.equal(h.fin, true);
  }
  assert.equal(parseFrameHeader(Buffer.from([0x82])), undefined);
});

test('a connection unmasks client frames, joins fragments and answers pings', async () => {
  const socket = new PassThrough();
  const written: Buffer[] = [];
  const ws = new WebSocketConnection(socket);
  socket.write = ((chunk: Buffer) => {
    written.push(chunk);
    return true;
  }) as typeof socket.write;
  const messages: Buffer[] = [];
  ws.on('message', (m: Buffer) => messages.push(m));
  const first = encodeMaskedFrame(OP_BINARY, Buffer.from([0, 1, 2]));
  first[0] &= 0x7f; // not final
  const cont = encodeMaskedFrame(0, Buffer.from([3, 4]));
  socket.emit('data', Buffer.concat([first, cont.subarray(0, 3)]));
  socket.emit('data', cont.subarray(3));
  socket.emit('data', encodeMaskedFrame(OP_PING, Buffer.from('p')));
  assert.deepEqual(messages, [Buffer.from([0, 1, 2, 3, 4])]);
  assert.deepEqual(written[0], encodeFrame(10, Buffer.from('p')));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeHeaderBlock,
  encodeDataFrame,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeWindowUpdate,
  FLAG_FIN,
  FrameDecoder,
  FrameEncoder,
  FrameSplitter,
  SPDY3_DICTIONARY,
} from '../../../src/agent/spdy.js';

test('the SPDY/3 dictionary has its specified size and ends as specified', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  assert.deepEqual([...SPDY3_DICTIONARY.subarray(0, 11)], [0, 0, 0, 7, ...Buffer.from('options')]);
  assert.equal(SPDY3_DICTIONARY.subarray(-7).toString(), ',enq=0.');
});

test('header blocks: count, length-prefixed names and values; names lower-cased', () => {
  const block = encodeHeaderBlock({ StreamType: 'data', port: '8080' });
  assert.equal(block.readUInt32BE(0), 2);
  assert.deepEqual(decodeHeaderBlock(block), { streamtype: 'data', port: '8080' });
});

test('SYN_STREAM and SYN_REPLY survive compression with a shared context across frames', async () => {
  const enc = new FrameEncoder();
  const dec = new FrameDecoder();
  const splitter = new FrameSplitter();
  const frames = [
    await enc.synStream(1, { streamtype: 'error', port: '80', requestid: '0' }),
    await enc.synStream(3, { streamtype: 'data', port: '80', requestid: '0' }),
    await enc.synReply(3, {}),
  ];
  const bytes = Buffer.concat(frames);
  // Delivered in awkward pieces, as WebSocket messages may cut them.
  const raws = [...splitter.push(bytes.subarray(0, 5)), ...splitter.push(bytes.subarray(5, 40)), ...splitter.push(bytes.subarray(40))];
  assert.equal(raws.length, 3);
  const decoded = [];
  for (const r of raws) decoded.push(await dec.decode(r));
  assert.deepEqual(decoded[0], { type: 'syn_stream', streamId: 1, associatedStreamId: 0, priority: 0, flags: 0, headers: { streamtype: 'error', port: '80', requestid: '0' } });
  assert.deepEqual((decoded[1] as { headers: unknown }).headers, { streamtype: 'data', port: '80', requestid: '0' });
  assert.deepEqual(decoded[2], { type: 'syn_reply', streamId: 3, flags: 0, headers: {} });
  assert.ok(frames[1].length < frames[0].length + 8, 'the second block reuses the first one\'s context');
  enc.close();
  dec.close();
});

test('data, RST_STREAM, PING and WINDOW_UPDATE frames', async () => {
  const dec = new FrameDecoder();
  const raws = new FrameSplitter().push(Buffer.concat([encodeDataFrame(5, Buffer.from('hi'), FLAG_FIN), encodeRstStream(5, 5), encodePing(7), encodeWindowUpdate(5, 1000)]));
  const frames = [];
  for (const r of raws) frames.push(await dec.decode(r));
  assert.deepEqual(frames, [
    { type: 'data', streamId: 5, flags: FLAG_FIN, data: Buffer.from('hi') },
    { type: 'rst_stream', streamId: 5, status: 5 },
    { type: 'ping', id: 7 },
    { type: 'window_update', streamId: 5, delta: 1000 },
  ]);
  dec.close();
});

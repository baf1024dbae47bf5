// PacedWriter hands an answer to its stream a chunk at a time, the next only after 'drain', in
// order, and drops what waits once the answer closes. A Writable that holds every write until told
// to let it go stands in for the HTTP/2 stream of a client that reads slowly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { endPaced, PacedWriter, WRITE_CHUNK_BYTES } from '../../../src/apiserver/paced-write.js';

/** A stream whose writes complete only when release() is called, as a socket the client does not read. */
function slowStream(): { res: ServerResponse; writes: Buffer[]; release(): void } {
  const writes: Buffer[] = [];
  const held: (() => void)[] = [];
  const w = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk);
      held.push(cb);
    },
  });
  const res = w as unknown as ServerResponse;
  return {
    res,
    writes,
    release: () => {
      for (const cb of held.splice(0)) cb();
    },
  };
}

/** Runs the stream until it has taken everything, releasing each write after a turn. */
async function drainAll(s: ReturnType<typeof slowStream>): Promise<void> {
  while (!(s.res as unknown as Writable).writableFinished) {
    await new Promise((r) => setImmediate(r));
    s.release();
  }
}

test('a body larger than a chunk goes out a chunk at a time, the next after the last was taken, whole and in order', async () => {
  const s = slowStream();
  const body = Buffer.alloc(WRITE_CHUNK_BYTES * 3 + 123);
  for (let i = 0; i < body.length; i++) body[i] = i % 251;
  endPaced(s.res, body);
  // Only the first chunk is with the stream until the client takes it.
  assert.deepEqual(
    s.writes.map((w) => w.length),
    [WRITE_CHUNK_BYTES],
  );
  await drainAll(s);
  assert.deepEqual(
    s.writes.map((w) => w.length),
    [WRITE_CHUNK_BYTES, WRITE_CHUNK_BYTES, WRITE_CHUNK_BYTES, 123],
  );
  assert.ok(Buffer.concat(s.writes).equals(body));
});

test('a body of one chunk or less is written at once', () => {
  const s = slowStream();
  endPaced(s.res, Buffer.alloc(WRITE_CHUNK_BYTES));
  assert.equal(s.writes.length, 1);
  assert.equal((s.res as unknown as Writable).writableEnded, true);
});

test('small writes that wait are joined into chunks, in order; buffered counts what waits and what the stream holds', async () => {
  const s = slowStream();
  const out = new PacedWriter(s.res);
  out.write(Buffer.alloc(20 * 1024, 1)); // over the stream's high-water mark: the next ones wait
  for (let i = 0; i < 100; i++) out.write(Buffer.from(`event ${i}\n`));
  const waiting = 10 * 'event 0\n'.length + 90 * 'event 10\n'.length;
  assert.equal(out.buffered, 20 * 1024 + waiting);
  out.end();
  await drainAll(s);
  assert.equal(s.writes.length, 2);
  assert.equal(s.writes[1].toString(), Array.from({ length: 100 }, (_, i) => `event ${i}\n`).join(''));
});

test('once the answer closes, what waits is dropped and nothing more is written', async () => {
  const s = slowStream();
  const out = new PacedWriter(s.res);
  out.write(Buffer.alloc(WRITE_CHUNK_BYTES * 4));
  out.end();
  (s.res as unknown as Writable).destroy();
  await new Promise((r) => setImmediate(r));
  s.release();
  out.write(Buffer.alloc(10));
  assert.equal(out.buffered, 0);
  assert.equal(s.writes.length, 1);
});

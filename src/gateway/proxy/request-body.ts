// Reading a request body for retries, mirrors and size limits: buffered up to a limit, else
// streamed on (buffered part first, then the rest).
import { PassThrough, type Readable } from 'node:stream';

/** Bodies up to this size are buffered so they can be re-sent (retry) or copied (mirror). */
export const BUFFER_LIMIT = 1024 * 1024;

export type ReadBody = { kind: 'buffered'; body: Buffer } | { kind: 'streamed'; body: Readable } | { kind: 'too-large' } | { kind: 'failed'; error: Error };

/**
 * Reads up to `limit` bytes. Past `maxBytes` (when set) the answer is 'too-large'; past `limit`
 * the body is handed on as a stream that replays what was read.
 */
export function readBody(req: Readable, limit: number, maxBytes: number | undefined): Promise<ReadBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      chunks.push(chunk);
      if (maxBytes !== undefined && size > maxBytes) {
        cleanup();
        req.resume();
        resolve({ kind: 'too-large' });
      } else if (size > limit) {
        cleanup();
        req.pause();
        const rest = new PassThrough();
        for (const c of chunks) rest.write(c);
        req.on('error', (e) => rest.destroy(e));
        if (maxBytes !== undefined) {
          // Past the buffer the limit is still enforced: the upstream request is cut off.
          req.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) rest.destroy(new Error(`request body larger than ${maxBytes} bytes`));
          });
        }
        req.pipe(rest);
        resolve({ kind: 'streamed', body: rest });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ kind: 'buffered', body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) });
    };
    const onError = (e: Error): void => {
      cleanup();
      resolve({ kind: 'failed', error: e });
    };
    const onClose = (): void => {
      if (!req.readableEnded) onError(new Error('client closed the request body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

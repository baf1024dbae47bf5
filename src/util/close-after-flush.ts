// Ending one side of a spliced pair of streams (a proxied upgrade, a TLS passthrough) once the
// other side has closed, without cutting bytes still queued toward it.
import type { Duplex } from 'node:stream';

/** How long a socket may take to take the last bytes queued for it after its peer closed. */
export const LAST_BYTES_MS = 30_000;

/**
 * Closes `socket` because the stream feeding it has closed. When that stream ended cleanly, its
 * last bytes (a WebSocket close frame, an exec's status) may still wait in `socket`'s buffer: the
 * socket is ended and destroyed only once they are written (destroying it at once cuts them, and a
 * WebSocket client reports `close 1006 (abnormal closure)`), or after `timeoutMs` for a reader that
 * never takes them. A feeding stream that broke off (`broken`) ends `socket` at once.
 */
export function closeAfterFlush(socket: Duplex, broken: boolean, timeoutMs = LAST_BYTES_MS): void {
  if (socket.destroyed) return;
  if (broken || socket.writableFinished) {
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  timer.unref();
  socket.once('finish', () => {
    clearTimeout(timer);
    socket.destroy();
  });
  socket.once('close', () => clearTimeout(timer));
  if (!socket.writableEnded) socket.end();
}

/** Whether a stream that just closed broke off rather than ended: an error, or no end of its data. */
export function closedBroken(stream: Duplex, hadError: boolean): boolean {
  return hadError || !stream.readableEnded;
}

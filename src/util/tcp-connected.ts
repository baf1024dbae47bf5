// Waiting for a TCP socket to connect, within a deadline: the one place that turns a socket's
// connect/error/timeout into a promise for the dialers (pod probes, port-forward, in-namespace dials).
import type net from 'node:net';

/**
 * Resolves with `sock` once it connects; rejects with its error, or with `timeoutMessage` (code
 * ETIMEDOUT) after `timeoutMs`. Either way a socket that did not connect is destroyed. The socket
 * is not flowing yet: what arrives is buffered until a consumer listens for 'data', pipes it or
 * resumes it, as with a socket handed over by a broker process. It is not pause()d: a paused socket
 * stays paused when a 'data' listener is added, so Node's HTTP client, which only listens, would
 * never see the answer.
 */
export function whenConnected(sock: net.Socket, timeoutMs: number, timeoutMessage: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(timeoutMessage), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    });
  });
}

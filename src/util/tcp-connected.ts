// Waiting for a TCP socket to connect, within a deadline: the one place that turns a socket's
// connect/error/timeout into a promise for the dialers (pod probes, port-forward, in-namespace dials).
import type net from 'node:net';

/**
 * Resolves with `sock` paused once it connects; rejects with its error, or with `timeoutMessage`
 * (code ETIMEDOUT) after `timeoutMs`. Either way a socket that did not connect is destroyed.
 */
export function whenConnected(sock: net.Socket, timeoutMs: number, timeoutMessage: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(timeoutMessage), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.pause();
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    });
  });
}

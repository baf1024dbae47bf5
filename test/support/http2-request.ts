// One HTTP/2 request on a client session, for the tests that speak HTTP/2 to a server directly.
import type http2 from 'node:http2';

/** Sends `headers` on `session` and resolves with the answer's status and body. */
export function http2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => (body += c.toString('utf8')));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
  });
}

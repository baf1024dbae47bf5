// The "slow request" log line: where the time of one request through the proxy went, phase by
// phase, written when the whole request took at least the proxy's slowRequestMs. The phases are
// performance.now() marks taken on the request's path (a handful of clock reads per request).
// Together with a packet capture they tell the proxy's own time (its event loop) from the
// backend's and the network's.

/** Marks of one request (performance.now() ms); a phase it never reached stays undefined. */
export interface RequestMarks {
  /** When the client's connection was accepted (first request of a connection only). */
  acceptedAt?: number;
  /** When the request's head reached the handler. */
  startedAt: number;
  /** When the request was handed to the upstream client. */
  dispatchedAt?: number;
  /** When the upstream client wrote the request to a connection (undici only). */
  upstreamWrittenAt?: number;
  /** When the upstream answer's head arrived. */
  upstreamHeadAt?: number;
  /** When the last upstream connection of the chosen endpoint's pool was opened. */
  upstreamConnectedAt?: number;
  /** When the response ended (or the client went away). */
  endedAt: number;
}

export interface SlowRequestLine {
  level: 'warn';
  msg: 'slow request';
  route: string;
  status: number;
  totalMs: number;
  /** Epoch ms the head reached the handler (to place it beside other processes' clocks). */
  startedAtMs: number;
  /** Accept -> head reached the handler (not in totalMs: a client may open its connection early). */
  acceptToHeadMs?: number;
  /** Head -> handed to the upstream client: routing, filters, body decisions. */
  routingMs?: number;
  /** Handed upstream -> written to a connection: waiting for a free or new connection, and for the upstream client's turn of the event loop. */
  upstreamQueuedMs?: number;
  /** Written (or handed over, when that is not known) -> the answer's head: the network and the backend. */
  upstreamMs?: number;
  /** The request opened a new upstream connection (its pool connected after it was handed over). */
  newUpstreamConnection?: boolean;
  /** The answer's head -> the response ended: streaming the body to the client. */
  responseMs?: number;
}

const ms = (n: number): number => Math.round(n * 100) / 100;

/** The log line for a request's marks, or undefined when it was faster than `slowMs` (0 disables). */
export function slowRequestLine(m: RequestMarks, route: string, status: number, slowMs: number, timeOrigin: number): SlowRequestLine | undefined {
  const total = m.endedAt - m.startedAt;
  if (slowMs <= 0 || total < slowMs) return undefined;
  const line: SlowRequestLine = { level: 'warn', msg: 'slow request', route, status, totalMs: ms(total), startedAtMs: ms(timeOrigin + m.startedAt) };
  if (m.acceptedAt !== undefined) line.acceptToHeadMs = ms(m.startedAt - m.acceptedAt);
  if (m.dispatchedAt !== undefined) {
    line.routingMs = ms(m.dispatchedAt - m.startedAt);
    const written = m.upstreamWrittenAt ?? m.dispatchedAt;
    if (m.upstreamWrittenAt !== undefined) line.upstreamQueuedMs = ms(m.upstreamWrittenAt - m.dispatchedAt);
    if (m.upstreamHeadAt !== undefined) line.upstreamMs = ms(m.upstreamHeadAt - written);
    line.newUpstreamConnection = m.upstreamConnectedAt !== undefined && m.upstreamConnectedAt >= m.dispatchedAt;
  }
  if (m.upstreamHeadAt !== undefined) line.responseMs = ms(m.endedAt - m.upstreamHeadAt);
  return line;
}

// The conntrack event socket. `conntrack -E -b SIZE` (conntrack-tools 1.4.7) sets SIZE on its
// query socket, not on the socket subscribed to the event groups: that one keeps
// net.core.rmem_default (212,992 bytes, a few hundred events), so any pause of the reader loses
// events (measured: ENOBUFS at 5,000 connections/s while conntrack used 6% of a core; `ss -f
// netlink -m` shows rb134217728 on the socket without groups). Neither rmem_default nor
// rmem_max can be set inside a network namespace. This reader owns the socket itself: a few lines
// of Python (the standard library speaks AF_NETLINK; Node does not) that set SO_RCVBUFFORCE on
// the subscribed socket and copy the raw netlink messages to stdout without formatting them.
// Node parses the binary messages (ctnetlink-events.ts). When the kernel reports ENOBUFS the
// reader writes an NLMSG_OVERRUN message carrying the exact number of events the kernel dropped
// (the socket's drop counter from /proc/net/netlink), so losses are counted, not guessed.

/** Multicast groups (1 << (group - 1)): NFNLGRP_CONNTRACK_NEW 1, _UPDATE 2, _DESTROY 3. */
export const CT_GROUPS: Record<string, number> = { NEW: 1, UPDATE: 2, DESTROY: 4 };

export function ctGroupMask(events: string): number {
  let mask = 0;
  for (const name of events.split(',')) {
    const bit = CT_GROUPS[name.trim().toUpperCase()];
    if (bit === undefined) throw new Error(`conntrack event type "${name}" is not NEW, UPDATE or DESTROY`);
    mask |= bit;
  }
  return mask;
}

/** Where the reader's Python lives: Debian's interpreter, not whatever `python3` PATH finds first (a pyenv shim is a bash script per start). */
export const READER_PYTHON = '/usr/bin/python3';

/**
 * How long the reader waits after the first event of a batch before it drains the socket (ms).
 * Without it the reader and the agent woke once per connection, on the cores the connections
 * themselves run on (bench/flows latency, 2 cores: p50 +76% and +267% in two loaded runs, against
 * +4% batched, the same as a subscribed socket nobody reads); with it they wake
 * at most 1000/BATCH_MS times a second, whatever the rate, and the 64 MiB buffer holds seconds of
 * events. Flow events reach the ring at most this much later.
 */
export const DEFAULT_BATCH_MS = 50;

// argv: groups, buffer bytes, batch ms. Sleeps until the socket is readable, then BATCH ms more
// (events queue in the kernel meanwhile, no wakeup each), then copies every message the socket
// holds to stdout in one write. Losses are reported at least once a second.
export const CTNETLINK_READER_SCRIPT = `
import errno, os, select, socket, struct, sys, time
groups, size, batch = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.setsockopt(socket.SOL_SOCKET, 33, size)  # SO_RCVBUFFORCE
s.bind((0, groups))
s.setblocking(False)
portid = s.getsockname()[0]
def drops():
    with open('/proc/net/netlink') as f:
        for line in f:
            w = line.split()
            if len(w) > 8 and w[1] == '12' and w[2] == str(portid):
                return int(w[8])
    return 0
counted = 0
def overrun():
    global counted
    d = drops()
    lost, counted = d - counted, d
    return struct.pack('=IHHIII', 20, 4, 0, 0, 0, lost) if lost > 0 else b''
os.write(1, struct.pack('=IHHII', 16, 3, 0, 0, 0))  # NLMSG_DONE: the socket is bound
buf = bytearray(262144)
view = memoryview(buf)
last = time.monotonic()
while True:
    if select.select([s], [], [], 1.0)[0] and batch > 0:
        time.sleep(batch)
    out = []
    while True:
        try:
            n = s.recv_into(buf)
        except BlockingIOError:
            break
        except OSError as e:
            if e.errno != errno.ENOBUFS: raise
            out.append(overrun())
            continue
        if n == 0: break
        out.append(bytes(view[:n]) + b'\\0' * (-n % 4))
        if len(out) >= 65536: break
    now = time.monotonic()
    if now - last >= 1.0:
        last = now
        out.append(overrun())
    if out:
        data = b''.join(out)
        while data:
            data = data[os.write(1, data):]
`;

// Waiting for cluster DNS to answer from inside a node: a probe (one query from a fresh socket in
// the node's namespace, up to PROBE_TIMEOUT_MS for a reply; it costs microseconds, no process)
// starts every PROBE_EVERY_MS while earlier ones are still out, so the first answer is taken
// within about that period of the DNS pods being reachable, not a probe timeout later.
import { probeClusterDns } from './addons.js';

const PROBE_EVERY_MS = 20;
const PROBE_TIMEOUT_MS = 500;
const MAX_IN_FLIGHT = Math.ceil(PROBE_TIMEOUT_MS / PROBE_EVERY_MS) + 1;

/** The first address cluster DNS answers from `netns`, or undefined when `deadline` (epoch ms) passes first. */
export function firstClusterDnsAnswer(netns: string, deadline: number, probe: (netns: string) => Promise<string | undefined> = (ns) => probeClusterDns(ns, PROBE_TIMEOUT_MS)): Promise<string | undefined> {
  return new Promise((resolve) => {
    let inFlight = 0;
    let done = false;
    const finish = (answer: string | undefined) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      resolve(answer);
    };
    const launch = () => {
      if (done) return;
      if (Date.now() > deadline) return inFlight === 0 ? finish(undefined) : undefined;
      if (inFlight >= MAX_IN_FLIGHT) return;
      inFlight++;
      void probe(netns).then((answer) => {
        inFlight--;
        if (answer) finish(answer);
        else if (Date.now() > deadline && inFlight === 0) finish(undefined);
      });
    };
    const timer = setInterval(launch, PROBE_EVERY_MS);
    launch();
  });
}

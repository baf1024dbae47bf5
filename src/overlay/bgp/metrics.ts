// Prometheus metrics of the node's BGP speaker (prom-client's default registry, served with the
// agent's other metrics at the kubelet endpoint's /metrics): sessions by state, prefixes received
// and advertised per peer, UPDATEs in and out, NOTIFICATIONs by direction and code, and UPDATEs
// whose malformed attributes were handled as RFC 7606 says instead of resetting the session.
import client from 'prom-client';
import type { PeerStatus } from './speaker.js';

/** What the gauges read at scrape time: the status of every running speaker in this process. */
const liveSpeakers = new Set<{ status(): PeerStatus[] }>();

export function trackSpeaker(speaker: { status(): PeerStatus[] }): () => void {
  liveSpeakers.add(speaker);
  return () => liveSpeakers.delete(speaker);
}

const STATES: readonly PeerStatus['state'][] = ['Connect', 'OpenSent', 'OpenConfirm', 'Established'];

function allPeers(): PeerStatus[] {
  return [...liveSpeakers].flatMap((s) => s.status());
}

new client.Gauge({
  name: 'flatnet_bgp_sessions',
  help: 'BGP sessions of this node by state (Connect: not up, retrying)',
  labelNames: ['state'],
  collect() {
    this.reset();
    for (const state of STATES) this.set({ state }, 0);
    for (const p of allPeers()) this.inc({ state: p.state });
  },
});

new client.Gauge({
  name: 'flatnet_bgp_prefixes_received',
  help: 'IPv4 unicast prefixes received from each BGP peer (stale ones of a restarting peer not counted)',
  labelNames: ['peer'],
  collect() {
    this.reset();
    for (const p of allPeers()) this.inc({ peer: p.address }, p.prefixesReceived);
  },
});

new client.Gauge({
  name: 'flatnet_bgp_prefixes_advertised',
  help: 'IPv4 unicast prefixes this node advertises to each BGP peer (0 while the session is down)',
  labelNames: ['peer'],
  collect() {
    this.reset();
    for (const p of allPeers()) this.inc({ peer: p.address }, p.prefixesSent);
  },
});

export const bgpUpdates = new client.Counter({
  name: 'flatnet_bgp_updates_total',
  help: 'BGP UPDATE messages by peer and direction (End-of-RIB markers included)',
  labelNames: ['peer', 'direction'],
});

export const bgpNotifications = new client.Counter({
  name: 'flatnet_bgp_notifications_total',
  help: 'BGP NOTIFICATION messages by peer, direction, error code and subcode (RFC 4271 section 4.5)',
  labelNames: ['peer', 'direction', 'code', 'subcode'],
});

export const bgpMalformedUpdates = new client.Counter({
  name: 'flatnet_bgp_malformed_updates_total',
  help: 'UPDATEs with malformed path attributes kept without a session reset (RFC 7606): their routes withdrawn (treat-as-withdraw) or the attribute dropped (discard)',
  labelNames: ['peer', 'verdict'],
});

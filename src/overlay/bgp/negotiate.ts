// What two OPENs agree on (RFC 4271 section 4.2, RFC 6793, RFC 4724): pure, so every refusal
// and its NOTIFICATION is unit-tested without a socket.
import { AFI_IPV4, SAFI_UNICAST, type GracefulRestart, type OpenMessage } from './messages.js';
import { BgpError, ErrorCode, OpenSubcode } from './wire.js';

export interface LocalSettings {
  asn: number;
  routerId: string;
  holdTimeSec: number;
  /** Seconds peers should keep our routes when our session drops (graceful restart); 0 = off. */
  restartTimeSec: number;
}

export interface Negotiated {
  peerAsn: number;
  peerId: string;
  /** 0 = no keepalives and no hold timer. */
  holdTimeSec: number;
  keepaliveSec: number;
  fourOctetAs: boolean;
  /** The peer's graceful restart capability, if it keeps IPv4 unicast forwarding over a restart. */
  peerRestart?: GracefulRestart;
  ibgp: boolean;
}

export function negotiate(local: LocalSettings, expectedPeerAsn: number, open: OpenMessage): Negotiated {
  if (open.asn !== expectedPeerAsn) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(open.asn > 0xffff ? 23456 : open.asn);
    throw new BgpError(ErrorCode.OPEN, OpenSubcode.BAD_PEER_AS, `OPEN: peer AS ${open.asn}, configured ${expectedPeerAsn}`, data);
  }
  if (open.bgpId === local.routerId) throw new BgpError(ErrorCode.OPEN, OpenSubcode.BAD_BGP_ID, `OPEN: peer BGP identifier ${open.bgpId} is our own`);
  const ipv4Unicast = open.capabilities.multiprotocol.length === 0 || open.capabilities.multiprotocol.some((f) => f.afi === AFI_IPV4 && f.safi === SAFI_UNICAST);
  if (!ipv4Unicast) throw new BgpError(ErrorCode.OPEN, OpenSubcode.UNSUPPORTED_CAPABILITY, 'OPEN: the peer does not offer IPv4 unicast');
  const holdTimeSec = Math.min(local.holdTimeSec, open.holdTimeSec);
  const gr = open.capabilities.gracefulRestart;
  return {
    peerAsn: open.asn,
    peerId: open.bgpId,
    holdTimeSec,
    keepaliveSec: Math.floor(holdTimeSec / 3),
    fourOctetAs: open.capabilities.fourOctetAs !== undefined,
    // Without families listed the peer only helps others restart: its own routes are not kept.
    peerRestart: gr?.families.some((f) => f.afi === AFI_IPV4 && f.safi === SAFI_UNICAST) ? gr : undefined,
    ibgp: open.asn === local.asn,
  };
}

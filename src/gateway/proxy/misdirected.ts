// Misdirected requests on HTTPS ports (RFC 9110 section 15.5.20, Gateway API
// HTTPSListenerDetectMisdirectedRequests): the TLS handshake's SNI picked one listener (the most
// specific whose hostname covers it); a request on that connection whose Host belongs to another
// listener of the port must not be served through the first one, whose certificate and routes
// were chosen for a different name. Such a request gets 421, so a client that reused (coalesced)
// the connection opens a new one for that host. A Host that no listener covers stays with the
// SNI's listener (and gets its 404).
import { hostMatches } from './match.js';

/** The first (most specific) listener hostname covering `name`; `*` covers anything. */
export function listenerFor(listenerHostnames: readonly string[], name: string): string | undefined {
  for (const h of listenerHostnames) if (hostMatches(h, name)) return h;
  return undefined;
}

/**
 * True when `host` (normalized, without port) is served by a different listener than `servername`.
 * `listenerHostnames` lists the port's HTTPS listener hostnames, most specific first.
 */
export function isMisdirected(listenerHostnames: readonly string[], servername: string, host: string): boolean {
  if (!servername || !host) return false;
  const bySni = listenerFor(listenerHostnames, servername.toLowerCase());
  const byHost = listenerFor(listenerHostnames, host);
  return bySni !== undefined && byHost !== undefined && bySni !== byHost;
}

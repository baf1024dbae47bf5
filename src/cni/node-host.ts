// Where flatnet's CNI plugins do their node-side kernel work. An exec'd plugin runs inside the
// node's namespace (a runtime starts it there), so it talks to "this" namespace; the agent calls
// the same plugin code in-process from the root namespace and names the node's namespace
// instead. Every kernel change goes through the tools of src/linux; nothing here reads /sys or
// /proc/sys of another namespace (their view depends on the calling process).
import { readFileSync, writeFileSync } from 'node:fs';
import { runCommand } from '../linux/exec.js';
import { NETNS_DIR } from '../linux/netns.js';
import type { NftTransaction } from '../linux/nft.js';
import { coalescedIpBatch } from './ip-batch-coalescer.js';

export interface NodeHost {
  /** The node's named network namespace (under /run/netns); undefined = this process's own. */
  netns?: string;
  /**
   * Sets an interface up inside the namespace at a file path without a process (the agent's
   * netns-ops addon, src/runtime/netns-ops.ts); absent: plugins run `ip` (an exec'd plugin).
   */
  setLinkUp?(nsPath: string, ifName: string): void;
  /**
   * The bridges made (or being made) in this namespace by this runtime, by name: present for the
   * agent's in-process plugins, whose first ADD then waits for the bridge instead of failing on
   * it; absent for an exec'd plugin, which assumes the bridge and makes it when it is missing.
   */
  bridges?: Map<string, Promise<void>>;
}

export const THIS_NAMESPACE: NodeHost = {};

/** The argv prefix that runs a tool inside `host` (setns only, no mount namespace of its own). */
function enter(host: NodeHost, argv: string[]): string[] {
  return host.netns ? ['nsenter', `--net=${NETNS_DIR}/${host.netns}`, ...argv] : argv;
}

/**
 * Runs `ip -batch -` in the node namespace; with `json`, `show` lines print one JSON array
 * each, answered in order. Batches of concurrent pods share one process (ip-batch-coalescer.ts).
 */
export async function nodeIpBatch(host: NodeHost, lines: string[], opts: { json?: boolean } = {}): Promise<unknown[][]> {
  return coalescedIpBatch(host.netns, lines, opts);
}

/** The name of a namespace file under /run/netns (or /var/run/netns); undefined for other paths. */
export function namedNetns(path: string): string | undefined {
  return /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(path)?.[1];
}

/**
 * Runs `ip -batch -` inside the namespace at a file path (a CNI_NETNS): `ip -n` for a named
 * namespace (one process), nsenter for any other path.
 */
export async function sandboxIpBatch(netnsPath: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const name = namedNetns(netnsPath);
  const argv = name ? ['ip', '-n', name, '-batch', '-'] : ['nsenter', `--net=${netnsPath}`, 'ip', '-batch', '-'];
  await runCommand(argv, { input: lines.join('\n') + '\n' });
}

/** Applies an nftables transaction atomically in the node namespace. */
export async function nodeNft(host: NodeHost, tx: NftTransaction): Promise<void> {
  if (tx.empty) return;
  await runCommand(enter(host, ['nft', '-f', '-']), { input: tx.toString() });
}

/** Runs a tool in the node namespace (queries: `ip -o link show`, `sysctl -n`). */
export function nodeCommand(host: NodeHost, argv: string[]): Promise<{ stdout: string; stderr: string }> {
  return runCommand(enter(host, argv));
}

// Namespaces this process has already seen forwarding on in: a long-lived caller (the agent)
// checks once per node namespace rather than once per pod.
const forwardingOn = new Set<string>();

/** Turns net.ipv4.ip_forward on in the node namespace (a gateway bridge routes for its pods). */
export async function ensureForwarding(host: NodeHost): Promise<void> {
  const key = host.netns ?? '';
  if (forwardingOn.has(key)) return;
  if (!host.netns) {
    // /proc/sys/net shows the namespace of the process reading it: this one.
    const path = '/proc/sys/net/ipv4/ip_forward';
    if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1');
    forwardingOn.add(key);
    return;
  }
  const { stdout } = await nodeCommand(host, ['sysctl', '-n', 'net.ipv4.ip_forward']);
  if (stdout.trim() !== '1') await nodeCommand(host, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  forwardingOn.add(key);
}

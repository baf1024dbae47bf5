// What the proxy asks of a data-plane backend (nftables or iptables).
import type { ServicePortModel } from './model.js';

export interface SyncStats {
  /** Services re-rendered. */
  services: number;
  /** Kernel commands or rule lines sent. */
  commands: number;
  /** Transactions (nft -f / iptables-restore calls). */
  transactions: number;
}

export interface ProxyBackend {
  readonly mode: 'nftables' | 'iptables';
  /** Applies the changes of some Services (key -> ports now; [] = gone) as one transaction. */
  sync(changes: Map<string, ServicePortModel[]>): Promise<SyncStats>;
  /** Makes the kernel match every Service given, whatever it holds now (start, slow timer, after a failure). */
  resync(all: Map<string, ServicePortModel[]>): Promise<SyncStats>;
  /** The rules the kernel has now, grouped per Service, for a person. */
  describe(): Promise<string>;
  /** Removes everything the backend made. */
  cleanup(): Promise<void>;
  /** Releases what the backend holds (a long-lived nft process); the kernel state stays. */
  close?(): Promise<void>;
}

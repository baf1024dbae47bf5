// Opening a store by kind: 'memory' (tests, throwaway clusters) or 'sqlite' (the default,
// durable in the data directory).
import { join } from 'node:path';
import { MemoryStore } from './memory.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export * from './types.js';
export { MemoryStore } from './memory.js';
export { openSqliteStore } from './sqlite.js';
export { EtcdStore, openEtcdStore, parseEtcdServers, type EtcdStoreOptions } from './etcd.js';

export type StoreKind = 'memory' | 'sqlite';

export function openStore(kind: StoreKind, dataDir: string, opts: { historyLimit?: number; historyBytes?: number } = {}): Store {
  if (kind === 'memory') return new MemoryStore(opts);
  return openSqliteStore(join(dataDir, 'state.db'), opts);
}

// The durable store: SQLite (better-sqlite3, WAL) in the data directory. Current objects live
// in `objects`, every change in `events` (the watch history, trimmed per resource), and the
// revision and compaction marks in `meta`. At start everything is loaded into a MemoryStore,
// which serves all reads; each write goes through to SQLite in one transaction first.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KubeObject } from '../api/types.js';
import { MemoryStore, type Persistence } from './memory.js';
import type { StoreEventType } from './types.js';
import { createLogger } from '../util/log.js';

export interface SqliteStoreOptions {
  historyLimit?: number;
  historyBytes?: number;
}

// `objects` is a rowid table with its key as a unique index: an object's JSON (about 1.4 KB for a
// Pod) is too large for a WITHOUT ROWID table, whose B-tree holds every row whole (an upsert cost
// 1.3-1.7x as much CPU there). Stores created before keep their WITHOUT ROWID table; every
// statement below works on both.
const schema = `
CREATE TABLE IF NOT EXISTS objects (
  resource TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, rev INTEGER NOT NULL, json TEXT NOT NULL,
  PRIMARY KEY (resource, ns, name)
);
CREATE TABLE IF NOT EXISTS events (
  rev INTEGER PRIMARY KEY, resource TEXT NOT NULL, type TEXT NOT NULL, json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_resource ON events (resource, rev);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

type Change = Parameters<Persistence['write']>[0];
const log = createLogger('store');

class SqlitePersistence implements Persistence {
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly addEvent: Database.Statement;
  private readonly setMeta: Database.Statement;
  private readonly trimEvents: Database.Statement;
  private readonly writeBatch: (changes: Change[]) => void;
  private readonly pendingCompaction = new Map<string, number>();
  private compactionTimer: NodeJS.Timeout | undefined;
  /** Group commit: changes of one event-loop turn go to SQLite in one transaction. */
  private pending: Change[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly db: Database.Database) {
    this.upsert = db.prepare('INSERT INTO objects (resource, ns, name, rev, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT (resource, ns, name) DO UPDATE SET rev = excluded.rev, json = excluded.json');
    this.remove = db.prepare('DELETE FROM objects WHERE resource = ? AND ns = ? AND name = ?');
    this.addEvent = db.prepare('INSERT INTO events (rev, resource, type, json) VALUES (?, ?, ?, ?)');
    this.setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.trimEvents = db.prepare('DELETE FROM events WHERE resource = ? AND rev <= ?');
    this.writeBatch = db.transaction((changes: Change[]) => {
      for (const c of changes) {
        if (c.type === 'DELETED') this.remove.run(c.resource, c.ns, c.name);
        else this.upsert.run(c.resource, c.ns, c.name, c.rev, c.json);
        this.addEvent.run(c.rev, c.resource, c.type, c.json);
      }
    });
  }

  write(change: Change): void {
    this.pending.push(change);
    if (this.pending.length === 1) setImmediate(() => this.flush());
  }

  sync(): Promise<void> {
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    try {
      this.writeBatch(batch);
    } catch (err) {
      // Memory already holds these changes and watchers saw them: running on would serve state
      // the disk does not have. Stop, so a restart serves what is durable.
      log.error('writing to the store failed; stopping', { err });
      process.exit(70);
    }
    for (const w of waiters) w();
  }

  compact(resource: string, rev: number): void {
    this.pendingCompaction.set(resource, rev);
    // Trimming is batched: one DELETE per resource a second, off the write path.
    this.compactionTimer ??= setTimeout(() => this.flushCompaction(), 1000);
    this.compactionTimer.unref();
  }

  private flushCompaction(): void {
    this.compactionTimer = undefined;
    this.flush();
    const tx = this.db.transaction(() => {
      for (const [resource, rev] of this.pendingCompaction) {
        this.trimEvents.run(resource, rev);
        this.setMeta.run(`compacted:${resource}`, String(rev));
      }
    });
    tx();
    this.pendingCompaction.clear();
  }

  check(): void {
    this.db.prepare("SELECT value FROM meta WHERE key = 'opened'").get();
  }

  close(): void {
    this.flush();
    if (this.compactionTimer) clearTimeout(this.compactionTimer);
    if (this.pendingCompaction.size > 0) this.flushCompaction();
    this.db.close();
  }
}

/**
 * The store holds every Secret: its file is created 0600 before SQLite opens it, and SQLite gives
 * the -wal and -shm files it creates the database file's mode. Files left by an older version are
 * narrowed to 0600.
 */
function privateFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

/** Opens (creating when missing) the store at `path` and loads it into memory. */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): MemoryStore {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  privateFile(path);
  const db = new Database(path, { timeout: 1000 });
  try {
    // One server per data directory: the exclusive lock is taken by the first write and kept.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(schema);
    db.exec("INSERT INTO meta (key, value) VALUES ('opened', datetime('now')) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(`the store ${path} is in use by another process (another flatnet server with the same --data-dir?); stop it or use another --data-dir`, { cause: err });
    }
    throw err;
  }
  const store = new MemoryStore({ historyLimit: opts.historyLimit, historyBytes: opts.historyBytes, persistence: new SqlitePersistence(db) });
  for (const row of db.prepare('SELECT resource, json FROM objects').iterate() as Iterable<{ resource: string; json: string }>) {
    store.loadObject(row.resource, JSON.parse(row.json) as KubeObject, row.json);
  }
  for (const row of db.prepare('SELECT rev, resource, type, json FROM events ORDER BY rev').iterate() as Iterable<{ rev: number; resource: string; type: StoreEventType; json: string }>) {
    store.loadEvent(row.resource, row.type, JSON.parse(row.json) as KubeObject, row.json, row.rev);
  }
  const compacted = new Map<string, number>();
  let revision = 0;
  for (const row of db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]) {
    if (row.key.startsWith('compacted:')) compacted.set(row.key.slice('compacted:'.length), Number(row.value));
  }
  const maxEvent = db.prepare('SELECT MAX(rev) AS rev FROM events').get() as { rev: number | null };
  revision = Math.max(revision, maxEvent.rev ?? 0);
  store.finishLoad(compacted, revision);
  return store;
}

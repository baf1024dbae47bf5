// The objects table: new stores make it a rowid table (large JSON rows), stores made before keep
// their WITHOUT ROWID table, and both take the same writes and load again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { KubeObject } from '../../../src/api/types.js';
import { openSqliteStore } from '../../../src/store/sqlite.js';

function objectsTableSql(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'objects'").get() as { sql: string }).sql;
  } finally {
    db.close();
  }
}

function writeUpdateAndReload(path: string): unknown {
  const store = openSqliteStore(path);
  store.create('/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x' }, data: { k: '1' } } as KubeObject);
  const e = store.get('/configmaps', 'x', 'a')!;
  store.update('/configmaps', { ...e.obj, data: { k: '2' } } as KubeObject, e.rev);
  store.close();
  const again = openSqliteStore(path);
  try {
    return again.get('/configmaps', 'x', 'a')?.obj.data;
  } finally {
    again.close();
  }
}

test('a new store keeps objects in a rowid table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-sqlite-'));
  try {
    const path = join(dir, 'state.db');
    assert.deepEqual(writeUpdateAndReload(path), { k: '2' });
    assert.doesNotMatch(objectsTableSql(path), /WITHOUT ROWID/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a store made with a WITHOUT ROWID objects table keeps it and takes writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-sqlite-'));
  try {
    const path = join(dir, 'state.db');
    const db = new Database(path);
    db.exec('CREATE TABLE objects (resource TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, rev INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (resource, ns, name)) WITHOUT ROWID');
    db.close();
    assert.deepEqual(writeUpdateAndReload(path), { k: '2' });
    assert.match(objectsTableSql(path), /WITHOUT ROWID/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

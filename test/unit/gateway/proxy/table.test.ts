// compileConfig with CompiledPieces: a config that reuses the previous config's VirtualHost and
// HttpRouteEntry objects (as the route model does) gets the same compiled objects back, new
// objects are compiled, and a problem is reported again, with its current field, on every update.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { HttpRouteEntry, ProxyConfig, VirtualHost, WeightedBackend } from '../../../../src/gateway/config.js';
import { CompiledPieces, compileConfig, type HttpTable } from '../../../../src/gateway/proxy/table.js';
import { SecureContextCache } from '../../../../src/gateway/proxy/tls.js';

function backend(port: number): WeightedBackend {
  return { weight: 1, name: `default/svc:${port}`, protocol: 'http', endpoints: [{ address: '127.0.0.1', port }], filters: [] };
}

function entry(path: string, port: number, type: 'PathPrefix' | 'RegularExpression' = 'PathPrefix'): HttpRouteEntry {
  return { source: { kind: 'HTTPRoute', namespace: 'default', name: `r${port}`, rule: 0, match: 0 }, match: { path: { type, value: path }, headers: [], queryParams: [] }, filters: [], backends: [backend(port)] };
}

function config(hosts: VirtualHost[]): ProxyConfig {
  return { ports: [{ kind: 'http', port: 8080, hosts }] };
}

function hostsOf(c: ReturnType<typeof compileConfig>): HttpTable['hosts'] {
  return (c.tables.get(8080) as HttpTable).hosts;
}

test('unchanged virtual hosts and entries are taken from the previous compile; new ones are compiled', () => {
  const pieces = new CompiledPieces();
  const certs = new SecureContextCache();
  const shared = entry('/', 9001);
  const a: VirtualHost = { hostname: 'A.example.com', entries: [entry('/a', 9000), shared] };
  const first = compileConfig(config([a]), certs, pieces);
  const b: VirtualHost = { hostname: 'b.example.com', entries: [shared] };
  const second = compileConfig(config([b, a]), certs, pieces);
  assert.equal(hostsOf(second)[1], hostsOf(first)[0], 'the same VirtualHost object: the same compiled host');
  assert.notEqual(hostsOf(second)[0], hostsOf(first)[0]);
  assert.equal(hostsOf(second)[0].hostname, 'b.example.com');
  assert.equal(hostsOf(second)[0].entries[0], hostsOf(first)[0].entries[1], 'an entry shared by two hosts is compiled once');
  assert.deepEqual([...second.endpoints].sort(), ['127.0.0.1:9000', '127.0.0.1:9001'], 'endpoints of reused hosts are still counted');
  // A fresh compile of the same config gives equal tables.
  const fresh = compileConfig(config([b, a]), new SecureContextCache());
  assert.deepEqual(hostsOf(second).map((h) => [h.hostname, h.entries.map((e) => [e.route, e.match.pathValue])]), hostsOf(fresh).map((h) => [h.hostname, h.entries.map((e) => [e.route, e.match.pathValue])]));
});

test('an entry that cannot be compiled is reported on every update with its current field', () => {
  const pieces = new CompiledPieces();
  const certs = new SecureContextCache();
  const bad: VirtualHost = { hostname: 'bad.example.com', entries: [entry('/ok', 9000), entry('([', 9001, 'RegularExpression')] };
  const first = compileConfig(config([bad]), certs, pieces);
  assert.equal(first.errors.length, 1);
  assert.match(first.errors[0], /ports\[0\]\.hosts\[0\]\.entries\[1\]\.match/);
  assert.equal(hostsOf(first)[0].entries.length, 1, 'the bad entry is dropped, the good one served');
  const other: VirtualHost = { hostname: 'other.example.com', entries: [entry('/', 9002)] };
  const second = compileConfig(config([other, bad]), certs, pieces);
  assert.equal(second.errors.length, 1, 'still reported after the first compile');
  assert.match(second.errors[0], /ports\[0\]\.hosts\[1\]\.entries\[1\]\.match/, 'with the field where it is now');
  assert.equal(hostsOf(second)[1].entries[0], hostsOf(first)[0].entries[0], 'its good entry is reused');
});

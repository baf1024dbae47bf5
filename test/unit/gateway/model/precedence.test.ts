// The fast precedence path (entries sorted once per route, routes merged per hostname) against
// the comparator that states the rules (orderEntries), and a route listed under two hostnames of
// one virtual host counting once, with its most specific hostname.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { HttpRouteEntry } from '../../../../src/gateway/config.js';
import { mergeRouteEntries, orderEntries, sortRouteEntries, type RankedEntry, type RankedRoute } from '../../../../src/gateway/model/precedence.js';
import { computeGatewayState } from '../../../../src/gateway/model/state.js';
import { backendRef, gateway, http, httpRoute, parent, world } from './fixtures.js';
import { prng } from '../../../support/prng.js';

test('mergeRouteEntries orders entries as orderEntries does', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = prng(seed);
    const pick = <T>(l: T[]): T => l[Math.floor(rand() * l.length)];
    const routes: RankedRoute[] = [];
    const ranked: RankedEntry[] = [];
    const count = 1 + Math.floor(rand() * 5);
    for (let r = 0; r < count; r++) {
      const name = `r${Math.floor(rand() * 3)}-${r}`;
      const created = pick(['2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', '']);
      const entries: HttpRouteEntry[] = [];
      for (let i = 0; i < Math.floor(rand() * 6); i++) {
        entries.push({
          source: { kind: 'HTTPRoute', namespace: 'ns', name, rule: Math.floor(rand() * 3), match: i },
          match: {
            path: { type: pick(['Exact', 'PathPrefix', 'RegularExpression'] as const), value: pick(['/', '/a', '/a/', '/abc', '/a.*']) },
            ...(rand() < 0.3 ? { method: 'GET' } : {}),
            headers: rand() < 0.4 ? [{ type: 'Exact', name: 'x', value: 'y' }] : [],
            queryParams: rand() < 0.2 ? [{ type: 'Exact', name: 'q', value: '1' }] : [],
          },
          filters: [],
          backends: [],
        });
      }
      routes.push({ sorted: sortRouteEntries(entries), created, routeKey: `ns/${name}` });
      for (const entry of entries) ranked.push({ entry, hostWeight: [0, 13], created, routeKey: `ns/${name}` });
    }
    const merged = mergeRouteEntries(routes);
    assert.deepStrictEqual([...merged.grpc, ...merged.http], orderEntries(ranked), `seed ${seed}`);
  }
});

test('a route under two hostnames of one virtual host is listed once, with the more specific one', () => {
  const gw = gateway('gw', [http('http', 80, { allowedRoutes: { namespaces: { from: 'All' } } })]);
  const both = httpRoute('both', { parentRefs: [parent('gw')], hostnames: ['a.example.com', '*.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/both' } }], backendRefs: [backendRef('infra-backend-v1')] }] });
  const wild = httpRoute('wild', { parentRefs: [parent('gw')], hostnames: ['*.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/wild' } }], backendRefs: [backendRef('infra-backend-v2')] }] });
  const state = computeGatewayState(world([gw, both, wild]));
  const port = state.gateways.get('gateway-conformance-infra/gw')!.config.ports[0];
  assert.equal(port.kind, 'http');
  if (port.kind !== 'http') return;
  const names = (hostname: string) => port.hosts.find((h) => h.hostname === hostname)!.entries.map((e) => `${e.source.name}${e.match.path.value}`);
  assert.deepStrictEqual(names('a.example.com'), ['both/both', 'wild/wild']);
  assert.deepStrictEqual(names('*.example.com'), ['both/both', 'wild/wild']);
});

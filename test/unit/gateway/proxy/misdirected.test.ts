// 421 Misdirected Request: the HTTPSListenerDetectMisdirectedRequests table (SNI, Host -> outcome).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMisdirected } from '../../../../src/gateway/proxy/misdirected.js';

// The listeners of the conformance Gateway same-namespace-with-https-listener, most specific first.
const LISTENERS = ['fourth-example.wildcard.org', 'second-example.org', '*.wildcard.org', '*'];

test('a Host under another listener than the SNI is misdirected; the same listener (even without a route) is not', () => {
  const cases: [string, string, boolean][] = [
    ['example.org', 'example.org', false],
    ['example.org', 'second-example.org', true],
    ['example.org', 'unknown-example.org', false],
    ['second-example.org', 'second-example.org', false],
    ['second-example.org', 'example.org', true],
    ['second-example.org', 'unknown-example.org', true],
    ['third-example.wildcard.org', 'third-example.wildcard.org', false],
    ['third-example.wildcard.org', 'fith-example.wildcard.org', false],
    ['third-example.wildcard.org', 'fourth-example.wildcard.org', true],
    ['third-example.wildcard.org', 'second-example.org', true],
    ['fourth-example.wildcard.org', 'fourth-example.wildcard.org', false],
    ['fourth-example.wildcard.org', 'fith-example.wildcard.org', true],
    ['unknown-example.org', 'example.org', false],
    ['UNKNOWN-example.org', 'unknown-example.org', false],
  ];
  for (const [sni, host, want] of cases) assert.equal(isMisdirected(LISTENERS, sni, host), want, `SNI ${sni}, Host ${host}`);
});

test('without a listener covering one of the names there is nothing to compare', () => {
  assert.equal(isMisdirected(['a.example'], 'a.example', 'b.example'), false);
  assert.equal(isMisdirected(['a.example'], 'b.example', 'a.example'), false);
  assert.equal(isMisdirected(['*'], '', 'a.example'), false);
});

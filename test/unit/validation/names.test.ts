import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cidrContains,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isWildcardDNS1123Subdomain,
  parseCIDR,
} from '../../../src/api/validation/names.js';

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

test('DNS-1123 label: upstream wording, including the double space before "or"', () => {
  assert.deepEqual(isDNS1123Label('Bad_Name'), [LABEL_MSG]);
  assert.deepEqual(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
  for (const ok of ['a', 'my-name', '123-abc', 'a'.repeat(63)]) assert.deepEqual(isDNS1123Label(ok), [], ok);
  for (const bad of ['-a', 'a-', 'A', 'a.b', '']) assert.equal(isDNS1123Label(bad).length, 1, bad);
});

test('DNS-1123 subdomain and DNS-1035 label', () => {
  assert.deepEqual(isDNS1123Subdomain('example.com'), []);
  assert.deepEqual(isDNS1123Subdomain('a..b').length, 1);
  assert.deepEqual(isDNS1123Subdomain('a'.repeat(254)).slice(0, 1), ['must be no more than 253 characters']);
  assert.deepEqual(isDNS1035Label('web'), []);
  assert.match(isDNS1035Label('1web')[0], /^a DNS-1035 label must consist of .* start with an alphabetic character/);
});

test('qualified names (label keys) and label values', () => {
  const table: [string, number][] = [
    ['app', 0],
    ['example.com/app', 0],
    ['kubernetes.io/metadata.name', 0],
    ['/app', 1],
    ['a/b/c', 1],
    ['Example.com/app', 1],
    ['app-', 1],
    ['a'.repeat(64), 1],
  ];
  for (const [key, n] of table) assert.equal(isQualifiedName(key).length, n, key);
  assert.deepEqual(isQualifiedName('/app'), ['prefix part must be non-empty']);
  assert.deepEqual(isValidLabelValue(''), []);
  assert.deepEqual(isValidLabelValue('my_value.1'), []);
  assert.equal(isValidLabelValue('-bad').length, 1);
  assert.match(isValidLabelValue('-bad')[0], /^a valid label must be an empty string or consist of/);
});

test('IANA service names (port names)', () => {
  assert.deepEqual(isValidPortName('http'), []);
  assert.deepEqual(isValidPortName('http-alt2'), []);
  assert.deepEqual(isValidPortName('8080'), ['must contain at least one letter (a-z)']);
  assert.deepEqual(isValidPortName('a--b'), ['must not contain consecutive hyphens']);
  assert.deepEqual(isValidPortName('-ab'), ['must not begin or end with a hyphen']);
  assert.deepEqual(isValidPortName('abcdefghijklmnop'), ['must be no more than 15 characters']);
  assert.deepEqual(isValidPortName('HTTP'), ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)', 'must contain at least one letter (a-z)']);
});

test('wildcard subdomains, config keys', () => {
  assert.deepEqual(isWildcardDNS1123Subdomain('*.example.com'), []);
  assert.equal(isWildcardDNS1123Subdomain('*.*.example.com').length, 1);
  assert.equal(isWildcardDNS1123Subdomain('a.*.example.com').length, 1);
  assert.deepEqual(isConfigMapKey('key.name'), []);
  assert.deepEqual(isConfigMapKey('..x'), ["must not start with '..'"]);
  assert.equal(isConfigMapKey('a/b').length, 1);
});

test('IPs and CIDRs, containment', () => {
  for (const ip of ['10.0.0.1', '::1', '2001:db8::ffff', '::ffff:10.0.0.1', 'fe80::1:2:3:4']) assert.deepEqual(isValidIP(ip), [], ip);
  for (const ip of ['10.0.0', '10.0.0.256', '01.2.3.4', '1::2::3', 'abc', '']) assert.equal(isValidIP(ip).length, 1, ip);
  assert.deepEqual(isValidCIDR('10.0.0.0/8'), []);
  assert.deepEqual(isValidCIDR('2001:db8::/64'), []);
  assert.equal(isValidCIDR('10.0.0.0/33').length, 1);
  assert.equal(isValidCIDR('10.0.0.0').length, 1);
  const outer = parseCIDR('10.0.0.0/16')!;
  assert.equal(cidrContains(outer, parseCIDR('10.0.5.0/24')!), true);
  assert.equal(cidrContains(outer, parseCIDR('10.1.0.0/24')!), false);
  assert.equal(cidrContains(outer, parseCIDR('10.0.0.0/8')!), false);
  assert.equal(cidrContains(parseCIDR('2001:db8::/32')!, parseCIDR('2001:db8:1::/48')!), true);
});

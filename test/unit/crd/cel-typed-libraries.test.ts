// The Kubernetes CEL libraries with their own value types, evaluated as rules see them: format
// (named formats, validate() as an optional list of upstream's messages), quantity() and its
// arithmetic and comparisons, ip()/cidr() objects and isIP/isCIDR with upstream's parsing
// refusals; and a CRD rule using them, compiled and evaluated through the rule walk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Optional } from '@marcbachmann/cel-js';
import { celEnvironment } from '../../../src/api/crd/cel/library.js';
import { compileSchemaRules, validateRules } from '../../../src/api/crd/cel/rules.js';
import type { JSONSchemaProps } from '../../../src/api/crd/types.js';

function run(expr: string, self: unknown = null): unknown {
  const env = celEnvironment();
  const checked = env.check(expr);
  assert.ok(checked.valid, `${expr} does not compile: ${checked.error?.message}`);
  return env.evaluate(expr, { self });
}

function fails(expr: string, message: RegExp): void {
  assert.throws(() => run(expr), message, expr);
}

function values(expr: string): unknown {
  const o = run(expr) as Optional<unknown>;
  return o.hasValue() ? o.value() : 'none';
}

test('format: every named format, validate() gives none or upstream messages', () => {
  assert.equal(values('format.dns1123Label().validate("my-name")'), 'none');
  assert.deepEqual(values('format.dns1123Label().validate("My_Name")'), [
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  ]);
  assert.deepEqual(values(`format.dns1123Label().validate("${'a'.repeat(64)}")`), ['must be no more than 63 characters']);
  assert.equal(values('format.dns1123Subdomain().validate("apiextensions.k8s.io")'), 'none');
  assert.notEqual(values('format.dns1035Label().validate("1abc")'), 'none');
  assert.equal(values('format.qualifiedName().validate("apiextensions.k8s.io/v1beta1")'), 'none');
  assert.equal(values('format.dns1123LabelPrefix().validate("my-label-prefix-")'), 'none');
  assert.notEqual(values('format.dns1123Label().validate("my-label-prefix-")'), 'none');
  assert.equal(values('format.dns1123SubdomainPrefix().validate("mysubdomain.prefix.-")'), 'none');
  assert.equal(values('format.dns1035LabelPrefix().validate("my-label-prefix-")'), 'none');
  assert.equal(values('format.labelValue().validate("")'), 'none');
  assert.notEqual(values('format.labelValue().validate("-x")'), 'none');
  assert.equal(values('format.uri().validate("http://example.com")'), 'none');
  assert.deepEqual(values('format.uri().validate("example")'), ['parse "example": invalid URI for request']);
  assert.equal(values('format.uuid().validate("123e4567-e89b-12d3-a456-426614174000")'), 'none');
  assert.deepEqual(values('format.uuid().validate("123")'), ['does not match the UUID format']);
  assert.equal(values('format.byte().validate("aGVsbG8=")'), 'none');
  assert.deepEqual(values('format.byte().validate("a")'), ['invalid base64']);
  assert.equal(values('format.date().validate("2021-01-01")'), 'none');
  assert.deepEqual(values('format.date().validate("2021-13-01x")'), ['invalid date']);
  assert.equal(values('format.datetime().validate("2021-01-01T00:00:00Z")'), 'none');
  assert.deepEqual(values('format.datetime().validate("yesterday")'), ['invalid datetime']);
  assert.equal(run('format.named("dns1123Label").hasValue()'), true);
  assert.equal(run('format.named("nope").hasValue()'), false);
  assert.deepEqual(values('format.named("uuid").value().validate("x")'), ['does not match the UUID format']);
  // an optional compared with null is never equal (cel-go); the Gateway API CRDs write such a rule
  assert.equal(run('format.dns1123Label().validate("ok") == null'), false);
  assert.equal(run('format.dns1123Label().validate("ok") == optional.none()'), true);
});

test('quantity: parsing, arithmetic, comparisons and conversions as upstream documents them', () => {
  assert.equal(run('quantity("50k").add(quantity("20k")) == quantity("70k")'), true);
  assert.equal(run('quantity("50k").add(20) == quantity("50020")'), true);
  assert.equal(run('quantity("50k").sub(quantity("20k")) == quantity("30k")'), true);
  assert.equal(run('quantity("50k").add(20).sub(quantity("100k")).sub(-50000) == quantity("20")'), true);
  assert.equal(run('quantity("200M").compareTo(quantity("0.2G"))'), 0n);
  assert.equal(run('quantity("50M").compareTo(quantity("50Mi"))'), -1n);
  assert.equal(run('quantity("50Mi").compareTo(quantity("50M"))'), 1n);
  assert.equal(run('quantity("150Mi").isGreaterThan(quantity("100Mi"))'), true);
  assert.equal(run('quantity("50Mi").isGreaterThan(quantity("100Mi"))'), false);
  assert.equal(run('quantity("50M").isLessThan(quantity("100M"))'), true);
  assert.equal(run('quantity("50000000G").isInteger()'), true);
  assert.equal(run('quantity("9999999999999999999999999999999999999G").isInteger()'), false);
  // Our bounds on digits and exponent (upstream has none; past them a parse costs milliseconds).
  assert.equal(run('isQuantity("1e1000") && isQuantity("1e-1000")'), true);
  assert.equal(run('isQuantity("1e1001") || isQuantity("1e99999")'), false);
  assert.equal(run(`isQuantity("${'9'.repeat(1000)}") && !isQuantity("${'9'.repeat(1001)}")`), true);
  assert.equal(run('quantity("50k").asInteger()'), 50000n);
  assert.equal(run('quantity("1.5Gi").asInteger()'), 1610612736n);
  assert.equal(run('quantity("50k").sub(20000).asApproximateFloat()'), 30000);
  assert.equal(run('quantity("-1.5").sign()'), -1n);
  assert.equal(run('quantity("0").sign()'), 0n);
  assert.equal(run('quantity("1e3") == quantity("1k")'), true);
  assert.equal(run('quantity("100m").add(quantity("900m")) == quantity("1")'), true);
  // finer than nano rounds up, away from zero
  assert.equal(run('quantity("0.0000000001") == quantity("1n")'), true);
  for (const ok of ['1.3G', '1.3Gi', '10000k', '-100m', '.5', '1e-3']) assert.equal(run(`isQuantity("${ok}")`), true, ok);
  for (const bad of ['1,3G', '200K', 'Three', 'Mi', '', '1.5Gb']) assert.equal(run(`isQuantity("${bad}")`), false, bad);
  fails('quantity("200K")', /unable to parse quantity's suffix/);
  fails('quantity("Three")', /quantities must match the regular expression/);
  fails('quantity("9999999999999999999999999999999999999G").asInteger()', /cannot convert value to integer/);
});

test('ip and cidr: objects, address classes, canonical form and upstream refusals', () => {
  assert.equal(run('ip("127.0.0.1").family()'), 4n);
  assert.equal(run('ip("::1").family() == 6'), true);
  assert.equal(run('ip("0.0.0.0").isUnspecified() && ip("::").isUnspecified() && !ip("::1").isUnspecified()'), true);
  assert.equal(run('ip("127.0.0.1").isLoopback() && ip("::1").isLoopback() && !ip("192.168.0.1").isLoopback()'), true);
  assert.equal(run('ip("224.0.0.1").isLinkLocalMulticast() && !ip("224.0.1.1").isLinkLocalMulticast()'), true);
  assert.equal(run('ip("ff02::1").isLinkLocalMulticast() && !ip("fd00::1").isLinkLocalMulticast()'), true);
  assert.equal(run('ip("169.254.169.254").isLinkLocalUnicast() && ip("fe80::1").isLinkLocalUnicast() && !ip("fd80::1").isLinkLocalUnicast()'), true);
  assert.equal(run('ip("192.168.0.1").isGlobalUnicast() && !ip("255.255.255.255").isGlobalUnicast()'), true);
  assert.equal(run('ip("2001:db8::abcd").isGlobalUnicast() && !ip("ff00::1").isGlobalUnicast()'), true);
  assert.equal(run('ip.isCanonical("127.0.0.1") && ip.isCanonical("2001:db8::abcd")'), true);
  assert.equal(run('ip.isCanonical("2001:DB8::ABCD") || ip.isCanonical("2001:db8::0:0:0:abcd")'), false);
  assert.equal(run('string(ip("2001:0db8:0:0:1:0:0:1"))'), '2001:db8::1:0:0:1');
  assert.equal(run('ip("10.0.0.1") == ip("10.0.0.1") && ip("10.0.0.1") != ip("10.0.0.2")'), true);
  assert.equal(run('isIP("::1") && !isIP("127.0.0.256") && !isIP(":::1") && !isIP("01.2.3.4")'), true);
  assert.equal(run('isIP("::ffff:1.2.3.4") || isIP("fe80::1%eth0")'), false);
  fails('ip("::ffff:1.2.3.4")', /IPv4-mapped IPv6 address "::ffff:1.2.3.4" is not allowed/);
  fails('ip("fe80::1%eth0")', /IP address "fe80::1%eth0" with zone value is not allowed/);
  fails('ip("127.0.0.256")', /IP Address "127.0.0.256" parse error during conversion from string/);

  assert.equal(run('cidr("192.168.0.0/24").containsIP("192.168.0.1") && !cidr("192.168.0.0/24").containsIP(ip("192.168.1.1"))'), true);
  assert.equal(run('cidr("192.168.0.0/24").containsIP("::1")'), false);
  assert.equal(run('cidr("192.168.0.0/24").containsCIDR("192.168.0.0/25") && !cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/23"))'), true);
  assert.equal(run('string(cidr("192.168.0.1/24"))'), '192.168.0.1/24');
  assert.equal(run('string(cidr("192.168.0.1/24").masked())'), '192.168.0.0/24');
  assert.equal(run('string(cidr("2001:db8::1/32").masked())'), '2001:db8::/32');
  assert.equal(run('cidr("192.168.0.1/24").ip() == ip("192.168.0.1")'), true);
  assert.equal(run('cidr("::1/128").prefixLength()'), 128n);
  assert.equal(run('isCIDR("10.0.0.0/8") && !isCIDR("1.2.3.4/33") && !isCIDR("1.2.3.4") && !isCIDR("::ffff:1.2.3.4/120")'), true);
  fails('cidr("1.2.3.4")', /network address parse error during conversion from string/);
});

test('a CRD rule using format and quantity compiles, passes valid values and names the field of bad ones', () => {
  const schema: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          host: { type: 'string', 'x-kubernetes-validations': [{ rule: '!format.dns1123Subdomain().validate(self).hasValue()', messageExpression: 'format.dns1123Subdomain().validate(self).value().join(", ")' }] },
          memory: { type: 'string', 'x-kubernetes-validations': [{ rule: 'isQuantity(self) && quantity(self).isLessThan(quantity("1Gi"))', message: 'memory must be a quantity under 1Gi' }] },
          net: { type: 'string', 'x-kubernetes-validations': [{ rule: 'isCIDR(self) && cidr(self).prefixLength() >= 16', message: 'net must be a /16 or smaller' }] },
        },
      },
    },
  };
  const { tree, errors } = compileSchemaRules(schema);
  assert.deepEqual(errors, []);
  assert.deepEqual(validateRules(tree, { spec: { host: 'a.example.com', memory: '512Mi', net: '10.1.0.0/16' } }), []);
  const bad = validateRules(tree, { spec: { host: 'A_host', memory: '2Gi', net: '10.0.0.0/8' } });
  assert.deepEqual(
    bad.map((e) => e.field),
    ['spec.host', 'spec.memory', 'spec.net'],
  );
  assert.match(bad[0].message, /a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters/);
  assert.match(bad[1].message, /memory must be a quantity under 1Gi/);
});

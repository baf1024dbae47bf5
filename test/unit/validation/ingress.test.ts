import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { createErrors, updateErrors } from './helpers.js';

const ing = (spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'ing', namespace: 'default' }, spec });
const backend = { service: { name: 'web', port: { number: 80 } } };
const withPath = (p: Record<string, unknown>, host?: string) => ing({ rules: [{ ...(host ? { host } : {}), http: { paths: [{ backend, ...p }] } }] });

test('valid ingresses', () => {
  const ok = [
    withPath({ path: '/', pathType: 'Prefix' }, 'foo.example.com'),
    withPath({ path: '/api', pathType: 'Exact' }, '*.example.com'),
    withPath({ pathType: 'ImplementationSpecific' }),
    ing({ defaultBackend: { service: { name: 'web', port: { name: 'http' } } } }),
    ing({ defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' } } }),
  ];
  for (const o of ok) assert.deepEqual(createErrors(R.ingresses, o), [], JSON.stringify(o));
});

test('ingress validation, upstream field paths and messages', () => {
  const table: [string, Record<string, unknown>, string][] = [
    ['pathType required', withPath({ path: '/' }), 'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified'],
    ['pathType enum', withPath({ path: '/', pathType: 'Regex' }), 'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"'],
    ['absolute path', withPath({ path: 'api', pathType: 'Prefix' }), 'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path'],
    ['no //', withPath({ path: '/a//b', pathType: 'Exact' }), "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'"],
    ['backend exclusive', withPath({ path: '/', pathType: 'Prefix', backend: { ...backend, resource: { kind: 'K', name: 'n' } } }),
      'spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both resource and service backends'],
    ['backend required', withPath({ path: '/', pathType: 'Prefix', backend: {} }), 'spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required'],
    ['port required', withPath({ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: {} } } }),
      'spec.rules[0].http.paths[0].backend: Required value: port name or number is required'],
    ['port name and number', withPath({ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http', number: 80 } } } }),
      'spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both port name & port number'],
    ['port number range', withPath({ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 0 } } } }),
      'spec.rules[0].http.paths[0].backend: Required value: port name or number is required'],
    ['host is DNS', withPath({ path: '/', pathType: 'Prefix' }, 'Foo.com'),
      `spec.rules[0].host: Invalid value: "Foo.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
    ['host not IP', withPath({ path: '/', pathType: 'Prefix' }, '10.0.0.1'), 'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'],
    ['wildcard once at start', withPath({ path: '/', pathType: 'Prefix' }, 'foo.*.com'),
      `spec.rules[0].host: Invalid value: "foo.*.com": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
    ['rules or default backend', ing({}), 'spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified'],
    ['paths required', ing({ rules: [{ http: { paths: [] } }] }), 'spec.rules[0].http.paths: Required value'],
  ];
  for (const [name, obj, expected] of table) {
    const errs = createErrors(R.ingresses, obj);
    assert.ok(errs.includes(expected), `${name}: got ${JSON.stringify(errs, null, 1)}`);
  }
});

test('IngressClass: controller required, domain-prefixed, immutable; parameters scope', () => {
  const ic = (spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'c' }, spec });
  assert.deepEqual(createErrors(R.ingressclasses, ic({ controller: 'flatnet.dev/ingress' })), []);
  assert.ok(createErrors(R.ingressclasses, ic({})).includes('spec.controller: Required value'));
  assert.ok(createErrors(R.ingressclasses, ic({ controller: 'x', parameters: { kind: 'K', name: 'n', scope: 'Namespace' } })).includes(
    "spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
  ));
  assert.ok(updateErrors(R.ingressclasses, ic({ controller: 'a.io/y' }), ic({ controller: 'a.io/x' })).includes('spec.controller: Invalid value: "a.io/y": field is immutable'));
});

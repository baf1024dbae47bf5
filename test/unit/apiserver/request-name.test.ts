// The name a list or watch asks for through fieldSelector=metadata.name=<name>, as upstream's
// RequestInfo reads it for the authorizers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nameFromFieldSelector } from '../../../src/apiserver/request-name.js';
import { requestAttributes } from '../../../src/apiserver/authorize.js';

test('an exact metadata.name requirement names the object', () => {
  assert.equal(nameFromFieldSelector('metadata.name=coredns'), 'coredns');
  assert.equal(nameFromFieldSelector('metadata.name==coredns'), 'coredns');
  assert.equal(nameFromFieldSelector('type=Opaque, metadata.name = coredns'), 'coredns');
  assert.equal(nameFromFieldSelector('metadata.name=a\\,b'), 'a,b');
});

test('anything else names nothing', () => {
  for (const s of [null, '', 'metadata.name!=coredns', 'metadata.namespace=kube-system', 'metadata.name=', 'metadata.name=..', 'metadata.name=.', 'metadata.name=a/b', 'metadata.name=a%2fb', 'xmetadata.name=a']) {
    assert.equal(nameFromFieldSelector(s), '', String(s));
  }
});

test('requestAttributes: a list or watch by metadata.name carries the name; a get, a legacy watch path and other verbs keep theirs', () => {
  const q = (o: Record<string, string>) => new URLSearchParams(o);
  const at = (method: string, path: string, query: URLSearchParams) => {
    const a = requestAttributes(method, path, query);
    assert.ok(a.resourceRequest);
    return `${a.verb} ${a.name}`;
  };
  assert.equal(at('GET', '/api/v1/namespaces/kube-system/configmaps', q({ watch: 'true', fieldSelector: 'metadata.name=coredns' })), 'watch coredns');
  assert.equal(at('GET', '/api/v1/namespaces/kube-system/configmaps', q({ fieldSelector: 'metadata.name=coredns' })), 'list coredns');
  assert.equal(at('GET', '/api/v1/namespaces/kube-system/configmaps', q({})), 'list ');
  assert.equal(at('GET', '/api/v1/namespaces/kube-system/configmaps/x', q({ fieldSelector: 'metadata.name=coredns' })), 'get x');
  assert.equal(at('DELETE', '/api/v1/namespaces/kube-system/configmaps', q({ fieldSelector: 'metadata.name=coredns' })), 'deletecollection ');
  assert.equal(at('GET', '/api/v1/watch/namespaces/kube-system/configmaps', q({ fieldSelector: 'metadata.name=coredns' })), 'watch ');
});

// The Ingresses of the seed documents, translated as their text describes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../../src/api/types.js';
import type { HttpPortConfig } from '../../../../src/gateway/config.js';
import { computeIngressState } from '../../../../src/gateway/ingress/state.js';
import { applyRegexReplace, route, servicesWithEndpoints, tlsSecret, world } from './fixtures.js';

function manifest(text: string): KubeObject {
  const obj = parseAllDocuments(text)[0]!.toJS() as KubeObject;
  obj.metadata.namespace ??= 'default';
  obj.metadata.creationTimestamp ??= '2026-01-01T00:00:00Z';
  return obj;
}

// Seed 001 (indentation restored): users and orders under api.example.com, TLS, rewrite-target /.
const SEED_001 = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app-ingress
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
spec:
  ingressClassName: nginx
  rules:
  - host: api.example.com
    http:
      paths:
      - path: /users
        pathType: Prefix
        backend:
          service:
            name: users-svc
            port:
              number: 80
      - path: /orders
        pathType: Prefix
        backend:
          service:
            name: orders-svc
            port:
              number: 80
  tls:
  - hosts:
    - api.example.com
    secretName: api-tls-cert
`;

// Seed 003: app.example.com with TLS, rewrite-target / and ssl-redirect, plus a cert-manager annotation.
const SEED_003 = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app-ingress
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
    nginx.ingress.kubernetes.io/ssl-redirect: "true"
    cert-manager.io/cluster-issuer: letsencrypt-prod
spec:
  ingressClassName: nginx
  tls:
  - hosts:
    - app.example.com
    secretName: app-tls
  rules:
  - host: app.example.com
    http:
      paths:
      - path: /api
        pathType: Prefix
        backend:
          service:
            name: api-service
            port:
              number: 80
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web-service
            port:
              number: 80
`;

function rewritten(entry: ReturnType<typeof route>, path: string): string {
  const f = entry!.entry.filters.find((x) => x.type === 'URLRewrite');
  assert.ok(f && f.type === 'URLRewrite' && f.path?.type === 'RegexReplace', 'a regex rewrite');
  return applyRegexReplace(f.path.pattern, f.path.replacement, path)!;
}

test('seed 001: api.example.com/users and /orders to their Services over HTTPS, rewritten to /, 80 and 443, the address in the status', () => {
  const ing = manifest(SEED_001);
  const { config, events, statuses } = computeIngressState(
    world({ ingresses: [ing], secrets: [tlsSecret('api-tls-cert', ['api.example.com'])], addresses: ['34.56.78.90'], ...servicesWithEndpoints('users-svc', 'orders-svc') }),
  );
  assert.deepEqual(events, []);
  assert.deepEqual(statuses.get('default/app-ingress'), [{ ip: '34.56.78.90' }]);
  assert.deepEqual(config.ports.map((p) => p.port), [80, 443]);
  const users = route(config, { port: 443, host: 'api.example.com', path: '/users/42' });
  assert.equal(users?.to, 'default/users-svc:80');
  assert.equal(rewritten(users, '/users/42'), '/');
  assert.equal(route(config, { port: 443, host: 'api.example.com', path: '/orders' })?.to, 'default/orders-svc:80');
  assert.equal(route(config, { port: 443, host: 'api.example.com', path: '/payments' }), undefined);
  assert.equal(route(config, { port: 80, host: 'api.example.com', path: '/users' })?.to, 'redirect');
  assert.deepEqual((config.ports[1] as HttpPortConfig).tls!.certificates.map((c) => c.hostnames), [['api.example.com']]);
});

test('seed 003: app.example.com /api and / over HTTPS with a 308 from HTTP; the cert-manager annotation is not ours', () => {
  const ing = manifest(SEED_003);
  const { config, events } = computeIngressState(world({ ingresses: [ing], secrets: [tlsSecret('app-tls', ['app.example.com'])], ...servicesWithEndpoints('api-service', 'web-service') }));
  assert.deepEqual(events, []);
  const api = route(config, { port: 443, host: 'app.example.com', path: '/api/v1/items' });
  assert.equal(api?.to, 'default/api-service:80');
  assert.equal(rewritten(api, '/api/v1/items'), '/');
  const web = route(config, { port: 443, host: 'app.example.com', path: '/index.html' });
  assert.equal(web?.to, 'default/web-service:80');
  assert.equal(rewritten(web, '/index.html'), '/');
  const http = route(config, { port: 80, host: 'app.example.com', path: '/api' })!;
  assert.deepEqual(http.entry.filters, [{ type: 'RequestRedirect', scheme: 'https', statusCode: 308 }]);
  assert.equal(route(config, { port: 443, host: 'other.example.com', path: '/' }), undefined);
});

test('seed 003 without its Secret yet (cert-manager has not issued it): a Warning, routes still programmed', () => {
  const { config, events } = computeIngressState(world({ ingresses: [manifest(SEED_003)], ...servicesWithEndpoints('api-service', 'web-service') }));
  assert.deepEqual(events.map((e) => e.reason), ['InvalidTLSSecret']);
  assert.match(events[0]!.message, /TLS Secret default\/app-tls does not exist/);
  assert.equal(route(config, { port: 443, host: 'app.example.com', path: '/api' })?.to, 'default/api-service:80');
});

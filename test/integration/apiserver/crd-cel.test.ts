// x-kubernetes-validations through kubectl and the real server: a CRD whose rules do not compile
// is refused naming the rule; a custom resource breaking a rule gets 422 naming the field and the
// rule's message; transition rules hold on update (an immutable field); status writes are checked
// too; a rule too costly for the value sent is refused without running it; quantity() takes at
// most 1,000 digits and an exponent within ±1,000.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false });
});
after(async () => {
  await s?.stop();
});

function crd(rules: { root?: object[]; size?: object[]; mode?: object[]; list?: object[]; amount?: object[] }): string {
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.cel.flatnet.dev' },
    spec: {
      group: 'cel.flatnet.dev',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              'x-kubernetes-validations': rules.root ?? [],
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    size: { type: 'integer', 'x-kubernetes-validations': rules.size ?? [] },
                    max: { type: 'integer' },
                    mode: { type: 'string', 'x-kubernetes-validations': rules.mode ?? [] },
                    list: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-validations': rules.list ?? [] },
                    amount: { type: 'string', maxLength: 2000, 'x-kubernetes-validations': rules.amount ?? [] },
                  },
                },
                status: { type: 'object', properties: { ready: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.ready >= 0', message: 'ready is never negative' }] },
              },
            },
          },
        },
      ],
    },
  });
}

const RULES = {
  root: [{ rule: 'self.spec.size <= self.spec.max', message: 'size must not exceed max' }],
  size: [{ rule: 'self % 2 == 0', messageExpression: "'size ' + string(self) + ' is odd'" }],
  mode: [{ rule: 'self == oldSelf', message: 'mode is immutable', reason: 'FieldValueForbidden' }],
  list: [{ rule: 'self.all(a, self.all(b, self.all(c, a + b + c >= 0)))' }],
};

function gadget(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'cel.flatnet.dev/v1', kind: 'Gadget', metadata: { name, namespace: 'default' }, spec });
}

test('a CRD whose rule does not compile is refused, naming the rule', async () => {
  const err = await s.kubectlFails(['apply', '-f', '-'], crd({ size: [{ rule: 'self +' }] }));
  assert.match(err, /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.properties\[size\]\.x-kubernetes-validations\[0\]\.rule: Invalid value: "self \+": compilation failed/);
  const err2 = await s.kubectlFails(['apply', '-f', '-'], crd({ size: [{ rule: 'self.nosuchfunction()' }] }));
  assert.match(err2, /compilation failed: found no matching overload/);
});

test('custom resources are checked against the rules on create, update and status writes', async () => {
  await s.kubectlOk(['apply', '-f', '-'], crd(RULES));
  await s.kubectlOk(['wait', '--for=condition=Established', 'crd/gadgets.cel.flatnet.dev', '--timeout=30s']);
  await s.kubectlOk(['apply', '-f', '-'], gadget('g1', { size: 2, max: 4, mode: 'fast', list: [1, 2] }));

  const tooBig = await s.kubectlFails(['apply', '-f', '-'], gadget('g2', { size: 6, max: 4, mode: 'fast' }));
  assert.match(tooBig, /Gadget "g2" is invalid: <nil>: Invalid value: "object": size must not exceed max/);
  const odd = await s.kubectlFails(['apply', '-f', '-'], gadget('g2', { size: 3, max: 4, mode: 'fast' }));
  assert.match(odd, /spec\.size: Invalid value: "integer": size 3 is odd/);

  const changed = await s.kubectlFails(['apply', '-f', '-'], gadget('g1', { size: 2, max: 4, mode: 'slow', list: [1, 2] }));
  assert.match(changed, /spec\.mode: Forbidden: mode is immutable/);
  assert.match(await s.kubectlOk(['get', 'gadget', 'g1', '-o', 'jsonpath={.spec.mode}']), /^fast$/);
  await s.kubectlOk(['apply', '-f', '-'], gadget('g1', { size: 4, max: 4, mode: 'fast', list: [1, 2] }));

  const status = await s.kubectlFails(['patch', 'gadget', 'g1', '--subresource=status', '--type=merge', '-p', '{"status":{"ready":-1}}']);
  assert.match(status, /status: Invalid value: "object": ready is never negative/);
  await s.kubectlOk(['patch', 'gadget', 'g1', '--subresource=status', '--type=merge', '-p', '{"status":{"ready":1}}']);
});

test('a rule too costly for the value sent is refused without running it', async () => {
  const list = Array.from({ length: 400 }, (_, i) => i);
  const err = await s.kubectlFails(['apply', '-f', '-'], gadget('g3', { size: 2, max: 4, mode: 'fast', list }));
  assert.match(err, /spec\.list: Invalid value: "array": rule evaluation would exceed the cost limit/);
  await s.kubectlOk(['apply', '-f', '-'], gadget('g3', { size: 2, max: 4, mode: 'fast', list: list.slice(0, 20) }));
});

test('isQuantity() takes at most 1,000 digits and an exponent within ±1,000 (every digit is written out)', async () => {
  await s.kubectlOk(['apply', '-f', '-'], crd({ ...RULES, amount: [{ rule: 'isQuantity(self)', message: 'amount must be a quantity' }] }));
  for (const [name, amount] of [['q1', '1e1000'], ['q2', '1e-1000'], ['q3', '9'.repeat(1000)]]) {
    await s.kubectlOk(['apply', '-f', '-'], gadget(name, { size: 2, max: 4, mode: 'fast', amount }));
  }
  for (const amount of ['1e1001', '1e99999', '9'.repeat(1001)]) {
    const err = await s.kubectlFails(['apply', '-f', '-'], gadget('q4', { size: 2, max: 4, mode: 'fast', amount }));
    assert.match(err, /spec\.amount: Invalid value: "string": amount must be a quantity/, amount.slice(0, 10));
  }
});

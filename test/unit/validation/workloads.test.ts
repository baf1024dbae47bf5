import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { createErrors, updateErrors } from './helpers.js';

const meta = { name: 'web', namespace: 'default' };
function deploy(spec: Record<string, unknown> = {}, labels: Record<string, string> = { app: 'web' }) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta,
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } }, ...spec },
  };
}

test('a plain deployment is valid', () => {
  assert.deepEqual(createErrors(R.deployments, deploy()), []);
});

test('deployment validation, upstream field paths and messages', () => {
  const table: [string, Record<string, unknown>, string][] = [
    ['selector must match template', deploy({}, { app: 'other', tier: 'x' }),
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other", "tier":"x"}: `selector` does not match template `labels`'],
    ['selector required', deploy({ selector: undefined }), 'spec.selector: Required value'],
    ['empty selector', deploy({ selector: {} }),
      'spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment'],
    ['replicas >= 0', deploy({ replicas: -1 }), 'spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    ['selector operator', deploy({ selector: { matchExpressions: [{ key: 'app', operator: 'Like', values: ['web'] }] } }),
      'spec.selector.matchExpressions[0].operator: Invalid value: "Like": not a valid selector operator'],
    ['In needs values', deploy({ selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'app', operator: 'In' }] } }),
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    ['template restartPolicy', deploy({ template: { metadata: { labels: { app: 'web' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } }),
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ['template image', deploy({ template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }] } } }), 'spec.template.spec.containers[0].image: Required value'],
    ['strategy type', deploy({ strategy: { type: 'BlueGreen' } }),
      'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"'],
    ['recreate has no rollingUpdate', deploy({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }),
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    ['both zero', deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }),
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
    ['percent', deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '150%' } } }), 'spec.strategy.rollingUpdate.maxSurge: Invalid value: "150%": must not be greater than 100%'],
    ['int or percent', deploy({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'lots' } } }),
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"lots\": must be an integer or percentage (e.g '5%')"],
    ['progress deadline', deploy({ minReadySeconds: 700 }), 'spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds'],
  ];
  for (const [name, obj, expected] of table) {
    const errs = createErrors(R.deployments, obj);
    assert.ok(errs.includes(expected), `${name}: got ${JSON.stringify(errs, null, 1)}`);
  }
});

test('selector is immutable on update (deployments and replicasets)', () => {
  const changed = deploy({ selector: { matchLabels: { app: 'web', v: '2' } } }, { app: 'web', v: '2' });
  const errs = updateErrors(R.deployments, changed, deploy());
  assert.ok(
    errs.includes('spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'),
    JSON.stringify(errs),
  );
  assert.deepEqual(updateErrors(R.deployments, deploy({ replicas: 5 }), deploy()), []);
  const rs = { ...deploy(), kind: 'ReplicaSet' };
  const rs2 = { ...changed, kind: 'ReplicaSet' };
  assert.equal(updateErrors(R.replicasets, rs2, rs).filter((e) => e.startsWith('spec.selector:')).length, 1);
});

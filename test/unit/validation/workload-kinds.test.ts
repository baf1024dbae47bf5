// Defaults and validation of StatefulSet, DaemonSet, Job and CronJob (upstream 1.32 values and wording).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { createErrors, defaulted, updateErrors } from './helpers.js';

const podTemplate = (labels: Record<string, string>, spec: Record<string, unknown> = {}) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } });

function expectErrors(r: (typeof R)[keyof typeof R], table: [string, Record<string, unknown>, string][]): void {
  for (const [name, obj, expected] of table) {
    const errs = createErrors(r, obj);
    assert.ok(errs.includes(expected), `${name}: got ${JSON.stringify(errs, null, 1)}`);
  }
}

test('StatefulSet defaults and validation', () => {
  const sts = (spec: Record<string, unknown> = {}, name = 'web') => ({
    metadata: { name, namespace: 'default' },
    spec: { serviceName: 'nginx', selector: { matchLabels: { app: 'a' } }, template: podTemplate({ app: 'a' }), ...spec },
  });
  const d = defaulted(R.statefulsets, sts());
  assert.deepEqual(
    [d.spec.replicas, d.spec.podManagementPolicy, d.spec.updateStrategy, d.spec.revisionHistoryLimit, d.spec.persistentVolumeClaimRetentionPolicy],
    [1, 'OrderedReady', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, 10, { whenDeleted: 'Retain', whenScaled: 'Retain' }],
  );
  assert.equal(d.spec.template.spec.restartPolicy, 'Always');
  assert.deepEqual(createErrors(R.statefulsets, sts()), []);
  // A volumeMount may name a volumeClaimTemplate.
  const withClaim = sts({
    template: podTemplate({ app: 'a' }, { containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'www', mountPath: '/data' }] }] }),
    volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] } }],
  });
  assert.deepEqual(createErrors(R.statefulsets, withClaim), []);
  assert.equal(defaulted(R.statefulsets, withClaim).spec.volumeClaimTemplates[0].status.phase, 'Pending');
  expectErrors(R.statefulsets, [
    ['policy', sts({ podManagementPolicy: 'Sometimes' }), "spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'"],
    ['strategy', sts({ updateStrategy: { type: 'Random' } }), "spec.updateStrategy: Invalid value: \"Random\": must be 'RollingUpdate' or 'OnDelete'"],
    ['partition', sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }), 'spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0'],
    ['replicas', sts({ replicas: -1 }), 'spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    ['labels', sts({ template: podTemplate({ app: 'b' }) }), 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`'],
    ['restartPolicy', sts({ template: podTemplate({ app: 'a' }, { restartPolicy: 'Never' }) }), 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ['retention', sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep' } }), 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"'],
    ['name is a DNS label', sts({}, 'web.v1'), 'metadata.name: Invalid value: "web.v1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')'],
  ]);
  assert.deepEqual(updateErrors(R.statefulsets, sts({ replicas: 5 }), sts()), []);
  assert.ok(
    updateErrors(R.statefulsets, sts({ serviceName: 'other' }), sts()).includes(
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  );
});

test('DaemonSet defaults and validation', () => {
  const ds = (spec: Record<string, unknown> = {}) => ({ metadata: { name: 'agent', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'a' } }, template: podTemplate({ app: 'a' }), ...spec } });
  const d = defaulted(R.daemonsets, ds());
  assert.deepEqual([d.spec.updateStrategy, d.spec.revisionHistoryLimit], [{ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, 10]);
  assert.deepEqual(createErrors(R.daemonsets, ds()), []);
  expectErrors(R.daemonsets, [
    ['empty selector', ds({ selector: {} }), 'spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for daemonset'],
    ['both zero', ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }), 'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
    ['percent', ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } } }), 'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%'],
    ['type', ds({ updateStrategy: { type: 'Later' } }), 'spec.updateStrategy.type: Unsupported value: "Later": supported values: "OnDelete", "RollingUpdate"'],
  ]);
  assert.ok(updateErrors(R.daemonsets, ds({ selector: { matchLabels: { app: 'a', x: 'y' } }, template: podTemplate({ app: 'a', x: 'y' }) }), ds()).some((l) => l.startsWith('spec.selector: Invalid value:') && l.endsWith('field is immutable')));
});

test('Job defaults, the generated selector and validation', () => {
  const job = (spec: Record<string, unknown> = {}) => ({
    metadata: { name: 'pi', namespace: 'default', uid: 'u-1' },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } }, ...spec },
  });
  const d = defaulted(R.jobs, job());
  assert.deepEqual(
    [d.spec.completions, d.spec.parallelism, d.spec.backoffLimit, d.spec.completionMode, d.spec.suspend, d.spec.podReplacementPolicy],
    [1, 1, 6, 'NonIndexed', false, 'TerminatingOrFailed'],
  );
  assert.deepEqual(d.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-1' } });
  assert.deepEqual(d.spec.template.metadata.labels, { 'batch.kubernetes.io/controller-uid': 'u-1', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': 'u-1', 'job-name': 'pi' });
  assert.deepEqual(d.metadata.labels, d.spec.template.metadata.labels);
  // Parallelism alone leaves completions unset (a work queue).
  assert.equal(defaulted(R.jobs, job({ parallelism: 3 })).spec.completions, undefined);
  assert.deepEqual(createErrors(R.jobs, job()), []);
  expectErrors(R.jobs, [
    ['restartPolicy', job({ template: { spec: { containers: [{ name: 'c', image: 'x' }], restartPolicy: 'Always' } } }), 'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'],
    ['backoffLimit', job({ backoffLimit: -1 }), 'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0'],
    ['indexed needs completions', job({ completionMode: 'Indexed', parallelism: 2 }), 'spec.completions: Required value: when completion mode is Indexed'],
    ['mode', job({ completionMode: 'Sometimes' }), 'spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"'],
    ['manual selector must match', job({ manualSelector: true, selector: { matchLabels: { a: 'b' } } }), 'spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`'],
  ]);
  const stored = defaulted(R.jobs, job());
  const changed = structuredClone(stored);
  changed.spec.template.spec.containers[0].image = 'other';
  changed.spec.completions = 2;
  const errs = updateErrors(R.jobs, changed, stored);
  assert.ok(errs.includes('spec.completions: Invalid value: 2: field is immutable'), JSON.stringify(errs));
  assert.ok(errs.some((l) => l.startsWith('spec.template: Invalid value:') && l.endsWith('field is immutable')));
});

test('CronJob defaults and validation', () => {
  const cj = (spec: Record<string, unknown> = {}, name = 'tick') => ({
    metadata: { name, namespace: 'default' },
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'OnFailure' } } } }, ...spec },
  });
  const d = defaulted(R.cronjobs, cj());
  assert.deepEqual([d.spec.concurrencyPolicy, d.spec.suspend, d.spec.successfulJobsHistoryLimit, d.spec.failedJobsHistoryLimit], ['Allow', false, 3, 1]);
  assert.equal(d.spec.jobTemplate.spec.completions, undefined);
  assert.deepEqual(createErrors(R.cronjobs, cj()), []);
  assert.deepEqual(createErrors(R.cronjobs, cj({ schedule: '@hourly', timeZone: 'Europe/Berlin' })), []);
  expectErrors(R.cronjobs, [
    ['schedule required', cj({ schedule: '' }), 'spec.schedule: Required value'],
    ['schedule fields', cj({ schedule: '* * *' }), 'spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]'],
    ['TZ in schedule', cj({ schedule: 'TZ=UTC 0 * * * *' }), 'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
    ['timeZone', cj({ timeZone: 'Mars/Olympus' }), 'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'],
    ['timeZone Local', cj({ timeZone: 'Local' }), 'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'],
    ['policy', cj({ concurrencyPolicy: 'Sometimes' }), 'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'],
    ['history', cj({ failedJobsHistoryLimit: -1 }), 'spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0'],
    ['template restartPolicy', cj({ jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }], restartPolicy: 'Always' } } } } }), 'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'],
    ['name length', cj({}, 'a'.repeat(53)), `metadata.name: Invalid value: "${'a'.repeat(53)}": must be no more than 52 characters`],
  ]);
});

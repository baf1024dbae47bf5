// Several `flatnet server` processes started at the same moment on one fresh etcd all race to
// write the built-in objects (namespaces, the bootstrap RBAC policy, aggregated ClusterRoles, the
// `kubernetes` Service): each create that loses gets AlreadyExists and each update a Conflict,
// which the loser must accept (the object is there) or redo on the new state, never fail start-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../../src/api/resources.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { startEtcd } from '../../unit/store/etcd-member.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from '../../../src/apiserver/rbac/bootstrap-policy.js';

const SERVERS = 2;
const ROUNDS = 3;

test(`${SERVERS} API servers started together on a fresh etcd all start, and the bootstrap objects exist once`, async () => {
  for (let round = 1; round <= ROUNDS; round++) {
    const etcd = await startEtcd();
    const started: TestServer[] = [];
    try {
      const results = await Promise.allSettled(
        Array.from({ length: SERVERS }, () => startTestServer({ controllers: false, args: ['--store', 'etcd', '--etcd-servers', etcd.url] })),
      );
      for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
      const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      assert.deepEqual(failed, [], `round ${round}: every server starts`);
      for (const s of started) {
        const roles = await s.client.list(R.clusterroles);
        const names = new Set(roles.items.map((o) => o.metadata.name));
        for (const want of bootstrapClusterRoles()) assert.ok(names.has(want.metadata.name), `round ${round}: ClusterRole ${want.metadata.name} on ${s.url}`);
        const admin = roles.items.find((o) => o.metadata.name === 'admin') as { rules?: unknown[] } | undefined;
        assert.ok((admin?.rules?.length ?? 0) > 0, `round ${round}: the aggregated admin ClusterRole has its rules`);
        const bindings = new Set((await s.client.list(R.clusterrolebindings)).items.map((o) => o.metadata.name));
        for (const want of bootstrapClusterRoleBindings()) assert.ok(bindings.has(want.metadata.name), `round ${round}: ClusterRoleBinding ${want.metadata.name}`);
        const namespaces = new Set((await s.client.list(R.namespaces)).items.map((o) => o.metadata.name));
        for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.ok(namespaces.has(ns), `round ${round}: namespace ${ns}`);
        assert.ok(await s.client.get(R.services, 'default', 'kubernetes'), `round ${round}: the kubernetes Service`);
      }
    } finally {
      await Promise.all(started.map((s) => s.stop()));
      await etcd.stop();
    }
  }
});

// RBAC and ServiceAccount tokens with the real server and the real kubectl: a ServiceAccount's
// token (kubectl create token) is refused until a RoleBinding grants it view; auth can-i (also
// with --as, through impersonation), auth whoami, the default ServiceAccount and
// kube-root-ca.crt per namespace, and the ServiceAccount admission rule.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { R } from '../../../src/api/resources.js';
import { startTestServer, type TestServer } from '../../support/server.js';

let s: TestServer;
let saKubeconfig: string;
const SA_USER = 'system:serviceaccount:default:x';

async function eventually<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.stop();
});

const asSA = (args: string[]) => s.kubectl(['--kubeconfig', saKubeconfig, ...args]);

test('kubectl create sa and create token give a signed token the server accepts as the ServiceAccount', async () => {
  assert.equal((await s.kubectl(['create', 'sa', 'x'])).code, 0);
  const token = await s.kubectl(['create', 'token', 'x', '--duration', '20m']);
  assert.equal(token.code, 0, token.stderr);
  const jwt = token.stdout.trim();
  const [header, payload] = jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
  assert.equal(header.alg, 'ES256');
  const sa = await s.client.get(R.serviceaccounts, 'default', 'x');
  assert.equal(payload.sub, SA_USER);
  assert.deepEqual(payload['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'x', uid: sa!.metadata.uid } });
  assert.equal((payload.exp as number) - (payload.iat as number), 1200);
  const admin = readFileSync(s.kubeconfig, 'utf8');
  const cfg = JSON.parse(JSON.stringify((await import('yaml')).parse(admin))) as { users: { name: string; user: Record<string, string> }[] };
  cfg.users = cfg.users.map((u) => ({ name: u.name, user: { token: jwt } }));
  saKubeconfig = join(s.dataDir, 'sa-x.kubeconfig');
  writeFileSync(saKubeconfig, stringify(cfg), { mode: 0o600 });
  const whoami = await asSA(['auth', 'whoami', '-o', 'json']);
  assert.equal(whoami.code, 0, whoami.stderr);
  const info = (JSON.parse(whoami.stdout) as { status: { userInfo: { username: string; uid: string; groups: string[] } } }).status.userInfo;
  assert.equal(info.username, SA_USER);
  assert.equal(info.uid, sa!.metadata.uid);
  assert.deepEqual(info.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
  const short = await s.kubectl(['create', 'token', 'x', '--duration', '1m']);
  assert.notEqual(short.code, 0);
  assert.match(short.stderr, /may not specify a duration less than 10 minutes/);
  const missing = await s.kubectl(['create', 'token', 'nobody']);
  assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
});

test('the ServiceAccount gets 403 with upstream wording until a RoleBinding grants view', async () => {
  const denied = await asSA(['get', 'pods']);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /Error from server \(Forbidden\): pods is forbidden: User "system:serviceaccount:default:x" cannot list resource "pods" in API group "" in the namespace "default"/);
  assert.equal((await asSA(['api-resources', '-o', 'name'])).code, 0, 'discovery stays reachable (system:discovery)');
  assert.equal((await asSA(['auth', 'can-i', 'list', 'pods'])).stdout.trim(), 'no');
  const bind = await s.kubectl(['create', 'rolebinding', 'x', '--clusterrole=view', '--serviceaccount=default:x']);
  assert.equal(bind.code, 0, bind.stderr);
  const wide = await s.kubectl(['get', 'rolebinding', 'x', '-o', 'wide', '--no-headers']);
  assert.match(wide.stdout, /^x\s+ClusterRole\/view\s+\S+\s+default\/x/);
  await eventually('the binding to take effect', async () => ((await asSA(['get', 'pods'])).code === 0 ? true : undefined));
  assert.equal((await asSA(['auth', 'can-i', 'list', 'pods'])).stdout.trim(), 'yes');
  assert.equal((await asSA(['auth', 'can-i', 'get', 'pods', '--subresource=log'])).stdout.trim(), 'yes', 'view aggregates pods/log');
  assert.equal((await asSA(['auth', 'can-i', 'create', 'pods'])).stdout.trim(), 'no');
  assert.equal((await asSA(['auth', 'can-i', 'list', 'secrets'])).stdout.trim(), 'no');
  assert.equal((await asSA(['auth', 'can-i', 'list', 'pods', '-n', 'kube-system'])).stdout.trim(), 'no', 'a RoleBinding is namespaced');
  const other = await asSA(['get', 'configmaps', '-n', 'kube-system']);
  assert.match(other.stderr, /configmaps is forbidden: User "system:serviceaccount:default:x" cannot list resource "configmaps" in API group "" in the namespace "kube-system"/);
  const list = await asSA(['auth', 'can-i', '--list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]/m);
});

test('the admin is kubernetes-admin in system:masters, and can-i --as impersonates', async () => {
  const whoami = await s.kubectl(['auth', 'whoami', '-o', 'json']);
  const info = (JSON.parse(whoami.stdout) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
  assert.equal(info.username, 'kubernetes-admin');
  assert.ok(info.groups.includes('system:masters'));
  assert.equal((await s.kubectl(['auth', 'can-i', 'list', 'pods', `--as=${SA_USER}`])).stdout.trim(), 'yes');
  assert.equal((await s.kubectl(['auth', 'can-i', 'delete', 'nodes', `--as=${SA_USER}`])).stdout.trim(), 'no');
  assert.equal((await s.kubectl(['auth', 'can-i', '*', '*'])).stdout.trim(), 'yes');
  const asOther = await s.kubectl(['get', 'pods', '--as=jane']);
  assert.match(asOther.stderr, /pods is forbidden: User "jane" cannot list resource "pods"/);
  // The ServiceAccount may not impersonate.
  const escalate = await asSA(['get', 'pods', '--as=kubernetes-admin', '--as-group=system:masters']);
  assert.match(escalate.stderr, /users "kubernetes-admin" is forbidden: User "system:serviceaccount:default:x" cannot impersonate resource "users" in API group "" at the cluster scope/);
});

test('default roles and bindings are served with aggregation, tables and explain', async () => {
  const roles = await s.kubectl(['get', 'clusterroles', '-o', 'name']);
  for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user', 'system:public-info-viewer']) assert.match(roles.stdout, new RegExp(`clusterrole.rbac.authorization.k8s.io/${name}\\n`));
  const view = JSON.parse((await s.kubectl(['get', 'clusterrole', 'view', '-o', 'json'])).stdout) as { rules: { resources?: string[] }[] };
  assert.ok(view.rules.some((r) => r.resources?.includes('pods/log')), 'view holds the aggregated rules');
  // A new role labelled aggregate-to-view joins view.
  const crd = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- apiGroups: [example.com]
  resources: [widgets]
  verbs: [get, list, watch]
`;
  assert.equal((await s.kubectl(['apply', '-f', '-'], crd)).code, 0);
  await eventually('view to aggregate widgets', async () => {
    const v = JSON.parse((await s.kubectl(['get', 'clusterrole', 'view', '-o', 'json'])).stdout) as { rules: { resources?: string[] }[] };
    return v.rules.some((r) => r.resources?.includes('widgets')) ? true : undefined;
  });
  // A SubjectAccessReview (admins ask about others) sees the aggregated rule. (--validate=false: kubectl
  // validates create-only kinds on the client with /openapi/v2, which this server does not serve yet.)
  const sar = (group: string) => `apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: ${SA_USER}
  groups: [system:serviceaccounts, system:authenticated]
  resourceAttributes: {namespace: default, verb: list, group: ${group}, resource: widgets}
`;
  const review = await s.kubectl(['create', '--validate=false', '-f', '-', '-o', 'json'], sar('example.com'));
  assert.equal(review.code, 0, review.stderr);
  const status = (JSON.parse(review.stdout) as { status: { allowed: boolean; reason?: string } }).status;
  assert.equal(status.allowed, true);
  assert.match(status.reason ?? '', /RoleBinding "x\/default" of ClusterRole "view"/);
  const other = await s.kubectl(['create', '--validate=false', '-f', '-', '-o', 'json'], sar('other.example.com'));
  assert.equal((JSON.parse(other.stdout) as { status: { allowed: boolean } }).status.allowed, false);
  const crb = await s.kubectl(['get', 'clusterrolebinding', 'system:discovery', '-o', 'wide', '--no-headers']);
  assert.match(crb.stdout, /^system:discovery\s+ClusterRole\/system:discovery\s+\S+\s+system:authenticated/);
  const explain = await s.kubectl(['explain', 'clusterrole.aggregationRule']);
  assert.equal(explain.code, 0, explain.stderr);
  assert.match(explain.stdout, /clusterRoleSelectors/);
  const bad = await s.kubectl(['create', 'rolebinding', 'bad', '--clusterrole=view', '--serviceaccount=default:x', '--dry-run=server', '-o', 'name']);
  assert.equal(bad.code, 0, bad.stderr);
  const invalid = await s.kubectl(['apply', '-f', '-'], 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules:\n- apiGroups: [""]\n  resources: [pods]\n  verbs: []\n');
  assert.match(invalid.stderr, /rules\[0\]\.verbs: Required value: verbs must contain at least one value/);
});

test('no escalation: a namespace admin may grant only what it holds', async () => {
  assert.equal((await s.kubectl(['create', 'namespace', 'rbac-esc'])).code, 0);
  assert.equal((await s.kubectl(['create', 'rolebinding', 'x-admin', '-n', 'rbac-esc', '--clusterrole=admin', '--serviceaccount=default:x'])).code, 0);
  await eventually('admin to take effect', async () => ((await asSA(['auth', 'can-i', 'create', 'rolebindings', '-n', 'rbac-esc'])).stdout.trim() === 'yes' ? true : undefined));
  const up = await asSA(['create', 'rolebinding', 'all', '-n', 'rbac-esc', '--clusterrole=cluster-admin', '--serviceaccount=rbac-esc:default']);
  assert.notEqual(up.code, 0);
  assert.match(up.stderr, /rolebindings.rbac.authorization.k8s.io "all" is forbidden: user "system:serviceaccount:default:x" \(groups=\["system:serviceaccounts" "system:serviceaccounts:default" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:/);
  const view = await asSA(['create', 'rolebinding', 'v', '-n', 'rbac-esc', '--clusterrole=view', '--serviceaccount=rbac-esc:default']);
  assert.equal(view.code, 0, view.stderr);
  const nodes = await asSA(['create', 'role', 'nodes', '-n', 'rbac-esc', '--verb=get', '--resource=nodes']);
  assert.match(nodes.stderr, /roles.rbac.authorization.k8s.io "nodes" is forbidden: .*not currently held:\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}/);
  const pods = await asSA(['create', 'role', 'pods', '-n', 'rbac-esc', '--verb=get', '--resource=pods']);
  assert.equal(pods.code, 0, pods.stderr);
  const still = await asSA(['get', 'pods', '-n', 'default']);
  assert.equal(still.code, 0, `the view binding in default still holds: ${still.stderr}`);
});

test('every namespace gets a default ServiceAccount and kube-root-ca.crt; pods name existing ServiceAccounts', async () => {
  assert.equal((await s.kubectl(['create', 'namespace', 'rbac-t'])).code, 0);
  await eventually('default ServiceAccount', () => s.client.get(R.serviceaccounts, 'rbac-t', 'default'));
  const cm = await eventually('kube-root-ca.crt', () => s.client.get(R.configmaps, 'rbac-t', 'kube-root-ca.crt'));
  assert.equal((cm.data as Record<string, string>)['ca.crt'], readFileSync(join(s.dataDir, 'ca.crt'), 'utf8'));
  const bad = await s.kubectl(['run', 'p', '-n', 'rbac-t', '--image=busybox', '--overrides={"spec":{"serviceAccountName":"nope"}}']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /pods "p" is forbidden: error looking up service account rbac-t\/nope: serviceaccount "nope" not found/);
  const ok = await s.kubectl(['run', 'p', '-n', 'rbac-t', '--image=busybox']);
  assert.equal(ok.code, 0, ok.stderr);
  const pod = await s.client.get(R.pods, 'rbac-t', 'p');
  assert.equal((pod!.spec as { serviceAccountName: string }).serviceAccountName, 'default');
  // A deleted ServiceAccount's tokens stop working.
  assert.equal((await s.kubectl(['delete', 'sa', 'x'])).code, 0);
  const gone = await asSA(['get', 'pods']);
  assert.match(gone.stderr, /Unauthorized|must be logged in/);
});

test('the signing key is private (0600)', () => {
  assert.equal((statSync(join(s.dataDir, 'sa-signer.key')).mode & 0o777).toString(8), '600');
});

// CustomResourceDefinitions through the real kubectl: a CRD applied and established, its custom
// resources created, listed, patched, scaled, explained, validated (422 with field paths),
// pruned (fieldValidation Warn/Strict), defaulted, watched and printed with the CRD's columns;
// discovery and OpenAPI follow the CRD; deleting it deletes its objects; the CRDs of the Gateway
// API standard bundle agree with flatnet's built-in Gateway API kinds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../support/server.js';
import { GATEWAY_BUNDLE, GATEWAY_STANDARD_KINDS, WIDGET_CRD } from '../../unit/crd/fixtures.js';

let s: TestServer;

before(async () => {
  s = await startTestServer({ store: 'sqlite', controllers: false });
});
after(async () => {
  await s?.stop();
});

interface RawAnswer {
  code: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const url = new URL(s.url);
  const ca = readFileSync(join(s.dataDir, 'ca.crt'));
  const tok = readFileSync(join(s.dataDir, 'admin.token'), 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = https.request({ host: url.hostname, port: url.port, method, path, ca, headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const widgets = '/apis/demo.flatnet.dev/v1/namespaces/default/widgets';

function widget(name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}): string {
  return JSON.stringify({ apiVersion: 'demo.flatnet.dev/v1', kind: 'Widget', metadata: { name, labels }, spec });
}

test('a CRD is stored, gets NamesAccepted and Established, and is listed as kubectl prints CRDs', async () => {
  assert.match(await s.kubectlOk(['apply', '-f', '-'], WIDGET_CRD), /customresourcedefinition.apiextensions.k8s.io\/widgets.demo.flatnet.dev created/);
  await s.kubectlOk(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/widgets.demo.flatnet.dev']);
  const conditions = JSON.parse(await s.kubectlOk(['get', 'crd', 'widgets.demo.flatnet.dev', '-o', 'jsonpath={.status.conditions}'])) as { type: string; status: string; reason: string }[];
  assert.deepEqual(
    conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['NamesAccepted', 'True', 'NoConflicts'],
      ['Established', 'True', 'InitialNamesAccepted'],
    ],
  );
  assert.equal(await s.kubectlOk(['get', 'crd', 'widgets.demo.flatnet.dev', '-o', 'jsonpath={.status.acceptedNames.kind} {.status.storedVersions} {.spec.names.listKind}']), 'Widget ["v1"] WidgetList');
  assert.match(await s.kubectlOk(['get', 'crds']), /^NAME\s+CREATED AT\n.*widgets\.demo\.flatnet\.dev\s+\d{4}-/s);
});

test('invalid CRDs are refused with the field that is wrong', async () => {
  const bad = WIDGET_CRD.replace('group: demo.flatnet.dev', 'group: demo').replace('name: widgets.demo.flatnet.dev', 'name: widgets.demo');
  assert.match(await s.kubectlFails(['apply', '-f', '-'], bad), /spec\.group: Invalid value: "demo": should be a domain with at least one dot/);
  const twoStorage = WIDGET_CRD.replace('name: widgets.demo.flatnet.dev', 'name: gizmos.demo.flatnet.dev').replace(/plural: widgets\n {4}singular: widget\n {4}kind: Widget\n {4}shortNames: \[wg\]/, 'plural: gizmos\n    singular: gizmo\n    kind: Gizmo').replace('storage: true', 'storage: false');
  assert.match(await s.kubectlFails(['apply', '-f', '-'], twoStorage), /spec\.versions: Invalid value: .*must have exactly one version marked as storage version/);
});

test('a CRD whose names another CRD of the group holds is stored with NamesAccepted False and not served', async () => {
  const clash = WIDGET_CRD.replace('name: widgets.demo.flatnet.dev', 'name: gadgets.demo.flatnet.dev').replace('plural: widgets', 'plural: gadgets').replace('singular: widget', 'singular: gadget').replace('shortNames: [wg]', 'shortNames: [gd]');
  await s.kubectlOk(['apply', '-f', '-'], clash);
  let reason = '';
  for (let i = 0; i < 50 && reason === ''; i++) {
    reason = await s.kubectlOk(['get', 'crd', 'gadgets.demo.flatnet.dev', '-o', 'jsonpath={.status.conditions[?(@.type=="NamesAccepted")].reason}']);
    if (reason === '') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(reason, 'KindConflict');
  assert.equal(await s.kubectlOk(['get', 'crd', 'gadgets.demo.flatnet.dev', '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']), 'False');
  assert.equal((await raw('GET', '/apis/demo.flatnet.dev/v1/namespaces/default/gadgets')).code, 404);
  await s.kubectlOk(['delete', 'crd', 'gadgets.demo.flatnet.dev']);
});

test('custom resources: create with defaults, get, list with selectors, printer columns, short names and categories', async () => {
  await s.kubectlOk(['apply', '-f', '-'], `apiVersion: demo.flatnet.dev/v1\nkind: Widget\nmetadata: {name: w1, labels: {tier: front}}\nspec: {size: small, port: http}\n`);
  await s.kubectlOk(['create', '-f', '-'], `apiVersion: demo.flatnet.dev/v1\nkind: Widget\nmetadata: {name: w2, labels: {tier: back}}\nspec: {size: large, replicas: 4, port: 8080}\n`);
  const w1 = JSON.parse(await s.kubectlOk(['get', 'widget', 'w1', '-o', 'json']));
  assert.equal(w1.spec.replicas, 1, 'default from the schema');
  assert.equal(w1.spec.color, '#000000');
  assert.equal(w1.metadata.generation, 1);
  assert.equal(w1.status, undefined, 'status is not set on create when it is a subresource');
  const table = await s.kubectlOk(['get', 'widgets']);
  assert.match(table, /^NAME\s+SIZE\s+REPLICAS\s+READY\s+AGE\n/);
  assert.match(table, /\nw1\s+small\s+1\s+\d+s\n/);
  assert.match(table, /\nw2\s+large\s+4\s+\d+s\n/);
  assert.equal(await s.kubectlOk(['get', 'wg', '-l', 'tier=back', '-o', 'name']), 'widget.demo.flatnet.dev/w2\n');
  assert.equal(await s.kubectlOk(['get', 'widgets', '--field-selector', 'metadata.name=w1', '-o', 'name']), 'widget.demo.flatnet.dev/w1\n');
  assert.equal(await s.kubectlOk(['get', 'widgets', '--field-selector', 'spec.size=large', '-o', 'name']), 'widget.demo.flatnet.dev/w2\n', 'a selectableField');
  assert.match(await s.kubectlFails(['get', 'widgets', '--field-selector', 'spec.color=#000000']), /field label not supported: spec\.color/);
  assert.match(await s.kubectlOk(['get', 'flatnet-demo', '-o', 'name']), /widget\.demo\.flatnet\.dev\/w1/);
  assert.match(await s.kubectlOk(['get', 'widgets.v1.demo.flatnet.dev', '-A']), /^NAMESPACE\s+NAME\s+SIZE/);
});

test('invalid custom resources are 422 with the field paths of the schema checks', async () => {
  const stderr = await s.kubectlFails(['create', '-f', '-'], `apiVersion: demo.flatnet.dev/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: huge, replicas: 500, color: red, tags: [a, b, c, d], owner: nobody}\n`);
  assert.match(stderr, /The Widget "bad" is invalid/);
  assert.match(stderr, /spec\.size: Unsupported value: "huge": supported values: "small", "medium", "large"/);
  assert.match(stderr, /spec\.replicas: Invalid value: 500: spec\.replicas in body should be less than or equal to 100/);
  assert.match(stderr, /spec\.color: Invalid value: "red": spec\.color in body should match '\^#\[0-9a-f\]\{6\}\$'/);
  assert.match(stderr, /spec\.tags: Too many: 4: must have at most 3 items/);
  assert.match(stderr, /spec\.owner: Invalid value: "nobody": spec\.owner in body must be of type email: "nobody"/);
  const r = await raw('POST', widgets, widget('bad2', { replicas: 'three' }));
  assert.equal(r.code, 422);
  const status = JSON.parse(r.body);
  assert.equal(status.reason, 'Invalid');
  assert.deepEqual(
    status.details.causes.map((c: { field: string; reason: string }) => `${c.field} ${c.reason}`).sort(),
    ['spec.replicas FieldValueTypeInvalid', 'spec.size FieldValueRequired'],
  );
  assert.equal((await raw('GET', `${widgets}/bad`)).code, 404);
  // An embedded resource needs apiVersion and kind.
  const e = await raw('POST', widgets, widget('bad3', { size: 'small', template: { metadata: { name: 'x' } } }));
  assert.equal(e.code, 422);
  assert.match(e.body, /spec\.template\.apiVersion: Required value/);
});

test('unknown fields are pruned: a warning with fieldValidation Warn, 400 with Strict, kept where the schema preserves them', async () => {
  const body = widget('w3', { size: 'medium', bogus: 1, extra: { free: { form: true } }, template: { apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } } });
  const strict = await raw('POST', `${widgets}?fieldValidation=Strict`, body);
  assert.equal(strict.code, 400);
  assert.match(strict.body, /strict decoding error: unknown field \\"spec.bogus\\"/);
  const warn = await raw('POST', `${widgets}?fieldValidation=Warn`, body);
  assert.equal(warn.code, 201, warn.body);
  assert.match(String(warn.headers.warning), /unknown field \\?"spec.bogus\\?"/);
  const stored = JSON.parse(warn.body);
  assert.equal(stored.spec.bogus, undefined);
  assert.deepEqual(stored.spec.extra, { free: { form: true } });
  assert.deepEqual(stored.spec.template, { apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } });
  const kubectlStrict = await s.kubectlFails(['create', '-f', '-'], `apiVersion: demo.flatnet.dev/v1\nkind: Widget\nmetadata: {name: w4}\nspec: {size: small, colour: blue}\n`);
  assert.match(kubectlStrict, /unknown field "spec.colour"/);
});

test('patches: merge and JSON patch apply, strategic merge is 415 as for any custom resource, results are validated', async () => {
  await s.kubectlOk(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":"large"}}']);
  await s.kubectlOk(['patch', 'widget', 'w1', '--type=json', '-p', '[{"op":"add","path":"/spec/tags","value":["x"]}]']);
  assert.equal(await s.kubectlOk(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.size} {.spec.tags} {.metadata.generation}']), 'large ["x"] 3');
  assert.match(await s.kubectlFails(['patch', 'widget', 'w1', '-p', '{"spec":{"size":"small"}}']), /application\/strategic-merge-patch\+json is not supported by demo\.flatnet\.dev\/v1, Kind=Widget/);
  const r = await raw('PATCH', `${widgets}/w1`, '{"spec":{"size":"small"}}', { 'content-type': 'application/strategic-merge-patch+json' });
  assert.equal(r.code, 415);
  assert.match(await s.kubectlFails(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"replicas":-1}}']), /spec\.replicas: Invalid value: -1: spec\.replicas in body should be greater than or equal to 0/);
});

test('the status subresource: status writes go through it only and do not bump generation', async () => {
  const before = JSON.parse((await raw('GET', `${widgets}/w1`)).body);
  // Status in a main-resource write is ignored.
  await s.kubectlOk(['patch', 'widget', 'w1', '--type=merge', '-p', '{"status":{"replicas":9}}']);
  assert.equal(await s.kubectlOk(['get', 'widget', 'w1', '-o', 'jsonpath={.status.replicas}']), '');
  const st = await raw('PATCH', `${widgets}/w1/status`, JSON.stringify({ status: { replicas: 2, selector: 'tier=front', conditions: [{ type: 'Ready', status: 'True' }] }, spec: { size: 'medium' } }), { 'content-type': 'application/merge-patch+json' });
  assert.equal(st.code, 200, st.body);
  const afterStatus = JSON.parse(st.body);
  assert.equal(afterStatus.spec.size, before.spec.size, 'spec changes through /status are ignored');
  assert.equal(afterStatus.metadata.generation, before.metadata.generation);
  assert.match(await s.kubectlOk(['get', 'widget', 'w1']), /\nw1\s+large\s+1\s+True\s+/);
  const badStatus = await raw('PATCH', `${widgets}/w1/status`, JSON.stringify({ status: { replicas: 'two' } }), { 'content-type': 'application/merge-patch+json' });
  assert.equal(badStatus.code, 422);
  assert.match(badStatus.body, /status\.replicas/);
});

test('kubectl scale goes through the scale subresource and its CRD paths', async () => {
  assert.match(await s.kubectlOk(['scale', 'widget/w1', '--replicas=5']), /widget.demo.flatnet.dev\/w1 scaled/);
  assert.equal(await s.kubectlOk(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.replicas}']), '5');
  const scale = JSON.parse((await raw('GET', `${widgets}/w1/scale`)).body);
  assert.deepEqual([scale.kind, scale.apiVersion, scale.spec, scale.status], ['Scale', 'autoscaling/v1', { replicas: 5 }, { replicas: 2, selector: 'tier=front' }]);
  assert.match(await s.kubectlFails(['scale', 'widget/w1', '--replicas=500']), /spec\.replicas/);
});

test('server-side apply of a custom resource records field managers and reports conflicts', async () => {
  const manifest = `apiVersion: demo.flatnet.dev/v1\nkind: Widget\nmetadata: {name: w5}\nspec: {size: small, tags: [a]}\n`;
  await s.kubectlOk(['apply', '--server-side', '--field-manager=alice', '-f', '-'], manifest);
  const conflict = await s.kubectlFails(['apply', '--server-side', '--field-manager=bob', '-f', '-'], manifest.replace('size: small', 'size: large'));
  assert.match(conflict, /conflict/i);
  assert.match(conflict, /\.spec\.size/);
  await s.kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=bob', '-f', '-'], manifest.replace('size: small', 'size: large'));
  const obj = JSON.parse(await s.kubectlOk(['get', 'widget', 'w5', '-o', 'json', '--show-managed-fields']));
  assert.equal(obj.spec.size, 'large');
  assert.deepEqual(obj.metadata.managedFields.map((m: { manager: string }) => m.manager).sort(), ['alice', 'bob']);
});

test('a watch of custom resources sees their changes', async () => {
  const rv = JSON.parse((await raw('GET', widgets)).body).metadata.resourceVersion;
  const watched = raw('GET', `${widgets}?watch=true&resourceVersion=${rv}&timeoutSeconds=3`);
  await s.kubectlOk(['label', 'widget', 'w2', 'seen=yes']);
  const events = (await watched).body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string; labels?: Record<string, string> } } });
  assert.ok(events.some((e) => e.type === 'MODIFIED' && e.object.metadata.name === 'w2' && e.object.metadata.labels?.seen === 'yes'), JSON.stringify(events));
});

test('kubectl explain reads the CRD schema from OpenAPI v3', async () => {
  const out = await s.kubectlOk(['explain', 'widgets.spec.size']);
  assert.match(out, /KIND:\s+Widget/);
  assert.match(out, /How big the widget is\./);
  const spec = await s.kubectlOk(['explain', 'widgets.spec']);
  for (const f of ['color', 'replicas', 'size', 'tags', 'template']) assert.match(spec, new RegExp(`\\n\\s+${f}\\s+<`));
});

test('discovery: legacy and aggregated documents list the custom resource with its short names, categories and subresources', async () => {
  const list = JSON.parse((await raw('GET', '/apis/demo.flatnet.dev/v1')).body);
  assert.deepEqual(
    list.resources.map((r: { name: string }) => r.name),
    ['widgets', 'widgets/status', 'widgets/scale'],
  );
  assert.deepEqual(list.resources[0].shortNames, ['wg']);
  assert.deepEqual(list.resources[0].categories, ['all', 'flatnet-demo']);
  const agg = JSON.parse((await raw('GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' })).body);
  const group = agg.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'demo.flatnet.dev');
  assert.ok(group, 'the CRD group is in aggregated discovery');
  const res = group.versions[0].resources[0];
  assert.deepEqual([res.resource, res.scope, res.singularResource, res.shortNames], ['widgets', 'Namespaced', 'widget', ['wg']]);
  assert.deepEqual(
    res.subresources.map((x: { subresource: string; responseKind: { kind: string } }) => [x.subresource, x.responseKind.kind]),
    [
      ['status', 'Widget'],
      ['scale', 'Scale'],
    ],
  );
  assert.match(await s.kubectlOk(['api-resources', '--api-group=demo.flatnet.dev']), /widgets\s+wg\s+demo\.flatnet\.dev\/v1\s+true\s+Widget/);
});

test('custom resources in a namespace being deleted are deleted with it', async () => {
  await s.kubectlOk(['create', 'namespace', 'crd-doomed']);
  await s.kubectlOk(['apply', '-n', 'crd-doomed', '-f', '-'], `apiVersion: demo.flatnet.dev/v1\nkind: Widget\nmetadata: {name: doomed}\nspec: {size: small}\n`);
  await s.kubectlOk(['delete', 'namespace', 'crd-doomed', '--wait=false']);
  let left = 1;
  for (let i = 0; i < 100 && left > 0; i++) {
    left = JSON.parse((await raw('GET', '/apis/demo.flatnet.dev/v1/namespaces/crd-doomed/widgets')).body).items.length;
    if (left > 0) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(left, 0);
});

test('a CRD with two served versions: stored at the storage version, each version answered with its own apiVersion', async () => {
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.demo.flatnet.dev}
spec:
  group: demo.flatnet.dev
  scope: Namespaced
  names: {plural: gizmos, kind: Gizmo}
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {level: {type: integer, maximum: 5}}}}}
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {level: {type: integer, maximum: 9}}}}}
`;
  await s.kubectlOk(['apply', '-f', '-'], crd);
  await s.kubectlOk(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/gizmos.demo.flatnet.dev']);
  const base = '/apis/demo.flatnet.dev';
  const rv = JSON.parse((await raw('GET', `${base}/v1beta1/namespaces/default/gizmos`)).body).metadata.resourceVersion;
  const watched = raw('GET', `${base}/v1beta1/namespaces/default/gizmos?watch=true&resourceVersion=${rv}&timeoutSeconds=2`);
  // Each version validates with its own schema.
  assert.equal((await raw('POST', `${base}/v1beta1/namespaces/default/gizmos`, JSON.stringify({ apiVersion: 'demo.flatnet.dev/v1beta1', kind: 'Gizmo', metadata: { name: 'g0' }, spec: { level: 7 } }))).code, 422);
  const created = await raw('POST', `${base}/v1beta1/namespaces/default/gizmos`, JSON.stringify({ apiVersion: 'demo.flatnet.dev/v1beta1', kind: 'Gizmo', metadata: { name: 'g1' }, spec: { level: 3 } }));
  assert.equal(created.code, 201, created.body);
  assert.equal(JSON.parse(created.body).apiVersion, 'demo.flatnet.dev/v1beta1');
  assert.equal(JSON.parse((await raw('GET', `${base}/v1/namespaces/default/gizmos/g1`)).body).apiVersion, 'demo.flatnet.dev/v1');
  assert.equal(JSON.parse((await raw('GET', `${base}/v1beta1/namespaces/default/gizmos/g1`)).body).apiVersion, 'demo.flatnet.dev/v1beta1');
  assert.deepEqual(JSON.parse((await raw('GET', `${base}/v1beta1/namespaces/default/gizmos`)).body).items.map((i: { apiVersion: string }) => i.apiVersion), ['demo.flatnet.dev/v1beta1']);
  const events = (await watched).body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { apiVersion: string } });
  assert.deepEqual(events.map((e) => [e.type, e.object.apiVersion]), [['ADDED', 'demo.flatnet.dev/v1beta1']]);
  assert.equal(await s.kubectlOk(['get', 'gizmos.v1.demo.flatnet.dev', 'g1', '-o', 'jsonpath={.apiVersion}']), 'demo.flatnet.dev/v1');
  assert.deepEqual(JSON.parse((await raw('GET', '/apis/demo.flatnet.dev')).body).versions.map((v: { version: string }) => v.version), ['v1', 'v1beta1']);
});

test('the CRD and its objects survive a server restart', async () => {
  await s.restart();
  assert.match(await s.kubectlOk(['get', 'widgets', '-o', 'name']), /widget\.demo\.flatnet\.dev\/w1/);
});

test('deleting a CRD deletes its objects, and its resources stop being served', async () => {
  await s.kubectlOk(['delete', 'crd', 'widgets.demo.flatnet.dev', '--timeout=30s']);
  assert.equal((await raw('GET', widgets)).code, 404);
  assert.match(await s.kubectlFails(['get', 'widgets']), /the server doesn't have a resource type "widgets"|the server could not find the requested resource/);
  await s.kubectlOk(['apply', '-f', '-'], WIDGET_CRD);
  await s.kubectlOk(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/widgets.demo.flatnet.dev']);
  assert.equal(JSON.parse((await raw('GET', widgets)).body).items.length, 0, 'the objects were deleted with their CRD');
});

test('a cluster-scoped custom resource', async () => {
  const crd = WIDGET_CRD.replace('scope: Namespaced', 'scope: Cluster').replace(/widgets/g, 'sprockets').replace(/widget/g, 'sprocket').replace(/Widget/g, 'Sprocket').replace('shortNames: [wg]', 'shortNames: [spr]');
  await s.kubectlOk(['apply', '-f', '-'], crd);
  await s.kubectlOk(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/sprockets.demo.flatnet.dev']);
  await s.kubectlOk(['apply', '-f', '-'], `apiVersion: demo.flatnet.dev/v1\nkind: Sprocket\nmetadata: {name: s1}\nspec: {size: small}\n`);
  assert.equal((await raw('GET', '/apis/demo.flatnet.dev/v1/sprockets/s1')).code, 200);
  assert.equal((await raw('GET', '/apis/demo.flatnet.dev/v1/namespaces/default/sprockets/s1')).code, 404);
  assert.match(await s.kubectlOk(['get', 'spr']), /\ns1\s+small\s+1\s+/);
});

test('the Gateway API standard CRD bundle is accepted and agrees with the built-in Gateway API kinds', async () => {
  await s.kubectlOk(['apply', '-f', '-'], `apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: before-crds}\nspec: {controllerName: example.com/gateway}\n`);
  await s.kubectlOk(['apply', '-f', '-'], GATEWAY_BUNDLE);
  await s.kubectlOk(['wait', '--for', 'condition=established', '--timeout=30s', ...GATEWAY_STANDARD_KINDS.map((k) => `crd/${k.plural}.gateway.networking.k8s.io`)]);
  const resources = (await s.kubectlOk(['api-resources', '--api-group=gateway.networking.k8s.io', '--no-headers'])).trim().split('\n').map((l) => l.split(/\s+/)[0]);
  for (const k of GATEWAY_STANDARD_KINDS) assert.equal(resources.filter((r) => r === k.plural).length, 1, `${k.plural} listed once: ${resources.join(',')}`);
  const group = JSON.parse((await raw('GET', '/apis/gateway.networking.k8s.io/v1')).body);
  assert.equal(group.resources.filter((r: { name: string }) => r.name === 'gatewayclasses').length, 1);
  // The built-in kinds keep serving, with their own validation.
  await s.kubectlOk(['apply', '-f', '-'], `apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: after-crds}\nspec: {controllerName: example.com/gateway}\n`);
  assert.match(await s.kubectlFails(['apply', '-f', '-'], `apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: bad}\nspec: {}\n`), /controllerName/);
  // Re-applying the bundle is a no-op and keeps it established.
  await s.kubectlOk(['apply', '-f', '-'], GATEWAY_BUNDLE);
  // Deleting a CRD of a built-in kind deletes the CRD, never the built-in objects.
  await s.kubectlOk(['delete', 'crd', 'gatewayclasses.gateway.networking.k8s.io', '--timeout=30s']);
  assert.match(await s.kubectlOk(['get', 'gatewayclasses', '-o', 'name']), /gatewayclass\.gateway\.networking\.k8s\.io\/after-crds\ngatewayclass\.gateway\.networking\.k8s\.io\/before-crds/);
  assert.match(await s.kubectlFails(['get', 'crd', 'gatewayclasses.gateway.networking.k8s.io']), /NotFound/);
});

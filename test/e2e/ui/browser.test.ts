// The web view in real headless Chromium (Debian's chromium, driven by playwright-core) against a
// real lab: the map shows the lab's nodes and pods, a new pod appears without a reload, a
// connection a NetworkPolicy denies shows as a red edge and a red flow row, the policy matrix
// matches `flatnet policy matrix` cell by cell, the Service page shows the endpoint and each
// node's rules, and the trace form answers. Screenshots go to test-results/ui/ for a person.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { eventually, run, startLab } from '../../support/lab.js';
import { requireFreeLab, requireRoot, requireTool } from '../../support/prerequisites.js';
import { parseMatrixText } from './matrix-text.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SHOTS = join(repo, 'test-results', 'ui');
const NS = 'uidemo';
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';
// The CLI of the build `flatnet up` made.
const CLI = join(repo, 'dist/src/cli/main.js');

const pod = (name: string, app: string, port: number) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}, labels: {app: ${app}}}
spec:
  containers: [{name: c, image: ${AGNHOST}, args: [netexec, --http-port=${port}], ports: [{containerPort: ${port}}]}]
`;

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}}
---${pod('client', 'client', 8080)}---${pod('web', 'web', 8080)}---${pod('locked', 'locked', 8080)}---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-locked, namespace: ${NS}}
spec:
  podSelector: {matchLabels: {app: locked}}
  policyTypes: [Ingress]
  ingress: []
`;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

test('the web view in headless Chromium against a lab', { timeout: 900_000 }, async (t) => {
  requireRoot('the lab creates network namespaces');
  requireFreeLab();
  requireTool('chromium', 'Debian package chromium (scripts/ensure-deps installs it)');
  mkdirSync(SHOTS, { recursive: true });
  const lab = await startLab({ nodes: 2 });
  t.after(() => lab.down());
  await lab.apply(manifests);
  await lab.ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/client', 'pod/web', 'pod/locked', '--timeout=180s']);
  const podsJson = JSON.parse(await lab.ok(['-n', NS, 'get', 'pods', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { nodeName: string }; status: { podIP: string } }[] };
  const podIP = (name: string) => podsJson.items.find((p) => p.metadata.name === name)!.status.podIP;
  const nodes = (await lab.ok(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/).sort();
  assert.equal(nodes.length, 2);

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  t.after(() => browser.close());
  // The lab's server certificate is signed by the lab's own CA, which this browser profile does not hold.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
  const offSite: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('https://127.0.0.1:')) offSite.push(r.url());
  });

  const link = await run(process.execPath, [CLI, 'ui', '--no-open'], { env: lab.env, timeoutMs: 60_000 });
  assert.equal(link.code, 0, link.stderr);
  await page.goto(link.stdout.trim());
  assert.match(page.url(), /\/ui\/$/);
  const cookies = await context.cookies();
  assert.equal(cookies.length, 1);
  assert.equal(cookies[0].httpOnly, true);
  assert.equal(cookies[0].sameSite, 'Strict');
  assert.equal(cookies[0].secure, true);

  await t.test('the map shows the lab\'s nodes and pods', async () => {
    for (const n of nodes) await page.waitForSelector(`#cluster-map g.box[data-id="node:${n}"]`, { timeout: 30_000 });
    for (const p of ['client', 'web', 'locked']) await page.waitForSelector(`#cluster-map g.box[data-id="pod:${NS}/${p}"]`, { timeout: 30_000 });
    await page.waitForSelector(`#cluster-map g.box[data-id="svc:${NS}/web"]`);
    const kubectlPods = (await lab.ok(['get', 'pods', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}'])).trim().split(/\s+/).sort();
    const shown = (await page.$$eval('#cluster-map g.box[data-kind="pod"]', (els) => els.map((e) => e.getAttribute('data-id')!.slice(4)))).sort();
    assert.deepEqual(shown, kubectlPods);
    assert.match((await page.textContent('#whoami')) ?? '', /kubernetes-admin/);
    await shot(page, '1-map');
  });

  await t.test('a new pod appears without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    await lab.apply(pod('newcomer', 'newcomer', 8080));
    await page.waitForSelector(`#cluster-map g.box[data-id="pod:${NS}/newcomer"]`, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was not reloaded');
    await shot(page, '2-new-pod');
  });

  await t.test('a connection the NetworkPolicy denies shows in red', async () => {
    const edge = `#cluster-map line.edge[data-from="pod:${NS}/client"][data-to="pod:${NS}/locked"][data-class="denied"]`;
    await eventually(
      'a red client -> locked edge',
      async () => {
        await lab.kubectl(['-n', NS, 'exec', 'client', '--', 'curl', '-sS', '-o', '/dev/null', '--max-time', '1', `http://${podIP('locked')}:8080/`]);
        return (await page.$(edge)) !== null;
      },
      90_000,
      500,
    );
    assert.equal(await page.$eval(edge, (e) => getComputedStyle(e).stroke), 'rgb(214, 40, 40)');
    assert.equal(await page.$eval(edge, (e) => e.getAttribute('data-verdict')), 'dropped');
    assert.match(await page.$eval(edge, (e) => e.textContent ?? ''), new RegExp(`${NS}/deny-locked`));
    const row = await page.waitForSelector('#flow-list tr.flow.denied[data-verdict="dropped"]');
    assert.equal(await row.$eval('td.verdict', (e) => getComputedStyle(e).backgroundColor), 'rgb(214, 40, 40)');
    // An allowed connection draws green.
    await eventually(
      'a green client -> web edge',
      async () => {
        await lab.kubectl(['-n', NS, 'exec', 'client', '--', 'curl', '-sS', '-o', '/dev/null', '--max-time', '2', `http://${podIP('web')}:8080/`]);
        return (await page.$(`#cluster-map line.edge[data-from="pod:${NS}/client"][data-to="pod:${NS}/web"][data-class="allowed"]`)) !== null;
      },
      90_000,
      500,
    );
    assert.equal(await page.$eval(`#cluster-map line.edge[data-from="pod:${NS}/client"][data-to="pod:${NS}/web"][data-class="allowed"]`, (e) => getComputedStyle(e).stroke), 'rgb(31, 157, 58)');
    await shot(page, '3-denied-flow');
  });

  await t.test('the matrix matches `flatnet policy matrix`', async () => {
    await lab.ok(['-n', NS, 'wait', '--for=condition=Ready', 'pod/newcomer', '--timeout=120s']);
    await page.goto(page.url().replace(/#.*$/, '') + `#/policies/${NS}`);
    await page.waitForSelector('table.matrix');
    const cli = await run(process.execPath, [CLI, 'policy', 'matrix', '-n', NS], { env: lab.env, timeoutMs: 60_000 });
    assert.equal(cli.code, 0, cli.stderr);
    const expected = parseMatrixText(cli.stdout);
    const shown = await page.evaluate(() => ({
      pods: [...document.querySelectorAll('#matrix-pods li')].map((li) => li.textContent),
      tables: [...document.querySelectorAll('table.matrix')].map((t) => ({
        protocol: t.getAttribute('data-protocol'),
        port: Number(t.getAttribute('data-port')),
        rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.getAttribute('data-cell'))),
      })),
    }));
    assert.deepEqual(shown, expected);
    assert.deepEqual(expected.pods, [`${NS}/client`, `${NS}/locked`, `${NS}/newcomer`, `${NS}/web`]);
    const lockedCol = expected.pods.indexOf(`${NS}/locked`);
    assert.equal(expected.tables[0].rows[0][lockedCol], 'X', 'client -> locked is denied');
    assert.equal(await page.$eval(`table.matrix tbody tr:nth-child(1) td:nth-of-type(${lockedCol + 1})`, (e) => getComputedStyle(e).color), 'rgb(214, 40, 40)');
    const isolation = await page.$$eval('#isolation tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(isolation.find((r) => r[0] === `${NS}/locked`), [`${NS}/locked`, `${NS}/deny-locked`, '(not isolated)']);
    await shot(page, '4-policy-matrix');
  });

  await t.test('the Service page shows the endpoint and each node\'s rules', async () => {
    await page.goto(page.url().replace(/#.*$/, '') + `#/service/${NS}/web`);
    await page.waitForSelector('#service-endpoints');
    const endpoints = await page.$$eval('#service-endpoints tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')!.textContent));
    assert.deepEqual(endpoints, [podIP('web')]);
    const clusterIP = (await lab.ok(['-n', NS, 'get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    for (const n of nodes) {
      const rules = await page.$$eval(`.node-rules[data-node="${n}"] li`, (lis) => lis.map((li) => li.textContent));
      assert.deepEqual(rules, [`${clusterIP}:80/TCP -> ${podIP('web')}:8080 (1/1)`]);
    }
    await shot(page, '5-service');
  });

  await t.test('the trace form predicts the denied flow and probes the kernel through the agents', async () => {
    await page.goto(page.url().replace(/#.*$/, '') + '#/trace');
    await page.fill('#trace-from', `${NS}/client`);
    await page.fill('#trace-to', `${NS}/locked`);
    await page.fill('#trace-port', '8080/tcp');
    await page.click('#trace-form button');
    const answer = await page.waitForSelector('#trace-result[data-state="done"], #trace-error', { timeout: 60_000 });
    const text = (await answer.textContent()) ?? '';
    assert.equal(await answer.getAttribute('id'), 'trace-result', `the form answered: ${text}`);
    const cliTrace = await run(process.execPath, [CLI, 'trace', `${NS}/client`, `${NS}/locked`, '8080/tcp', '--model-only', '--data-dir', lab.dataDir], { env: lab.env, timeoutMs: 60_000 });
    assert.equal(cliTrace.code, 0, cliTrace.stderr);
    const prediction = cliTrace.stdout.split('\n').slice(0, -2).join('\n');
    assert.ok(text.startsWith(prediction), `the form starts with what \`flatnet trace --model-only\` prints:\n${text}\n---\n${cliTrace.stdout}`);
    assert.match(text, new RegExp(`${NS}/deny-locked`));
    assert.ok(text.length > prediction.length + 40, `the kernel part follows the prediction:\n${text}`);
    assert.equal(await page.$eval('#trace-verdict', (e) => e.getAttribute('data-bugs')), '0', text);
    assert.doesNotMatch(text, /^BUG/m);
    // Same as the CLI's full trace: the kernel agrees with the models.
    const cliFull = await run(process.execPath, [CLI, 'trace', `${NS}/client`, `${NS}/locked`, '8080/tcp', '-o', 'json', '--data-dir', lab.dataDir], { env: lab.env, timeoutMs: 60_000 });
    assert.equal(cliFull.code, 0, cliFull.stdout + cliFull.stderr);
    const full = JSON.parse(cliFull.stdout) as { bugs: number; kernel: { probe: { result: string } } };
    assert.equal(full.bugs, 0);
    assert.ok(text.includes(full.kernel.probe.result), `the form's probe ended as the CLI's did (${full.kernel.probe.result}):\n${text}`);
    await shot(page, '6-trace');
    await page.fill('#trace-from', `${NS}/nobody`);
    await page.click('#trace-form button');
    assert.match((await (await page.waitForSelector('#trace-error')).textContent()) ?? '', /from: pod uidemo\/nobody does not exist/);
  });

  await t.test('a drop rule inserted by hand: the form flags the kernel/model disagreement', async () => {
    const webNode = podsJson.items.find((p) => p.metadata.name === 'web')!.spec.nodeName;
    const rules = `table inet gui-by-hand {\n  chain byhand {\n    type filter hook forward priority -200; policy accept;\n    ip daddr ${podIP('web')} tcp dport 8080 drop\n  }\n}\n`;
    const add = await run('ip', ['netns', 'exec', `flatnet-node-${webNode}`, 'nft', '-f', '-'], { input: rules });
    assert.equal(add.code, 0, add.stderr);
    try {
      await page.fill('#trace-from', `${NS}/client`);
      await page.fill('#trace-to', `${NS}/web`);
      await page.fill('#trace-port', '8080/tcp');
      await page.click('#trace-form button');
      const answer = await page.waitForSelector('#trace-result[data-state="done"], #trace-error', { timeout: 60_000 });
      const text = (await answer.textContent()) ?? '';
      assert.equal(await answer.getAttribute('id'), 'trace-result', `the form answered: ${text}`);
      assert.match(text, /^BUG the model says the flow is allowed, but the kernel dropped the probe at .*inet gui-by-hand byhand handle \d+/m);
      assert.notEqual(await page.$eval('#trace-verdict', (e) => e.getAttribute('data-bugs')), '0');
      await shot(page, '7-trace-bug');
    } finally {
      await run('ip', ['netns', 'exec', `flatnet-node-${webNode}`, 'nft', 'delete', 'table', 'inet', 'gui-by-hand']);
    }
  });

  assert.deepEqual(offSite, [], 'the page fetched nothing but the API server');
  // The one error the page may log: the 400 of the trace asked from a pod that does not exist.
  assert.deepEqual(consoleErrors.filter((e) => !/status of 400/.test(e)), []);
  assert.equal(consoleErrors.length, 1, consoleErrors.join('\n'));
});

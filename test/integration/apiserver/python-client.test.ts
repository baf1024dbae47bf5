// The official Kubernetes Python client (Debian's python3-kubernetes, under /usr/bin/python3)
// against a real server: each check of python/client_suite.py is one subtest here. The server
// keeps a short watch history so that an old resourceVersion expires (410) within the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../../support/server.js';

const PYTHON = '/usr/bin/python3';
const SUITE = fileURLToPath(new URL('./python/client_suite.py', import.meta.url));
const CHECKS = [
  'version_and_groups',
  'dynamic_discovery',
  'typed_crud',
  'delete_answers',
  'bad_input',
  'paging',
  'watch_resume',
  'watch_expired',
  'server_side_apply',
  'pod_security',
];

interface CheckResult {
  check: string;
  ok: boolean;
  error?: string;
  trace?: string;
}

let s: TestServer;
const results = new Map<string, CheckResult>();
let runOutput = '';

function requirePythonClient(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import kubernetes; print(kubernetes.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`the official Python client is missing: ${PYTHON} cannot import kubernetes (${probe.stderr.trim()}). Install Debian's python3-kubernetes (scripts/ensure-deps does).`);
  }
}

before(async () => {
  requirePythonClient();
  s = await startTestServer({ store: 'memory', controllers: false, args: ['--watch-history', '50'] });
  const run = spawnSync(PYTHON, [SUITE, s.kubeconfig, ...CHECKS], { encoding: 'utf8', timeout: 240_000 });
  runOutput = `${run.stdout}\n${run.stderr}`;
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line) as CheckResult;
    results.set(r.check, r);
  }
});
after(async () => {
  await s?.stop();
});

for (const check of CHECKS) {
  test(`python client: ${check.replace(/_/g, ' ')}`, () => {
    const r = results.get(check);
    assert.ok(r, `the suite reported nothing for ${check}; its output:\n${runOutput.slice(-3000)}`);
    assert.ok(r.ok, `${r.error}\n${r.trace ?? ''}`);
  });
}

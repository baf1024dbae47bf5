// `flatnet join` as the lab's agents run it: the bootstrap token and CA pin from the environment
// (FLATNET_TOKEN, FLATNET_CA_CERT_HASH: not on the command line, which every user can read), and
// a list of servers whose first one is down: discovery and the certificate request go to the
// next one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../../support/server.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
let s: TestServer;
let work: string;

before(async () => {
  s = await startTestServer();
  work = mkdtempSync(join(tmpdir(), 'flatnet-join-'));
});
after(async () => {
  await s?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function flatnet(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { cwd: repo, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const l = createServer().listen(0, '127.0.0.1', () => {
      const port = (l.address() as { port: number }).port;
      l.close(() => done(port));
    });
  });
}

test('join with the token and CA pin from the environment, past a server that is down', async () => {
  const created = await flatnet(['token', 'create', '--kubeconfig', s.kubeconfig, '--print-ca-hash']);
  assert.equal(created.code, 0, created.stderr);
  const [token, hash] = created.stdout.trim().split('\n');
  const dead = `https://127.0.0.1:${await freePort()}`;
  const dir = join(work, 'env-node');

  const missing = await flatnet(['join', '--server', s.url, '--node', 'env-node', '--data-dir', dir, '--credentials-only'], { FLATNET_TOKEN: '', FLATNET_CA_CERT_HASH: hash });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /flag --token is required/);
  const badList = await flatnet(['join', '--server', `${s.url},http://10.0.0.1:6443`, '--node', 'env-node', '--data-dir', dir, '--credentials-only'], { FLATNET_TOKEN: token, FLATNET_CA_CERT_HASH: hash });
  assert.notEqual(badList.code, 0);
  assert.match(badList.stderr, /--server: "http:\/\/10.0.0.1:6443" must be an https:\/\/ URL/);

  const joined = await flatnet(['join', '--server', `${dead},${s.url}`, '--node', 'env-node', '--data-dir', dir, '--credentials-only'], { FLATNET_TOKEN: token, FLATNET_CA_CERT_HASH: hash });
  assert.equal(joined.code, 0, joined.stderr);
  const kubeconfig = readFileSync(join(dir, 'kubelet.kubeconfig'), 'utf8');
  assert.match(kubeconfig, new RegExp(`server: ${s.url.replace(/[.]/g, '\\.')}\\n`), 'the node kubeconfig names the server that answered');
  assert.match(kubeconfig, /client-certificate: /);
  assert.doesNotMatch(kubeconfig, new RegExp(token.split('.')[1]), 'the node kubeconfig holds no token');

  // Every server down: the error names each one.
  const none = await flatnet(['join', '--server', dead, '--node', 'other', '--data-dir', join(work, 'other'), '--credentials-only'], { FLATNET_TOKEN: token, FLATNET_CA_CERT_HASH: hash });
  assert.equal(none.code, 1);
  assert.match(none.stderr, new RegExp(`cannot reach ${dead.replace(/[.]/g, '\\.')}`));
});

// `flatnet dns` as a process: flags, serving the `kubernetes` Service from a real API server,
// /ready on the HTTP port, and a clean exit on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { startTestServer } from '../../support/server.js';
import { dig, digShort, eventually } from './support.js';

const repo = new URL('../../../', import.meta.url).pathname;

test('flatnet dns serves the cluster from a kubeconfig and stops on SIGTERM', async (t) => {
  const api = await startTestServer();
  t.after(() => api.stop());
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'dns', '--kubeconfig', api.kubeconfig, '--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--ttl', '7'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const ports = await eventually(async () => {
    const m = /serving cluster\.local on 127\.0\.0\.1:(\d+) \(udp, tcp\), http on 127\.0\.0\.1:(\d+)/.exec(stderr);
    if (!m) throw new Error(`not serving yet: ${stderr}`);
    return { dns: Number(m[1]), http: Number(m[2]) };
  });
  await eventually(async () => {
    const code = await new Promise<number>((res, rej) => http.get({ host: '127.0.0.1', port: ports.http, path: '/ready' }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    }).on('error', rej));
    assert.equal(code, 200);
  });
  await eventually(async () => assert.deepEqual(await digShort(ports.dns, 'kubernetes.default.svc.cluster.local', 'A'), ['10.96.0.1']));
  assert.deepEqual(await digShort(ports.dns, '+tcp', '_https._tcp.kubernetes.default.svc.cluster.local', 'SRV'), ['0 100 443 kubernetes.default.svc.cluster.local.']);
  const answer = (await dig(ports.dns, '+noall', '+answer', 'kubernetes.default.svc.cluster.local', 'A')).trim();
  assert.match(answer, /^kubernetes\.default\.svc\.cluster\.local\.\s+7\s+IN\s+A\s+10\.96\.0\.1$/, 'the --ttl flag sets the TTL');
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
});

test('flatnet dns refuses bad flags with a usage error', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'dns', '--kubeconfig', '/nonexistent', '--ttl', '99999'], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 2);
  assert.match(stderr, /ttl 99999 is out of range/);
});

// A DNS pod's upstream queries leave from the pod's network namespace, as a CoreDNS container's
// do: a bind9 `named` listening on 127.0.0.1 inside a namespace this test creates is reachable
// through the Forwarder's namespace sockets (UDP and TCP), and not from this process's namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Forwarder } from '../../../src/dns/forward.js';
import { RRType } from '../../../src/dns/wire.js';
import { bindUdp, connectTcp } from '../../../src/workloads/sockets.js';
import { requireRoot } from '../../support/prerequisites.js';
import { eventually } from './support.js';

test('forwarding through sockets opened in a pod namespace', async (t) => {
  requireRoot('it creates a network namespace');
  const ns = `cfdns-${process.pid}`;
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0, `ip netns add ${ns}`);
  t.after(() => spawnSync('ip', ['netns', 'del', ns]));
  assert.equal(spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']).status, 0);
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-cfdns-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = 5300 + (process.pid % 500);
  writeFileSync(join(dir, 'z.zone'), '$TTL 60\n@ IN SOA ns.example.test. h.example.test. 1 7200 1800 86400 10\n@ IN NS ns\nns IN A 192.0.2.1\nwww IN A 192.0.2.55\n');
  writeFileSync(
    join(dir, 'named.conf'),
    `options { directory "${dir}"; listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; recursion no; pid-file "${dir}/named.pid"; session-keyfile "${dir}/s.key"; dnssec-validation no; notify no; };\nzone "example.test" { type primary; file "${dir}/z.zone"; };\n`,
  );
  const named = spawn('ip', ['netns', 'exec', ns, 'named', '-g', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  named.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((r) => named.once('exit', () => r()));
  t.after(async () => {
    if (named.exitCode === null) named.kill('SIGTERM');
    await exited;
  });
  await eventually(async () => {
    if (named.exitCode !== null) throw new Error(`named exited: ${log}`);
    if (!log.includes('running')) throw new Error('named not running yet');
  }, 15_000);

  const sockets = { udp: () => bindUdp(ns, '0.0.0.0', 0), tcp: (host: string, p: number, timeoutMs: number) => connectTcp(ns, host, p, timeoutMs) };
  const upstreams = [{ host: '127.0.0.1', port }];
  const inPod = new Forwarder({ upstreams, sockets, timeoutMs: 2000 });
  const overTcp = new Forwarder({ upstreams, sockets, forceTcp: true, timeoutMs: 2000 });
  const here = new Forwarder({ upstreams, timeoutMs: 500 });
  t.after(() => [inPod, overTcp, here].forEach((f) => f.close()));

  const udp = await inPod.query('www.example.test', RRType.A, 1);
  assert.deepEqual(udp.answers.map((a) => a.data), ['192.0.2.55']);
  const tcp = await overTcp.query('www.example.test', RRType.A, 1);
  assert.deepEqual(tcp.answers.map((a) => a.data), ['192.0.2.55']);
  // from this process's own namespace the same address is someone else's (nothing there)
  await assert.rejects(here.query('www.example.test', RRType.A, 1));
});

import { test } from 'node:test';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { findBuiltinImage, parseImageReference, planContainer } from '../../../src/workloads/images.js';
import { parseGoFlags } from '../../../src/workloads/workload.js';

const applets = new Set(['sh', 'sleep', 'wget', 'nc']);

test('image references: registry, repository, tag and digest', () => {
  assert.deepEqual(parseImageReference('registry.k8s.io/e2e-test-images/agnhost:2.53'), { registry: 'registry.k8s.io', repository: 'e2e-test-images/agnhost', tag: '2.53', digest: undefined });
  assert.deepEqual(parseImageReference('localhost:5000/nginx@sha256:abc'), { registry: 'localhost:5000', repository: 'nginx', tag: undefined, digest: 'sha256:abc' });
  assert.deepEqual(parseImageReference('busybox'), { registry: undefined, repository: 'busybox', tag: undefined, digest: undefined });
  assert.equal(parseImageReference('Not A Valid/Image'), undefined);
  assert.equal(parseImageReference('UPPER/case'), undefined);
});

test('built-in images match by repository with any registry prefix and tag', () => {
  assert.equal(findBuiltinImage('registry.k8s.io/e2e-test-images/agnhost:2.53')?.name, 'agnhost');
  assert.equal(findBuiltinImage('docker.io/library/nginx:1.27')?.name, 'nginx');
  assert.equal(findBuiltinImage('nginx')?.name, 'nginx');
  assert.equal(findBuiltinImage('httpd:2.4')?.name, 'httpd');
  assert.equal(findBuiltinImage('registry.k8s.io/pause:3.10')?.name, 'pause');
  assert.equal(findBuiltinImage('busybox:1.36')?.name, 'busybox');
  assert.equal(findBuiltinImage('ghcr.io/flatnet/dns:0.1')?.name, 'flatnet/dns');
  assert.equal(findBuiltinImage('tutum/dnsutils')?.name, 'dnsutils');
  assert.equal(findBuiltinImage('registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7')?.name, 'dnsutils');
  assert.equal(findBuiltinImage('redis:7'), undefined);
  assert.equal(findBuiltinImage('mynginx'), undefined);
});

test('plans: built-in programs, command overrides as processes, busybox applets', () => {
  const agn = planContainer('registry.k8s.io/e2e-test-images/agnhost:2.53', undefined, ['netexec', '--http-port=8080'], applets);
  assert.equal(agn.kind, 'builtin');
  assert.deepEqual(agn.kind === 'builtin' && agn.args, ['netexec', '--http-port=8080']);
  const agnCmd = planContainer('agnhost', ['/agnhost', 'serve-hostname'], ['--port', '80'], applets);
  assert.deepEqual(agnCmd.kind === 'builtin' && agnCmd.args, ['serve-hostname', '--port', '80']);
  const shell = planContainer('agnhost', ['sh', '-c', 'echo hi'], undefined, applets);
  assert.deepEqual(shell.kind === 'process' && shell.argv, ['sh', '-c', 'echo hi']);
  assert.deepEqual(planContainer('busybox', undefined, undefined, applets), { kind: 'process', image: findBuiltinImage('busybox'), argv: ['busybox', 'sh'] });
  const bb = planContainer('busybox', ['/bin/sleep', '3600'], undefined, applets);
  assert.deepEqual(bb.kind === 'process' && bb.argv, ['busybox', 'sleep', '3600']);
  const bbArgs = planContainer('busybox', undefined, ['sh', '-c', 'wget -qO- x'], applets);
  assert.deepEqual(bbArgs.kind === 'process' && bbArgs.argv, ['busybox', 'sh', '-c', 'wget -qO- x']);
  const notApplet = planContainer('busybox', ['/usr/bin/python3'], undefined, applets);
  assert.deepEqual(notApplet.kind === 'process' && notApplet.argv, ['/usr/bin/python3']);
  assert.equal(planContainer('nginx:1.27', undefined, undefined, applets).kind, 'builtin');
  const dig = planContainer('tutum/dnsutils', undefined, ['sh'], applets);
  assert.deepEqual(dig.kind === 'process' && dig.argv, ['sh'], 'tools images run the machine programs, not busybox applets');
});

test('an unknown image is not built in and the message lists the images that are', () => {
  const plan = planContainer('redis:7', undefined, undefined, applets);
  assert.equal(plan.kind, 'invalid');
  assert.equal(plan.kind === 'invalid' && plan.reason, 'ImageNotBuiltIn');
  for (const name of ['agnhost', 'nginx', 'httpd', 'busybox', 'pause', 'flatnet/dns']) assert.match(plan.kind === 'invalid' ? plan.message : '', new RegExp(name));
  const bad = planContainer('Bad Image', undefined, undefined, applets);
  assert.equal(bad.kind === 'invalid' && bad.reason, 'InvalidImageName');
});

test('Go-style flags', () => {
  const { flags, positionals } = parseGoFlags(['--http-port=8080', '--udp-port', '-1', '-tcp', 'x:1', '--timeout', '2s'], ['tcp']);
  assert.deepEqual(flags.get('http-port'), ['8080']);
  assert.deepEqual(flags.get('tcp'), ['true']);
  assert.deepEqual(flags.get('timeout'), ['2s']);
  assert.deepEqual(positionals, ['x:1']);
  assert.deepEqual(flags.get('udp-port'), ['-1'], 'a non-boolean flag takes the next argument even when it starts with -');
});

test('flatnet/gateway runs this node with the built CLI\'s `gateway proxy`, the pod args after it', () => {
  const plan = planContainer('flatnet/gateway:dev', undefined, ['--gateway', 'ns/gw'], applets);
  assert.equal(plan.kind, 'process');
  const argv = plan.kind === 'process' ? plan.argv : [];
  assert.equal(argv[0], process.execPath);
  assert.match(argv[1], /\/dist\/src\/cli\/main\.js$/);
  assert.ok(existsSync(join(dirname(argv[1]), '../../../package.json')), `${argv[1]} is under the checkout that holds package.json`);
  assert.deepEqual(argv.slice(2), ['gateway', 'proxy', '--gateway', 'ns/gw']);
  const ingress = planContainer('flatnet/gateway', ['flatnet-gateway'], ['--ingress'], applets);
  assert.deepEqual(ingress.kind === 'process' && ingress.argv.slice(2), ['gateway', 'proxy', '--ingress']);
  const shell = planContainer('flatnet/gateway', ['sh', '-c', 'true'], undefined, applets);
  assert.deepEqual(shell.kind === 'process' && shell.argv, ['sh', '-c', 'true'], 'another command runs as written');
});

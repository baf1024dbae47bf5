// The built-in images served from this process on sockets inside a network namespace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { stopNetnsBrokers, connectInNetns } from '../../../src/linux/netns-socket.js';
import { httpGetInNetns, runAgnhost, udpRequestInNetns } from '../../../src/workloads/agnhost.js';
import { runHttpd, runNginx } from '../../../src/workloads/web-server.js';
import { WorkloadStartError, type RunningWorkload, type WorkloadContext } from '../../../src/workloads/workload.js';

const NETNS = 'flatnet-t-agent-wl';
const running: RunningWorkload[] = [];
let output = '';

before(() => {
  try {
    execFileSync('ip', ['netns', 'del', NETNS]);
  } catch {
    // absent
  }
  execFileSync('ip', ['netns', 'add', NETNS]);
  execFileSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
});

after(() => {
  for (const w of running) w.stop();
  stopNetnsBrokers();
  execFileSync('ip', ['netns', 'del', NETNS]);
});

function ctx(args: string[], extra: Partial<WorkloadContext> = {}): WorkloadContext {
  return {
    netns: NETNS,
    podIP: '127.0.0.1',
    hostname: 'wl-pod',
    namespace: 'default',
    podName: 'wl-pod',
    args,
    env: {},
    ports: [],
    stdout: (s) => (output += s),
    stderr: (s) => (output += s),
    ...extra,
  };
}

async function start(w: Promise<RunningWorkload>): Promise<RunningWorkload> {
  const r = await w;
  running.push(r);
  return r;
}

async function readAll(port: number): Promise<string> {
  const sock = await connectInNetns(NETNS, '127.0.0.1', port);
  return new Promise((resolve) => {
    let text = '';
    sock.on('data', (c: Buffer) => (text += c.toString()));
    sock.on('end', () => resolve(text));
    sock.resume();
  });
}

test('netexec: hostname, echo, clientip, shell, UDP, exit', async () => {
  const w = await start(runAgnhost(ctx(['netexec', '--http-port=8080', '--udp-port=8081'])));
  assert.equal(await httpGetInNetns(NETNS, '127.0.0.1', 8080, '/hostname', 3000), 'wl-pod');
  assert.equal(await httpGetInNetns(NETNS, '127.0.0.1', 8080, '/echo?msg=hi%20there', 3000), 'hi there');
  assert.match(await httpGetInNetns(NETNS, '127.0.0.1', 8080, '/clientip', 3000), /^127\.0\.0\.1:\d+$/);
  assert.deepEqual(JSON.parse(await httpGetInNetns(NETNS, '127.0.0.1', 8080, '/shell?cmd=echo%20from-shell', 5000)), { output: 'from-shell\n' });
  assert.equal(await udpRequestInNetns(NETNS, '127.0.0.1', 8081, 'hostname', 3000), 'wl-pod');
  assert.equal(await udpRequestInNetns(NETNS, '127.0.0.1', 8081, 'echo ping', 3000), 'ping');
  assert.equal(await udpRequestInNetns(NETNS, '127.0.0.1', 8081, 'clientip', 3000), '127.0.0.1');
  const dial = JSON.parse(await httpGetInNetns(NETNS, '127.0.0.1', 8080, '/dial?request=hostname&protocol=http&host=127.0.0.1&port=8080&tries=3', 5000)) as { responses: string[]; errors: string[] };
  assert.deepEqual(dial, { responses: ['wl-pod', 'wl-pod', 'wl-pod'], errors: [] });
  const refused = JSON.parse(await httpGetInNetns(NETNS, '127.0.0.1', 8080, '/dial?request=hostname&protocol=http&host=127.0.0.1&port=1&tries=1', 5000)) as { responses: string[]; errors: string[] };
  assert.equal(refused.responses.length, 0);
  assert.match(refused.errors[0], /ECONNREFUSED/);
  await httpGetInNetns(NETNS, '127.0.0.1', 8080, '/exit?code=3', 3000);
  assert.equal(await w.exited, 3);
  await assert.rejects(httpGetInNetns(NETNS, '127.0.0.1', 8080, '/hostname', 1000), /ECONNREFUSED/);
});

test('serve-hostname: HTTP by default, raw TCP with --tcp, UDP with --udp', async () => {
  await start(runAgnhost(ctx(['serve-hostname'])));
  assert.equal(await httpGetInNetns(NETNS, '127.0.0.1', 9376, '/anything', 3000), 'wl-pod');
  await start(runAgnhost(ctx(['serve-hostname', '--tcp', '--udp', '--http=false', '--port', '9377'])));
  assert.equal(await readAll(9377), 'wl-pod');
  assert.equal(await udpRequestInNetns(NETNS, '127.0.0.1', 9377, 'x', 3000), 'wl-pod');
});

test('porter serves SERVE_PORT_<n>', async () => {
  await start(runAgnhost(ctx(['porter'], { env: { SERVE_PORT_8090: 'foo', OTHER: 'x' } })));
  assert.equal(await httpGetInNetns(NETNS, '127.0.0.1', 8090, '/', 3000), 'foo');
});

test('nginx and httpd serve their pages on 80 and on declared container ports', async () => {
  const nginx = await start(runNginx(ctx([], { ports: [{ containerPort: 8082 }] })));
  assert.match(await httpGetInNetns(NETNS, '127.0.0.1', 80, '/', 3000), /<title>Welcome to nginx!<\/title>/);
  assert.match(await httpGetInNetns(NETNS, '127.0.0.1', 8082, '/index.html', 3000), /Welcome to nginx!/);
  await assert.rejects(httpGetInNetns(NETNS, '127.0.0.1', 8082, '/missing', 3000), /HTTP 404/);
  nginx.stop();
  assert.equal(await nginx.exited, 0);
  await start(runHttpd(ctx([], { ports: [{ containerPort: 8083 }] })));
  assert.match(await httpGetInNetns(NETNS, '127.0.0.1', 8083, '/', 3000), /It works!/);
  assert.match(output, /"GET \/index.html HTTP\/1.1" 200/);
});

test('an agnhost subcommand that is not built in fails with the list of those that are', async () => {
  await assert.rejects(runAgnhost(ctx(['liveness'])), (err: Error) => err instanceof WorkloadStartError && /netexec, serve-hostname, porter, pause, connect/.test(err.message));
});

// The lab router's BIRD configuration, checked by BIRD's own parser (`bird -p`), and its process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labRouterConfig, labRouterProcess } from '../../../src/lab/bgp-router.js';
import { requireTool } from '../../support/prerequisites.js';

test('the lab router config: BIRD parses it; one route-reflector client per node', () => {
  requireTool('bird', 'the Debian package bird2 (scripts/ensure-deps installs it)');
  const config = labRouterConfig([
    { name: 'node-1', ip: '172.18.0.11' },
    { name: 'node-2', ip: '172.18.0.12' },
  ]);
  assert.match(config, /protocol bgp node_1 from flatnet_node \{\n {2}neighbor 172\.18\.0\.11 as 64512;/);
  assert.match(config, /protocol bgp node_2 from flatnet_node \{\n {2}neighbor 172\.18\.0\.12 as 64512;/);
  assert.match(config, /rr client;/);
  assert.match(config, /gateway direct;/, 'next hops on the shared segment, not resolved through an IGP');
  const dir = mkdtempSync(join(tmpdir(), 'flatnet-bird-conf-'));
  try {
    writeFileSync(join(dir, 'bird.conf'), config, { mode: 0o600 });
    execFileSync('bird', ['-p', '-c', join(dir, 'bird.conf')], { stdio: 'pipe' }); // throws with BIRD's message on a syntax error
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(labRouterProcess('/d', '/d/logs'), { name: 'router', program: 'bird', args: ['-f', '-c', '/d/router/bird.conf', '-s', '/d/router/bird.ctl'], log: '/d/logs/router.log', netns: 'flatnet-lab' });
});

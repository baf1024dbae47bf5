import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failedLineOf, mergeable, showCount, splitMergedRun } from '../../../src/cni/ip-batch-coalescer.js';

const podA = ['link set dev cni0 up', 'link add vethA type veth peer name eth0 netns /run/netns/a', 'link show dev cni0', 'link show dev vethA'];
const podB = ['link set dev cni0 up', 'link add vethB type veth peer name eth0 netns /run/netns/b', 'link show dev cni0', 'link show dev vethB'];
const podC = ['link del vethC'];

test('only batches whose every line has a known output share a process', () => {
  assert.equal(mergeable(podA), true);
  assert.equal(mergeable(['netns add flatnet-pod-1', 'netns del flatnet-pod-2']), true);
  assert.equal(mergeable(['address replace 10.244.1.1/24 dev cni0', 'route replace 10.244.2.0/24 via 172.18.0.12']), true);
  assert.equal(mergeable(['monitor all']), false);
  assert.equal(mergeable(['link add x type bridge', 'netns exec p ip link']), false);
  assert.equal(showCount(podA), 2);
});

test('a merged run that succeeded answers each caller its own show lines', () => {
  const shown = [[{ ifname: 'cni0', address: 'a' }], [{ ifname: 'vethA' }], [{ ifname: 'cni0', address: 'a' }], [{ ifname: 'vethB' }]];
  const out = splitMergedRun([podA, podC, podB], shown, undefined, '');
  assert.deepEqual(out, [
    { kind: 'done', shown: [shown[0], shown[1]] },
    { kind: 'done', shown: [] },
    { kind: 'done', shown: [shown[2], shown[3]] },
  ]);
});

test('a failure fails its own caller with its own line number; earlier callers are done, later ones run again', () => {
  // Merged lines: podA 1-4, podC 5, podB 6-9. Line 7 (podB's veth) failed.
  const stderr = 'RTNETLINK answers: File exists\nCommand failed -:7\n';
  const shown = [[{ ifname: 'cni0' }], [{ ifname: 'vethA' }]];
  const out = splitMergedRun([podA, podC, podB, podC], shown, failedLineOf(stderr), stderr);
  assert.deepEqual(out[0], { kind: 'done', shown });
  assert.deepEqual(out[1], { kind: 'done', shown: [] });
  assert.equal(out[2].kind, 'failed');
  assert.equal(out[2].kind === 'failed' && out[2].failedLine, 2);
  assert.match(out[2].kind === 'failed' ? out[2].stderr : '', /Command failed -:2\b/);
  assert.match(out[2].kind === 'failed' ? out[2].stderr : '', /File exists/);
  assert.deepEqual(out[3], { kind: 'again' });
});

test("a failure at a caller's first line reads as a lone batch failing at line 1 (the bridge's missing-bridge check)", () => {
  const stderr = 'Cannot find device "cni0"\nCommand failed -:2\n';
  const out = splitMergedRun([podC, podA], [], failedLineOf(stderr), stderr);
  assert.deepEqual(out[0], { kind: 'done', shown: [] });
  assert.equal(out[1].kind, 'failed');
  assert.match(out[1].kind === 'failed' ? out[1].stderr : '', /Command failed -:1\b/);
});

test('failedLineOf reads the line ip stopped at', () => {
  assert.equal(failedLineOf('Error: ...\nCommand failed -:12\n'), 12);
  assert.equal(failedLineOf('Object "foo" is unknown'), undefined);
});

// flatnet's BGP speaker against a real FRR (zebra + bgpd) in its own network namespace: the
// session comes up, FRR's own CLI (vtysh) shows the prefix we announce with our next hop and
// zebra puts it in the namespace's kernel table, we learn the prefix FRR originates, a
// withdrawal reaches FRR, and FRR keeps our routes as stale while a killed speaker restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { BgpSpeaker } from '../../../src/overlay/bgp/speaker.js';
import type { BestChange } from '../../../src/overlay/bgp/rib.js';
import { connectInNetns, stopNetnsBrokers } from '../../../src/linux/netns-socket.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';
import { eventually } from '../../support/eventually.js';
import { addNetns, deleteNetns, FRR_DIR, linkNetns, startFrr, type Frr } from '../../support/routing-daemons.js';

const tag = `bf${process.pid % 100000}`;
const OURS = `${tag}-a`;
const FRRS = `${tag}-f`;
const OUR_IP = '172.31.251.1';
const FRR_IP = '172.31.251.2';

interface FrrPath {
  valid?: boolean;
  bestpath?: { overall?: boolean };
  stale?: boolean;
  aspath?: { string?: string };
  nexthops?: { ip: string }[];
}

test('BGP sessions with FRR: routes both ways, withdrawal, graceful restart', async (t) => {
  requireRoot('network namespaces');
  requireTool(join(FRR_DIR, 'bgpd'), 'the Debian package frr (scripts/ensure-deps installs it)');
  requireTool('vtysh', 'the Debian package frr (scripts/ensure-deps installs it)');
  const running: { frr?: Frr } = {};
  const speakers: BgpSpeaker[] = [];
  t.after(async () => {
    for (const s of speakers) s.stop();
    await running.frr?.stop();
    stopNetnsBrokers();
    for (const ns of [OURS, FRRS]) deleteNetns(ns);
  });
  addNetns(OURS);
  addNetns(FRRS);
  linkNetns({ netns: OURS, dev: `${tag}a`, ip: OUR_IP }, { netns: FRRS, dev: `${tag}f`, ip: FRR_IP });
  const frr = await startFrr(
    FRRS,
    `frr defaults datacenter
hostname ${FRRS}
router bgp 64514
 bgp router-id ${FRR_IP}
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 bgp graceful-restart restart-time 60
 neighbor ${OUR_IP} remote-as 64512
 address-family ipv4 unicast
  network 10.98.0.0/24
 exit-address-family
`,
    tag,
  );
  running.frr = frr;
  const paths = (prefix: string): FrrPath[] => {
    const shown = JSON.parse(frr.vtysh(`show ip bgp ${prefix} json`)) as { paths?: FrrPath[] };
    return shown.paths ?? [];
  };
  const kernelRoute = (prefix: string) => execFileSync('ip', ['-n', FRRS, 'route', 'show', prefix], { encoding: 'utf8' });

  const learned = new Map<string, string>();
  const start = (restarting: boolean) => {
    const s = new BgpSpeaker({ asn: 64512, routerId: OUR_IP, restarting, connectRetryMs: 500, connect: (host, port) => connectInNetns(OURS, host, port, 2000) });
    s.on('routes', (changes: BestChange[]) => {
      for (const c of changes) {
        if (c.route) learned.set(c.prefix, c.route.attributes.nextHop);
        else learned.delete(c.prefix);
      }
    });
    s.addPeer({ address: FRR_IP, asn: 64514 });
    speakers.push(s);
    return s;
  };

  const speaker = start(false);
  speaker.announce(['10.244.1.0/24'], OUR_IP);
  await eventually('session Established', () => speaker.status()[0].state === 'Established' || undefined);

  await t.test('FRR shows our prefix with our next hop; zebra installs it; we learn FRR’s', async () => {
    const table = await eventually('10.244.1.0/24 in show ip bgp', () => {
      const out = frr.vtysh('show ip bgp');
      return out.includes('10.244.1.0/24') ? out : undefined;
    });
    assert.match(table, /10\.244\.1\.0\/24\s+172\.31\.251\.1\b.*\b64512 i/);
    // The path shows in the table a moment before FRR's best-path run marks it.
    const best = await eventually('10.244.1.0/24 selected as best', () => {
      const [p] = paths('10.244.1.0/24');
      return p?.bestpath?.overall ? p : undefined;
    });
    assert.equal(best.valid, true);
    assert.equal(best.bestpath?.overall, true);
    assert.equal(best.aspath?.string, '64512');
    assert.deepEqual(best.nexthops?.map((n) => n.ip), [OUR_IP]);
    assert.match(await eventually('the route in the kernel', () => kernelRoute('10.244.1.0/24') || undefined), /via 172\.31\.251\.1 .*proto bgp/);
    assert.equal(await eventually('10.98.0.0/24 learned', () => learned.get('10.98.0.0/24')), FRR_IP);
    const summary = JSON.parse(frr.vtysh('show ip bgp summary json')) as { ipv4Unicast: { peers: Record<string, { state: string; pfxRcd: number; pfxSnt: number }> } };
    const peer = summary.ipv4Unicast.peers[OUR_IP];
    // FRR does no sender-side loop check, so it also sends our own prefix back (2 sent); our
    // speaker must drop it (AS path holds our ASN) and keep only FRR's.
    assert.deepEqual([peer.state, peer.pfxRcd, peer.pfxSnt], ['Established', 1, 2]);
    assert.equal(learned.has('10.244.1.0/24'), false);
    const st = speaker.status()[0];
    assert.deepEqual([st.state, st.prefixesReceived, st.prefixesSent], ['Established', 1, 1]);
  });

  await t.test('a withdrawal and a new announcement reach FRR', async () => {
    speaker.announce(['10.244.7.0/24'], OUR_IP);
    speaker.withdraw(['10.244.1.0/24']);
    await eventually('10.244.7.0/24 in FRR', () => paths('10.244.7.0/24').some((p) => p.bestpath?.overall && p.nexthops?.[0]?.ip === OUR_IP) || undefined);
    await eventually('10.244.1.0/24 gone from FRR', () => paths('10.244.1.0/24').length === 0 || undefined);
    await eventually('10.244.1.0/24 gone from the kernel', () => kernelRoute('10.244.1.0/24') === '' || undefined);
  });

  await t.test('graceful restart: FRR keeps a killed speaker’s route as stale until it returns; a Cease withdraws it', async () => {
    speaker.stop();
    await eventually('FRR withdraws after our Cease', () => paths('10.244.7.0/24').length === 0 || undefined);
    // A speaker in its own process, killed the way an agent crashes: no NOTIFICATION.
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'bgp-speaker-process.ts'), OURS, '64512', OUR_IP, FRR_IP, '64514', '10.244.7.0/24'], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    let childOut = '';
    child.stdout!.on('data', (d: Buffer) => (childOut += d.toString()));
    await eventually('the child speaker is established', () => childOut.includes('established') || undefined);
    await eventually('10.244.7.0/24 in FRR from the child', () => paths('10.244.7.0/24').some((p) => p.bestpath?.overall && !p.stale) || undefined);
    child.kill('SIGKILL');
    await eventually('FRR notices the drop', () => {
      const summary = JSON.parse(frr.vtysh('show ip bgp summary json')) as { ipv4Unicast: { peers: Record<string, { state: string }> } };
      return summary.ipv4Unicast.peers[OUR_IP].state !== 'Established' || undefined;
    });
    const kept = paths('10.244.7.0/24');
    assert.equal(kept.length, 1, 'FRR keeps the route while we restart');
    assert.equal(kept[0].stale, true);
    const again = start(true);
    again.announce(['10.244.7.0/24'], OUR_IP);
    await eventually('session Established again', () => again.status()[0].state === 'Established' || undefined);
    await eventually('the route is fresh again after End-of-RIB', () => paths('10.244.7.0/24').some((p) => p.bestpath?.overall && !p.stale && p.nexthops?.[0]?.ip === OUR_IP) || undefined);
    again.stop();
    await eventually('10.244.7.0/24 withdrawn after a Cease', () => paths('10.244.7.0/24').length === 0 || undefined);
  });
});

// flatnet's BGP speaker against a real BIRD 2 in its own network namespace: the session comes up,
// BIRD's own CLI shows the prefix we announce, we learn BIRD's, a withdrawal reaches BIRD, and
// graceful restart works both ways: when our connection drops without a NOTIFICATION, BIRD keeps
// our route (stale) until we come back and send End-of-RIB; a Cease makes it withdraw at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BgpSpeaker } from '../../../src/overlay/bgp/speaker.js';
import type { BestChange } from '../../../src/overlay/bgp/rib.js';
import { connectInNetns, stopNetnsBrokers } from '../../../src/linux/netns-socket.js';
import { requireRoot, requireTool } from '../../support/prerequisites.js';
import { eventually } from '../../support/eventually.js';
import { addNetns, deleteNetns, linkNetns, startBird, type Bird } from '../../support/routing-daemons.js';

const tag = `bg${process.pid % 100000}`;
const OURS = `${tag}-a`;
const BIRDS = `${tag}-b`;
const OUR_IP = '172.31.250.1';
const BIRD_IP = '172.31.250.2';

test('BGP sessions with BIRD: routes both ways, withdrawal, graceful restart', async (t) => {
  requireRoot('network namespaces');
  requireTool('bird', 'the Debian package bird2 (scripts/ensure-deps installs it)');
  const running: { bird?: Bird } = {};
  const speakers: BgpSpeaker[] = [];
  t.after(async () => {
    for (const s of speakers) s.stop();
    await running.bird?.stop();
    stopNetnsBrokers();
    for (const ns of [OURS, BIRDS]) deleteNetns(ns);
  });
  addNetns(OURS);
  addNetns(BIRDS);
  linkNetns({ netns: OURS, dev: `${tag}a`, ip: OUR_IP }, { netns: BIRDS, dev: `${tag}b`, ip: BIRD_IP });
  const bird = await startBird(
    BIRDS,
    `router id ${BIRD_IP};
protocol device {}
protocol static {
  ipv4;
  route 10.99.0.0/24 blackhole;
}
protocol bgp node1 {
  local ${BIRD_IP} as 64513;
  neighbor ${OUR_IP} as 64512;
  graceful restart on;
  graceful restart time 60;
  ipv4 { import all; export all; };
}
`,
    tag,
  );
  running.bird = bird;
  const birdc = bird.birdc;

  const learned = new Map<string, string>();
  const start = (restarting: boolean) => {
    const s = new BgpSpeaker({ asn: 64512, routerId: OUR_IP, restarting, connectRetryMs: 500, connect: (host, port) => connectInNetns(OURS, host, port, 2000) });
    s.on('routes', (changes: BestChange[]) => {
      for (const c of changes) {
        if (c.route) learned.set(c.prefix, c.route.attributes.nextHop);
        else learned.delete(c.prefix);
      }
    });
    s.addPeer({ address: BIRD_IP, asn: 64513 });
    speakers.push(s);
    return s;
  };
  // birdc exits non-zero with "Network not found" when BIRD has no route: that is an answer too.
  const route = (prefix: string) => {
    try {
      return birdc('show', 'route', 'for', prefix, 'all');
    } catch (err) {
      const out = String((err as { stdout?: string }).stdout ?? '');
      if (out.includes('Network not found')) return out;
      throw err;
    }
  };

  const speaker = start(false);
  speaker.announce(['10.244.1.0/24'], OUR_IP);
  await eventually('session Established', () => speaker.status()[0].state === 'Established' || undefined);
  await t.test('BIRD shows our prefix; we learn BIRD’s', async () => {
    const shown = await eventually('10.244.1.0/24 in BIRD', () => (route('10.244.1.0/24').includes(`via ${OUR_IP}`) ? route('10.244.1.0/24') : undefined));
    assert.match(shown, /BGP\.as_path: 64512/);
    assert.equal(await eventually('10.99.0.0/24 learned', () => learned.get('10.99.0.0/24')), BIRD_IP);
    assert.match(birdc('show', 'protocols', 'all', 'node1'), /Established/);
    const st = speaker.status()[0];
    assert.deepEqual([st.state, st.prefixesReceived, st.prefixesSent], ['Established', 1, 1]);
  });

  await t.test('a withdrawal and a new announcement reach BIRD', async () => {
    speaker.announce(['10.244.7.0/24'], OUR_IP);
    speaker.withdraw(['10.244.1.0/24']);
    await eventually('10.244.7.0/24 in BIRD', () => route('10.244.7.0/24').includes(`via ${OUR_IP}`) || undefined);
    await eventually('10.244.1.0/24 gone from BIRD', () => !route('10.244.1.0/24').includes('10.244.1.0/24') || undefined);
  });

  await t.test('graceful restart: a killed speaker’s route stays until it returns; a Cease withdraws it', async () => {
    speaker.stop();
    await eventually('BIRD withdraws after our Cease', () => route('10.244.7.0/24').includes('Network not found') || undefined);
    // A speaker in its own process, killed the way an agent crashes: no NOTIFICATION.
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'bgp-speaker-process.ts'), OURS, '64512', OUR_IP, BIRD_IP, '64513', '10.244.7.0/24'], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    await eventually('the child speaker is established', () => new Promise<boolean | undefined>((resolve) => {
      child.stdout!.once('data', (d: Buffer) => resolve(d.toString().includes('established') || undefined));
      setTimeout(() => resolve(undefined), 1000);
    }));
    await eventually('10.244.7.0/24 in BIRD from the child', () => route('10.244.7.0/24').includes(`via ${OUR_IP}`) || undefined);
    child.kill('SIGKILL');
    await eventually('BIRD notices the drop', () => !/Established/.test(birdc('show', 'protocols', 'node1')) || undefined);
    assert.match(route('10.244.7.0/24'), /via 172\.31\.250\.1/, 'BIRD keeps the route while we restart');
    const again = start(true);
    again.announce(['10.244.7.0/24'], OUR_IP);
    await eventually('session Established again', () => again.status()[0].state === 'Established' || undefined);
    await eventually('the route is fresh again after End-of-RIB', () => (!/stale/i.test(route('10.244.7.0/24')) && route('10.244.7.0/24').includes(`via ${OUR_IP}`)) || undefined);
    again.stop();
    await eventually('10.244.7.0/24 withdrawn after a Cease', () => route('10.244.7.0/24').includes('Network not found') || undefined);
  });
});
